/**
 * Two-parameter grids for the grid-search figures: fusion weights w_d × w_u
 * (w_s = 1 − w_d − w_u, METHOD §5) and reweighting α × λ (METHOD §4). Each
 * grid cell is the seed mean of one metric, averaged over categories unless a
 * category is named. NaN marks cells that are invalid or were not run.
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { parseFusionWeights } from './results-schema.ts';
import { selectSetting, type Setting } from './settings.ts';
import { filterRows, MEAN_CATEGORY, meanStd, rowsOf, whereEquals, withCategoryMean } from './tables.ts';

export interface ParameterGrid {
  metric: string;
  method: string;
  category: string;
  /** Row parameter values (ascending) and column parameter values (ascending). */
  rowValues: number[];
  columnValues: number[];
  rowName: string;
  columnName: string;
  /** mean[i][j] for rowValues[i], columnValues[j]; NaN where invalid or missing. */
  mean: number[][];
  std: (number | null)[][];
  n: number[][];
  /** The best cell, or null if the grid is empty. */
  best: { row: number; column: number; mean: number } | null;
  /** Setting keys fixed to draw the grid (per method). */
  fixed: Setting;
  /** The grid as tidy rows (one per run cell) for CSV. */
  table: ColumnTable;
}

interface GridOptions {
  metric?: string;
  method?: string;
  /** A category name, or MEAN_CATEGORY (default) for the mean over categories. */
  category?: string;
  /** Values for the other setting keys (default: selectSetting's choice). */
  fixed?: Setting;
}

const WEIGHT_TOLERANCE = 1e-6;

/** Fusion-weight grid: rows w_d, columns w_u; cells with w_d + w_u > 1 are NaN. */
export function fusionGrid(table: ColumnTable, opts: GridOptions = {}): ParameterGrid {
  const { stats, base } = gridStats(table, opts, ['fusion'], (d) => parseFusionWeights(d.fusion as string | null) !== null);
  const points = stats.map((s) => {
    const [wd, wu, ws] = parseFusionWeights(s.fusion as string)!;
    return { row: round(wd), column: round(wu), extra: { w_s: round(ws) }, ...pick(s) };
  });
  return buildGrid(points, { ...base, rowName: 'w_d', columnName: 'w_u' }, (wd, wu) => wd + wu <= 1 + WEIGHT_TOLERANCE);
}

/** α/λ grid: rows α, columns λ. */
export function alphaLambdaGrid(table: ColumnTable, opts: GridOptions = {}): ParameterGrid {
  const { stats, base } = gridStats(table, opts, ['alpha', 'lambda'], (d) => typeof d.alpha === 'number' && typeof d.lambda === 'number');
  const points = stats.map((s) => ({ row: s.alpha as number, column: s.lambda as number, extra: {}, ...pick(s) }));
  return buildGrid(points, { ...base, rowName: 'alpha', columnName: 'lambda' }, () => true);
}

type Row = Record<string, unknown>;

function gridStats(table: ColumnTable, opts: GridOptions, vary: ('fusion' | 'alpha' | 'lambda')[], valid: (d: Row) => boolean) {
  const metric = opts.metric ?? 'image_auroc';
  const method = opts.method ?? 'multicue';
  const category = opts.category ?? MEAN_CATEGORY;
  const own = filterRows(whereEquals(table, { method, metric }), (d) => d.category !== MEAN_CATEGORY && valid(d));
  const { table: selected, chosen } = selectSetting(own, { vary, fixed: opts.fixed });
  const scoped = category === MEAN_CATEGORY ? withCategoryMean(selected) : selected;
  const stats = rowsOf(meanStd(whereEquals(scoped, { category }), vary, metric));
  return { stats, base: { metric, method, category, fixed: chosen[method] ?? {} } };
}

function pick(s: Row): { mean: number; std: number | null; n: number } {
  return { mean: s.mean as number, std: (s.std as number | null) ?? null, n: s.n as number };
}

function round(x: number): number {
  return Number(x.toFixed(6));
}

interface GridPoint {
  row: number;
  column: number;
  extra: Record<string, number>;
  mean: number;
  std: number | null;
  n: number;
}

function buildGrid(
  points: GridPoint[],
  base: Pick<ParameterGrid, 'metric' | 'method' | 'category' | 'fixed' | 'rowName' | 'columnName'>,
  isValid: (row: number, column: number) => boolean,
): ParameterGrid {
  const rowValues = [...new Set(points.map((p) => p.row))].sort((a, b) => a - b);
  const columnValues = [...new Set(points.map((p) => p.column))].sort((a, b) => a - b);
  const mean = rowValues.map(() => columnValues.map(() => NaN));
  const std = rowValues.map(() => columnValues.map((): number | null => null));
  const n = rowValues.map(() => columnValues.map(() => 0));
  let best: ParameterGrid['best'] = null;
  for (const p of points) {
    const i = rowValues.indexOf(p.row);
    const j = columnValues.indexOf(p.column);
    if (!isValid(p.row, p.column)) continue;
    mean[i][j] = p.mean;
    std[i][j] = p.std;
    n[i][j] = p.n;
    if (!best || p.mean > best.mean) best = { row: p.row, column: p.column, mean: p.mean };
  }
  const table = aq.from(
    points
      .sort((a, b) => a.row - b.row || a.column - b.column)
      .map((p) => ({ [base.rowName]: p.row, [base.columnName]: p.column, ...p.extra, mean: p.mean, std: p.std, n: p.n })),
  );
  return { ...base, rowValues, columnValues, mean, std, n, best, table };
}
