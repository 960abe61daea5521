/**
 * RESULTS.md from sweep output only: per sweep (dataset), image AUROC, image
 * AUPRC and pixel AUROC as mean ± sample std over seeds for every method at
 * every contamination ratio, the single-cue ablation of multicue, the pixel
 * AUROC of each of its maps, the backbone and the versions the runs recorded,
 * and the commands that regenerate the file. Deterministic: no dates, every
 * list sorted, so the same sweep files give the same bytes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ColumnTable } from 'arquero';
import type { RunMetricsFile } from '../pipeline/run-dir.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { cellIdOf, CUE_AUROC_METRICS, type MetricRow } from './results-schema.ts';
import { selectSetting, type Setting } from './settings.ts';
import { SWEEP_FILE, sweepRunsDir } from './sweep-files.ts';
import { readSweepResults } from './sweep-results.ts';
import {
  ablationTable,
  filterRows,
  meanStd,
  MEAN_CATEGORY,
  orderCategories,
  orderMethods,
  percentLabel,
  perClassTable,
  resultsTable,
  rowsOf,
  withCategoryMean,
} from './tables.ts';

export interface ResultsMarkdownOptions {
  /** Sweep folders, as the user typed them (they appear in the regenerate command). */
  sweeps: string[];
  /** The output path as typed (it appears in the regenerate command). */
  out: string;
  digits?: number;
}

/** The headline metrics, in table order. */
const MAIN_METRICS: ReadonlyArray<{ metric: string; title: string }> = [
  { metric: 'image_auroc', title: 'Image AUROC' },
  { metric: 'image_ap', title: 'Image AUPRC (average precision)' },
  { metric: 'pixel_auroc', title: "Pixel AUROC (each method's own map)" },
];
const CUE_TITLES: Record<string, string> = {
  auroc_deviation: 'deviation',
  auroc_uncertainty: 'uncertainty',
  auroc_segmentation: 'segmentation',
  image_auroc: 'fused',
};
const MAP_METRICS: Record<string, string> = {
  pixel_auroc_grad: 'gradient map',
  pixel_auroc_seg: 'segmentation S(x)',
  pixel_auroc_product: 'gradient × segmentation',
};
const METHOD_NAMES: Record<string, string> = { multicue: 'multicue', adl: 'ADL', patchcore: 'PatchCore', padim: 'PaDiM' };
const FEWER_SEEDS = '†';

interface SweepRecord {
  description: string | null;
  setup: string[];
  command: string | null;
}

interface RunRecord {
  method: string;
  backbone: RunMetricsFile['backbone'];
  environment: RunMetricsFile['environment'];
  /** The experiment's gradientMaps setting (multicue/ADL runs), null when unknown. */
  gradientMaps: string | null;
}

function readSweepRecord(dir: string): SweepRecord {
  const path = join(dir, SWEEP_FILE);
  if (!existsSync(path)) return { description: null, setup: [], command: null };
  const json = JSON.parse(readFileSync(path, 'utf8')) as Partial<SweepRecord>;
  return { description: json.description ?? null, setup: json.setup ?? [], command: json.command ?? null };
}

/** backbone and environment of every finished run under <sweep>/runs/<category>/<cell>/. */
function readRunRecords(dir: string): RunRecord[] {
  const runs = sweepRunsDir(dir);
  if (!existsSync(runs)) return [];
  const records: RunRecord[] = [];
  for (const category of readdirSync(runs).sort()) {
    const categoryDir = join(runs, category);
    let cells: string[];
    try {
      cells = readdirSync(categoryDir).sort();
    } catch {
      continue;
    }
    for (const cell of cells) {
      const path = join(categoryDir, cell, 'metrics.json');
      if (!existsSync(path)) continue;
      const metrics = JSON.parse(readFileSync(path, 'utf8')) as RunMetricsFile;
      const experimentPath = join(categoryDir, cell, 'experiment.json');
      const experiment = existsSync(experimentPath) ? (JSON.parse(readFileSync(experimentPath, 'utf8')) as { gradientMaps?: unknown }) : {};
      records.push({
        method: metrics.method,
        backbone: metrics.backbone,
        environment: metrics.environment,
        gradientMaps: experiment.gradientMaps === undefined ? null : String(experiment.gradientMaps),
      });
    }
  }
  return records;
}

function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function methodName(method: string): string {
  return METHOD_NAMES[method] ?? method;
}

function settingText(setting: Setting): string {
  const parts: string[] = [];
  if (setting.shots !== undefined) parts.push(`k = ${String(setting.shots)}`);
  if (setting.alpha !== undefined && setting.alpha !== null) parts.push(`α = ${String(setting.alpha)}`);
  if (setting.lambda !== undefined && setting.lambda !== null) parts.push(`λ = ${String(setting.lambda)}`);
  if (setting.fusion !== undefined && setting.fusion !== null) parts.push(`fusion ${String(setting.fusion)}`);
  if (setting.backbone !== undefined) parts.push(`backbone ${String(setting.backbone)}`);
  return parts.join(', ');
}

/** The single value of `key` among rows, or a list when several remain. */
function valuesOf(rows: Record<string, unknown>[], key: string): string {
  return uniqueSorted(rows.map((r) => (r[key] === null || r[key] === undefined ? '–' : String(r[key])))).join(', ');
}

/** The category row the per-sweep tables show: the only category, or the mean over categories. */
function shownCategory(categories: string[]): string {
  return categories.length === 1 ? categories[0] : MEAN_CATEGORY;
}

/** Seeds behind each (category, method, ratio) of a metric, to mark cells with fewer than the rest. */
function seedCounts(table: ColumnTable, metric: string): Map<string, number> {
  const counts = rowsOf<{ category: string; method: string; ratio: number; n: number }>(
    meanStd(withCategoryMean(table), ['category', 'method', 'ratio'], metric),
  );
  return new Map(counts.map((c) => [JSON.stringify([c.category, c.method, c.ratio]), c.n]));
}

function mainTable(table: ColumnTable, metric: string, category: string, methods: string[], ratios: number[], digits: number): string | null {
  const rows = filterRows(table, (d) => d.metric === metric);
  if (rows.numRows() === 0) return null;
  const counts = seedCounts(rows, metric);
  const maxN = Math.max(...counts.values());
  const grids = ratios.map((ratio) => rowsOf(perClassTable(rows, metric, { ratio, methods, digits })).find((r) => r.category === category) ?? null);
  const body = methods
    .map((method) =>
      ratios.map((ratio, i) => {
        const value = grids[i]?.[method];
        if (typeof value !== 'string' || value === '') return '–';
        const n = counts.get(JSON.stringify([category, method, ratio])) ?? maxN;
        return n < maxN ? `${value} ${FEWER_SEEDS}` : value;
      }),
    )
    .map((cells, i) => [methodName(methods[i]), ...cells]);
  if (body.every((r) => r.slice(1).every((c) => c === '–'))) return null;
  return markdownTable(['method', ...ratios.map(percentLabel)], body);
}

/** Rows = ratios, columns = the given metrics of one method (ablation, maps). */
function metricsByRatio(
  table: ColumnTable,
  method: string,
  metrics: readonly string[],
  titles: Record<string, string>,
  category: string,
  ratios: number[],
  setting: Setting,
  digits: number,
): string | null {
  const own = filterRows(table, (d) => d.method === method && metrics.includes(d.metric as string));
  const present = metrics.filter((m) => rowsOf(own).some((r) => r.metric === m && typeof r.value === 'number'));
  if (present.length < 2) return null;
  const body = ratios.map((ratio) => {
    const grid = rowsOf(ablationTable(own, { ratio, method, metrics: present, where: setting, digits })).find((r) => r.category === category);
    return [percentLabel(ratio), ...present.map((m) => (typeof grid?.[m] === 'string' && grid[m] !== '' ? (grid[m] as string) : '–'))];
  });
  return markdownTable(['contamination', ...present.map((m) => titles[m] ?? m)], body);
}

/** Which test images got gradient maps, when not all did (their pixel AUROC covers only those). */
function gradientMapNote(runs: readonly RunRecord[]): string | null {
  const limits = uniqueSorted(runs.filter((r) => (r.method === 'multicue' || r.method === 'adl') && r.gradientMaps !== null).map((r) => r.gradientMaps!));
  if (limits.length === 0 || (limits.length === 1 && limits[0] === 'all')) return null;
  if (limits.length === 1 && limits[0] === 'none') return 'multicue/ADL computed no gradient maps (gradientMaps "none"): their pixel AUROC is that of S(x) where reported.';
  return (
    `multicue/ADL gradient maps, and so the gradient and gradient × segmentation pixel AUROC, cover ${limits.join(' / ')} test images per cell ` +
    "(masked anomalies and nominal images, half each): **not comparable** with maps over every test image. " +
    "Compare the baselines with S(x) (the segmentation map), which covers every test image."
  );
}

function sweepSection(dir: string, metrics: MetricRow[], runs: readonly RunRecord[], digits: number): string {
  const record = readSweepRecord(dir);
  const all = resultsTable(metrics);
  const { table, chosen } = selectSetting(all, { vary: ['ratio'] });
  const rows = rowsOf(table);
  const categories = orderCategories(rows.map((r) => r.category as string));
  const methods = orderMethods(rows.map((r) => r.method as string));
  const ratios = [...new Set(rows.map((r) => r.ratio as number))].sort((a, b) => a - b);
  const category = shownCategory(categories);
  const lines: string[] = [`## ${basename(dir.replace(/[\\/]+$/, ''))}`, ''];
  if (record.description) lines.push(record.description, '');
  lines.push(`- Categories: ${categories.join(', ')}${categories.length > 1 ? ' (tables show the mean over categories; std over seeds of that mean)' : ''}`);
  lines.push(`- Seeds: ${valuesOf(rows, 'seed')}; contamination ${ratios.map(percentLabel).join(', ')}`);
  for (const method of methods) {
    const own = rows.filter((r) => r.method === method);
    const fixed = { shots: valuesOf(own, 'shots'), alpha: valuesOf(own, 'alpha'), lambda: valuesOf(own, 'lambda'), fusion: valuesOf(own, 'fusion') };
    const parts = [`k = ${fixed.shots}`];
    if (fixed.alpha !== '–') parts.push(`α = ${fixed.alpha}`, `λ = ${fixed.lambda}`);
    if (fixed.fusion !== '–') parts.push(`fusion (w_d/w_u/w_s) ${fixed.fusion}`);
    const varied = Object.keys(chosen[method] ?? {});
    const choice = varied.length ? ` (the sweep also varies ${varied.join(', ')}; these tables fix ${settingText(chosen[method])})` : '';
    lines.push(`- ${methodName(method)}: ${parts.join(', ')}${choice}`);
  }
  const note = gradientMapNote(runs);
  if (note) lines.push(`- ${note}`);
  lines.push('');
  let marked = false;
  for (const { metric, title } of MAIN_METRICS) {
    const rendered = mainTable(table, metric, category, methods, ratios, digits);
    if (!rendered) continue;
    marked ||= rendered.includes(FEWER_SEEDS);
    lines.push(`### ${title}`, '', rendered, '');
  }
  if (marked) lines.push(`${FEWER_SEEDS} fewer seeds than the other cells (a cell failed or has not run yet; see failures.json).`, '');
  const multicueSetting = chosen.multicue ?? {};
  const ablation = metricsByRatio(table, 'multicue', CUE_AUROC_METRICS, CUE_TITLES, category, ratios, multicueSetting, digits);
  if (ablation) lines.push('### Single-cue ablation (multicue, image AUROC)', '', ablation, '');
  const maps = metricsByRatio(table, 'multicue', Object.keys(MAP_METRICS), MAP_METRICS, category, ratios, multicueSetting, digits);
  if (maps) lines.push('### Pixel AUROC by map (multicue)', '', maps, '');
  if (categories.length > 1) {
    for (const ratio of ratios) {
      const grid = rowsOf(perClassTable(filterRows(table, (d) => d.metric === 'image_auroc'), 'image_auroc', { ratio, methods, digits }));
      if (grid.length === 0) continue;
      const body = grid.map((r) => [String(r.category), ...methods.map((m) => (typeof r[m] === 'string' && r[m] !== '' ? (r[m] as string) : '–'))]);
      lines.push(`### Image AUROC per category at ${percentLabel(ratio)} contamination`, '', markdownTable(['category', ...methods.map(methodName)], body), '');
    }
  }
  return lines.join('\n');
}

function regenerateCommands(opts: ResultsMarkdownOptions, records: SweepRecord[]): string[] {
  const commands: string[] = [];
  for (const [i, record] of records.entries()) {
    for (const line of record.setup) if (!commands.includes(line)) commands.push(line);
    commands.push(record.command ?? `# ${opts.sweeps[i]}: written by runSweep() from a program (no command recorded)`);
  }
  commands.push(['multicue results', ...opts.sweeps.map((s) => `--sweep ${s}`), `--out ${opts.out}`].join(' '));
  return commands;
}

/** The Markdown text of RESULTS.md for these sweeps. */
export function resultsMarkdown(opts: ResultsMarkdownOptions): string {
  const digits = opts.digits ?? 3;
  const sweeps = opts.sweeps.map((dir) => ({ dir, metrics: readSweepResults(dir).metrics, record: readSweepRecord(dir), runs: readRunRecords(dir) }));
  const runs = sweeps.flatMap((s) => s.runs);
  const backbones = uniqueSorted(
    runs.map((r) => `${r.backbone.name} (weights id \`${r.backbone.weightsId}\`)${r.backbone.warning ? `: WARNING: ${r.backbone.warning}` : ''}`),
  );
  const versions = uniqueSorted(
    runs.map((r) => `multicue ${r.environment.multicue}, @tensorflow/tfjs ${r.environment.tfjs} (backend ${r.environment.backend ?? 'unknown'}), node ${r.environment.node}`),
  );
  const lines = [
    '# Results',
    '',
    '<!-- Generated by `multicue results` from sweep output; do not edit by hand: rerun the commands below. -->',
    '',
    'Image AUROC, image AUPRC and pixel AUROC of multicue and the baselines (ADL, PatchCore, PaDiM) under the',
    'contamination protocol of METHOD.md §1 (contaminating anomalies join the training pool with noise; the',
    'test set excludes every image used in training), as mean ± sample standard deviation over seeds.',
    'ADL trains without few-shot anomalies (k = 0); PatchCore and PaDiM ignore labels and use the test set of',
    "the largest k. Pixel AUROC is each method's own map (multicue: its configured main map).",
    '',
    '## Setup',
    '',
    `- Backbone: ${backbones.length ? backbones.join('; ') : 'not recorded (no run directories found)'}`,
    `- Versions: ${versions.length ? versions.join('; ') : 'not recorded'}`,
    `- Sweeps: ${sweeps.map((s) => `\`${s.dir}\` (${new Set(s.metrics.map((m) => cellIdOf(m))).size} finished cells)`).join(', ')}`,
    '',
    '## Regenerate',
    '',
    '```sh',
    ...regenerateCommands(opts, sweeps.map((s) => s.record)),
    '```',
    '',
  ];
  for (const sweep of sweeps) lines.push(sweepSection(sweep.dir, sweep.metrics, sweep.runs, digits));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

/** Write RESULTS.md atomically; returns its text. */
export async function writeResultsMarkdown(opts: ResultsMarkdownOptions): Promise<string> {
  const text = resultsMarkdown(opts);
  await writeFileAtomic(opts.out, text);
  return text;
}
