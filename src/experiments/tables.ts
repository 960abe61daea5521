/**
 * Result tables over the tidy MetricRow results (METHOD §7), built with arquero:
 * mean ± sample std over seeds, relative AUROC drop between contamination
 * levels (Fig. 5), relative gain over k = 0 shots (Fig. 6), and the paper's
 * per-class tables (Tables 1-2) and cue ablation. Every function takes and
 * returns an arquero ColumnTable; `rowsOf` turns one into plain objects.
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { writeFileAtomic } from '../util/atomic.ts';
import { parseRows } from './sweep-results.ts';
import { CUE_AUROC_METRICS, KNOWN_METHODS, MetricRowSchema, type MetricRowInput } from './results-schema.ts';

const { op } = aq;

/** The tidy columns, in the order tables and CSV files show them. */
export const RESULT_COLUMNS = ['category', 'method', 'backbone', 'ratio', 'shots', 'seed', 'alpha', 'lambda', 'fusion', 'metric', 'value'] as const;
/** What a sweep varies besides method and category. */
export const SETTING_KEYS = ['backbone', 'ratio', 'shots', 'alpha', 'lambda', 'fusion'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
/** Everything that identifies a condition: a cell without its seed. */
export const CONDITION_KEYS = ['method', 'category', ...SETTING_KEYS] as const;
/** The category name of the rows that average over categories. */
export const MEAN_CATEGORY = 'mean';

type Row = Record<string, unknown>;
type Key = string;

/** Validated MetricRows as an arquero table with exactly RESULT_COLUMNS. */
export function resultsTable(rows: MetricRowInput[]): ColumnTable {
  const parsed = parseRows(MetricRowSchema, rows, '(results rows passed to resultsTable)');
  return aq.table(Object.fromEntries(RESULT_COLUMNS.map((c) => [c, parsed.map((r) => r[c])])));
}

/** A table's rows as plain objects (undefined cells become null). */
export function rowsOf<T = Row>(table: ColumnTable): T[] {
  return (table.objects() as Row[]).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === undefined ? null : v])) as T);
}

/** Rows for which `predicate` holds (a plain JS predicate, not an arquero expression). */
export function filterRows(table: ColumnTable, predicate: (row: Row) => boolean): ColumnTable {
  return table.filter(aq.escape((d: Row) => predicate(d)));
}

/** Rows whose columns equal the given values (null matches null). */
export function whereEquals(table: ColumnTable, values: Partial<Record<string, unknown>>): ColumnTable {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return table;
  return filterRows(table, (d) => entries.every(([k, v]) => sameValue(d[k], v)));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  return a === b;
}

/**
 * Mean, sample standard deviation (n − 1) and count of `metric` over the rows
 * sharing the `by` columns; usually `by` is every key but seed, so the
 * statistics run over seeds. std is null when n < 2. With metric null every
 * metric is kept (and "metric" is added to `by`).
 */
export function meanStd(table: ColumnTable, by: readonly Key[], metric: string | null): ColumnTable {
  const keys = metric === null && !by.includes('metric') ? [...by, 'metric'] : [...by];
  const rows = filterRows(table, (d) => (metric === null || d.metric === metric) && typeof d.value === 'number');
  if (rows.numRows() === 0) return aq.table(Object.fromEntries([...keys, 'mean', 'std', 'n'].map((c) => [c, []])));
  return rows
    .groupby(...keys)
    .rollup({ mean: op.mean('value'), std: op.stdev('value'), n: op.count() })
    .derive({ std: aq.escape((d: Row) => ((d.n as number) > 1 && Number.isFinite(d.std) ? d.std : null)) })
    .orderby(...keys);
}

/** Mean ± std over seeds of every metric and condition (the sweep's summary table). */
export function seedSummary(table: ColumnTable): ColumnTable {
  return meanStd(table, [...CONDITION_KEYS, 'metric'], null);
}

/**
 * Adds rows with category MEAN_CATEGORY: per method, setting, seed and metric
 * the mean over categories. The paper's "mean" rows and curves are these, so
 * their std is over seeds of the category mean. A seed that lacks some of the
 * categories the other seeds have gets no mean row (it would not be comparable).
 */
export function withCategoryMean(table: ColumnTable): ColumnTable {
  const real = filterRows(table, (d) => d.category !== MEAN_CATEGORY && typeof d.value === 'number');
  if (real.numRows() === 0) return table;
  const groupKeys = ['method', ...SETTING_KEYS, 'metric'];
  const keyed = real.derive({ group_key: aq.escape((d: Row) => JSON.stringify(groupKeys.map((k) => d[k] ?? null))) });
  const expected = keyed.groupby('group_key').rollup({ expected: op.distinct('category') });
  const means = keyed
    .groupby('group_key', 'method', ...SETTING_KEYS, 'seed', 'metric')
    .rollup({ value: op.mean('value'), categories: op.distinct('category') })
    .lookup(expected, 'group_key', 'expected')
    .filter(aq.escape((d: Row) => d.categories === d.expected))
    .derive({ category: aq.escape(() => MEAN_CATEGORY) })
    .select(...RESULT_COLUMNS);
  return filterRows(table, (d) => d.category !== MEAN_CATEGORY).select(...RESULT_COLUMNS).concat(means);
}

/** A contamination ratio as a percent label: 0.05 → "5%", 0.125 → "12.5%". */
export function percentLabel(ratio: number): string {
  return `${Number((ratio * 100).toFixed(1))}%`;
}

/** "0.957 ± 0.004" (or "0.957" without a std). */
export function formatMeanStd(mean: number | null, std: number | null, digits = 3): string {
  if (mean === null || !Number.isFinite(mean)) return '';
  return std === null || !Number.isFinite(std) ? mean.toFixed(digits) : `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

/**
 * Relative drop of a metric between consecutive contamination levels (METHOD
 * §7, Fig. 5): (value_prev − value_next) / value_prev on the seed means, per
 * method, category and the other setting keys. One row per transition.
 */
export function relativeDrop(table: ColumnTable, opts: { metric?: string } = {}): ColumnTable {
  const metric = opts.metric ?? 'image_auroc';
  const groupKeys = CONDITION_KEYS.filter((k) => k !== 'ratio');
  const means = meanStd(table, [...groupKeys, 'ratio'], metric);
  const columns = [...groupKeys, 'metric', 'transition', 'ratio_from', 'ratio_to', 'value_from', 'value_to', 'relative_drop'];
  if (means.numRows() === 0) return aq.table(Object.fromEntries(columns.map((c) => [c, []])));
  return means
    .groupby(...groupKeys)
    .orderby('ratio')
    .derive({ ratio_from: op.lag('ratio'), value_from: op.lag('mean') })
    .ungroup()
    .filter(aq.escape((d: Row) => typeof d.ratio_from === 'number' && typeof d.value_from === 'number' && d.value_from !== 0))
    .derive({
      metric: aq.escape(() => metric),
      ratio_to: aq.escape((d: Row) => d.ratio),
      value_to: aq.escape((d: Row) => d.mean),
      transition: aq.escape((d: Row) => `${percentLabel(d.ratio_from as number)}→${percentLabel(d.ratio as number)}`),
      relative_drop: aq.escape((d: Row) => ((d.value_from as number) - (d.mean as number)) / (d.value_from as number)),
    })
    .select(...columns)
    .orderby(...groupKeys, 'ratio_from');
}

/**
 * Relative gain of a metric over the zero-shot model (METHOD §7, Fig. 6):
 * (value_k − value_0) / value_0 on the seed means, per method, category and
 * the other setting keys; null where the group has no k = 0 result.
 */
export function relativeGainOverZeroShots(table: ColumnTable, opts: { metric?: string } = {}): ColumnTable {
  const metric = opts.metric ?? 'image_auroc';
  const groupKeys = CONDITION_KEYS.filter((k) => k !== 'shots');
  const means = meanStd(table, [...groupKeys, 'shots'], metric);
  const columns = [...groupKeys, 'metric', 'shots', 'mean', 'std', 'n', 'value_zero', 'relative_gain'];
  if (means.numRows() === 0) return aq.table(Object.fromEntries(columns.map((c) => [c, []])));
  const groupKey = aq.escape((d: Row) => JSON.stringify(groupKeys.map((k) => d[k] ?? null)));
  const keyed = means.derive({ group_key: groupKey });
  const zero = filterRows(keyed, (d) => d.shots === 0).select('group_key', 'mean').rename({ mean: 'value_zero' });
  return keyed
    .lookup(zero, 'group_key', 'value_zero')
    .derive({
      metric: aq.escape(() => metric),
      value_zero: aq.escape((d: Row) => (typeof d.value_zero === 'number' ? d.value_zero : null)),
      relative_gain: aq.escape((d: Row) =>
        typeof d.value_zero === 'number' && d.value_zero !== 0 ? ((d.mean as number) - d.value_zero) / d.value_zero : null,
      ),
    })
    .select(...columns)
    .orderby(...groupKeys, 'shots');
}

/** Known methods in paper order, then the rest alphabetically. */
export function orderMethods(methods: Iterable<string>): string[] {
  const known = KNOWN_METHODS as readonly string[];
  return [...new Set(methods)].sort((a, b) => {
    const ia = known.indexOf(a);
    const ib = known.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
    return a.localeCompare(b);
  });
}

/** Categories alphabetically with MEAN_CATEGORY last. */
export function orderCategories(categories: Iterable<string>): string[] {
  const unique = [...new Set(categories)];
  return [...unique.filter((c) => c !== MEAN_CATEGORY).sort(), ...unique.filter((c) => c === MEAN_CATEGORY)];
}

/**
 * Throws when a (category, method, seed) has more than one row: the caller
 * forgot to fix a setting key (see selectSetting). Names the varying key.
 */
function assertOneRowPerSeed(table: ColumnTable, columnKey: Key, context: string): void {
  const seen = new Map<string, Row>();
  for (const row of rowsOf(table)) {
    const id = JSON.stringify([row.category, row[columnKey], row.seed]);
    const first = seen.get(id);
    if (!first) {
      seen.set(id, row);
      continue;
    }
    const varying = [...SETTING_KEYS, 'method', 'metric'].filter((k) => k !== columnKey && !sameValue(first[k], row[k]));
    throw new Error(
      `${context}: ${String(row.category)}/${String(row[columnKey])}/seed ${String(row.seed)} has several rows` +
        (varying.length ? ` (they differ in ${varying.map((k) => `${k}: ${String(first[k])} vs ${String(row[k])}`).join(', ')})` : ' (duplicates)') +
        '; fix those keys with `where` or selectSetting first',
    );
  }
}

/**
 * A categories × `columnKey` grid of "mean ± std" strings over seeds (null
 * where not run), with a final MEAN_CATEGORY row (the mean over categories,
 * std over seeds).
 */
function meanStdGrid(table: ColumnTable, columnKey: Key, columnOrder: string[], digits: number): ColumnTable {
  const stats = rowsOf<{ category: string; mean: number; std: number | null } & Row>(
    meanStd(withCategoryMean(table), ['category', columnKey], null),
  );
  const categories = orderCategories(stats.map((s) => s.category));
  const cells = new Map(stats.map((s) => [JSON.stringify([s.category, s[columnKey]]), formatMeanStd(s.mean, s.std, digits)]));
  // null = not run (an empty CSV cell).
  const columns: Record<string, (string | null)[]> = { category: categories };
  for (const column of columnOrder) {
    columns[column] = categories.map((category) => cells.get(JSON.stringify([category, column])) ?? null);
  }
  return aq.table(columns);
}

export interface PerClassOptions {
  /** Contamination ratio of the table (fraction). */
  ratio: number;
  /** Fix further setting keys (e.g. { shots: 10 }). */
  where?: Partial<Record<SettingKey, unknown>>;
  /** Column order; default KNOWN_METHODS order, then the rest. */
  methods?: string[];
  digits?: number;
}

/**
 * The paper's Table 1/2: rows = categories and "mean", columns = methods,
 * cells "0.957 ± 0.004" (mean ± sample std over seeds) for one metric at one
 * contamination ratio. Throws if a setting other than seed still varies.
 */
export function perClassTable(table: ColumnTable, metric: string, opts: PerClassOptions): ColumnTable {
  const rows = whereEquals(filterRows(table, (d) => d.metric === metric && d.category !== MEAN_CATEGORY), { ratio: opts.ratio, ...opts.where });
  assertOneRowPerSeed(rows, 'method', `perClassTable(${metric}, ratio ${opts.ratio})`);
  const methods = opts.methods ?? orderMethods(rowsOf(rows).map((r) => r.method as string));
  return meanStdGrid(rows, 'method', methods, opts.digits ?? 3);
}

/**
 * The single-cue ablation (METHOD §7): rows = categories and "mean", columns =
 * each cue's image AUROC and the fused score's, for one method and ratio.
 */
export function ablationTable(
  table: ColumnTable,
  opts: { ratio: number; method?: string; metrics?: readonly string[]; where?: Partial<Record<SettingKey, unknown>>; digits?: number },
): ColumnTable {
  const metrics = opts.metrics ?? CUE_AUROC_METRICS;
  const rows = whereEquals(
    filterRows(table, (d) => metrics.includes(d.metric as string) && d.category !== MEAN_CATEGORY),
    { method: opts.method ?? 'multicue', ratio: opts.ratio, ...opts.where },
  );
  assertOneRowPerSeed(rows, 'metric', `ablationTable(ratio ${opts.ratio})`);
  const present = new Set(rowsOf(rows).map((r) => r.metric as string));
  return meanStdGrid(rows, 'metric', metrics.filter((m) => present.has(m)), opts.digits ?? 3);
}

/** Write a table as CSV (header row, RFC 4180 quoting), atomically. */
export async function writeTableCsv(table: ColumnTable, path: string): Promise<void> {
  await writeFileAtomic(path, aq.toCSV(table));
}

/** Write a table as a JSON array of row objects, atomically. */
export async function writeTableJson(table: ColumnTable, path: string): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(rowsOf(table), null, 1) + '\n');
}

/** Read a CSV written by writeTableCsv (numbers parsed, empty cells null). */
export function readTableCsv(text: string): ColumnTable {
  return aq.fromCSV(text);
}
