/**
 * Every table and figure a sweep folder's results support (METHOD §7):
 * per-class tables and the cue ablation (CSV), the robustness curves (Fig. 3),
 * per-cue score distributions (Fig. 4), relative drop (Fig. 5), shots sweep
 * (Fig. 6) and the fusion-weight and α/λ grids, each as HTML and PNG.
 * Figures the data cannot support (one ratio only, no image scores, ...) are
 * listed as skipped with the reason.
 */
import type { ColumnTable } from 'arquero';
import { join } from 'node:path';
import { alphaLambdaGrid, fusionGrid, type ParameterGrid } from '../experiments/grids.ts';
import {
  CUE_AUROC_METRICS,
  parseCellId,
  PIXEL_METRICS,
  RESULTS_FILE,
  type CellKey,
  type ImageScoreRow,
} from '../experiments/results-schema.ts';
import { DEFAULT_SETTING, selectSetting } from '../experiments/settings.ts';
import { readSweepResults } from '../experiments/sweep-results.ts';
import {
  ablationTable,
  percentLabel,
  perClassTable,
  relativeDrop,
  relativeGainOverZeroShots,
  resultsTable,
  rowsOf,
  seedSummary,
  withCategoryMean,
  writeTableCsv,
} from '../experiments/tables.ts';
import { InputError } from '../util/errors.ts';
import { progress } from '../util/progress.ts';
import { cueDistributionFigure } from './cue-distributions.ts';
import type { PlotlyFigure } from './figure.ts';
import { alphaLambdaGridFigure, fusionGridFigure } from './grid-heatmap.ts';
import { writeFigureHtml } from './html-export.ts';
import { methodName } from './palette.ts';
import { relativeDropFigure } from './relative-drop.ts';
import { chromiumPath, FigureRenderer } from './render-png.ts';
import { robustnessFigure } from './robustness.ts';
import { shotsFigure } from './shots.ts';

export interface ResultFiguresOptions {
  sweepDir: string;
  outDir: string;
  html?: boolean;
  png?: boolean;
  /** PNG device scale (2 = twice the pixels). */
  scale?: number;
  /** The image metric of the robustness, drop and shots figures (default image_auroc). */
  metric?: string;
  /** The method whose grids and score distributions are drawn (default multicue). */
  method?: string;
  /** Most score-distribution figures to draw (one per category by default). */
  maxCueFigures?: number;
  silent?: boolean;
}

export interface ResultFiguresReport {
  /** Every file written, in order. */
  written: string[];
  /** Figures or tables not drawn, with why. */
  skipped: string[];
}

interface NamedFigure {
  name: string;
  figure: PlotlyFigure;
}

export async function writeResultFigures(opts: ResultFiguresOptions): Promise<ResultFiguresReport> {
  const html = opts.html ?? true;
  const png = opts.png ?? true;
  if (png) chromiumPath(); // fail before any work when PNGs cannot be drawn
  const metric = opts.metric ?? 'image_auroc';
  const method = opts.method ?? 'multicue';
  const { metrics, imageScores } = readSweepResults(opts.sweepDir);
  const table = resultsTable(metrics);
  const report: ResultFiguresReport = { written: [], skipped: [] };
  const distinct = (key: string, rows = rowsOf(table)) => [...new Set(rows.map((r) => r[key]))];
  const presentMetrics = new Set(distinct('metric') as string[]);
  if (!presentMetrics.has(metric)) {
    throw new InputError(`metric "${metric}" is not in the results`, join(opts.sweepDir, RESULTS_FILE), `use one of: ${[...presentMetrics].sort().join(', ')}`);
  }

  // Tables.
  const writeCsv = async (name: string, t: ColumnTable) => {
    const path = join(opts.outDir, `${name}.csv`);
    await writeTableCsv(t, path);
    report.written.push(path);
  };
  await writeCsv('summary-mean-std', seedSummary(table));
  const overRatio = selectSetting(table, { vary: ['ratio'] }).table;
  const ratios = (distinct('ratio', rowsOf(overRatio)) as number[]).sort((a, b) => a - b);
  const tableMetrics = [metric, ...PIXEL_METRICS, 'aupro'].filter((m, i, all) => presentMetrics.has(m) && all.indexOf(m) === i);
  for (const ratio of ratios) {
    const tag = `r${percentLabel(ratio).replace('%', '')}`;
    for (const m of tableMetrics) await writeCsv(`per-class-${m}-${tag}`, perClassTable(overRatio, m, { ratio }));
    if (CUE_AUROC_METRICS.some((m) => m !== 'image_auroc' && presentMetrics.has(m))) {
      const cueRows = rowsOf(overRatio).filter((r) => r.method === method && r.ratio === ratio && (CUE_AUROC_METRICS as readonly string[]).includes(r.metric as string));
      if (cueRows.length > 0) await writeCsv(`ablation-${method}-${tag}`, ablationTable(overRatio, { ratio, method }));
    }
  }

  const figures: NamedFigure[] = [];
  if (ratios.length >= 2) {
    for (const m of [metric, ...PIXEL_METRICS].filter((m, i, all) => presentMetrics.has(m) && all.indexOf(m) === i)) {
      figures.push({ name: `robustness-${m}`, figure: robustnessFigure(table, { metric: m }) });
    }
    figures.push({ name: `relative-drop-${metric}`, figure: relativeDropFigure(table, { metric }) });
    await writeCsv(`relative-drop-${metric}`, relativeDrop(withCategoryMean(overRatio), { metric }));
  } else {
    report.skipped.push(`robustness curves and relative drop (Fig. 3, 5): the sweep has ${ratios.length} contamination ratio(s), need 2 or more`);
  }

  const overShots = selectSetting(table, { vary: ['shots'] }).table;
  const shots = distinct('shots', rowsOf(overShots).filter((r) => r.metric === metric));
  if (shots.length >= 2) {
    figures.push({ name: `shots-${metric}`, figure: shotsFigure(table, { metric }) });
    await writeCsv(`shots-gain-${metric}`, relativeGainOverZeroShots(withCategoryMean(overShots), { metric }));
  } else {
    report.skipped.push(`shots figure (Fig. 6): one shot level (k = ${shots.join(', ')}) at the main setting`);
  }

  const grids: [string, ParameterGrid, (g: ParameterGrid) => PlotlyFigure][] = [
    ['fusion-grid', fusionGrid(table, { metric, method }), fusionGridFigure],
    ['alpha-lambda-grid', alphaLambdaGrid(table, { metric, method }), alphaLambdaGridFigure],
  ];
  for (const [name, grid, draw] of grids) {
    if (grid.rowValues.length * grid.columnValues.length >= 2 && grid.best) {
      figures.push({ name: `${name}-${metric}`, figure: draw(grid) });
      await writeCsv(`${name}-${metric}`, grid.table);
    } else {
      const cells = grid.rowValues.length * grid.columnValues.length;
      report.skipped.push(
        `${name}: ${cells === 0 ? `no ${grid.rowName}/${grid.columnName} results of ${method}` : `${method} has results at one ${grid.rowName}/${grid.columnName} setting only`}`,
      );
    }
  }

  if (imageScores && imageScores.length > 0) {
    const cells = cueCells(imageScores, method, opts.maxCueFigures ?? 24);
    for (const cell of cells) figures.push(cell);
    if (cells.length === 0) report.skipped.push(`score distributions (Fig. 4): no image scores of ${method}`);
  } else {
    report.skipped.push('score distributions (Fig. 4): the sweep wrote no image-scores.json');
  }

  // Figures: HTML, then PNG through one shared browser.
  const bar = progress('figures', figures.length * ((html ? 1 : 0) + (png ? 1 : 0)), { silent: opts.silent, unit: 'file' });
  if (html) {
    for (const { name, figure } of figures) {
      const path = join(opts.outDir, `${name}.html`);
      await writeFigureHtml(figure, path);
      report.written.push(path);
      bar.tick(1, name);
    }
  }
  if (png && figures.length > 0) {
    const renderer = await FigureRenderer.launch();
    try {
      for (const { name, figure } of figures) {
        const path = join(opts.outDir, `${name}.png`);
        await renderer.renderToFile(figure, path, { scale: opts.scale ?? 1 });
        report.written.push(path);
        bar.tick(1, name);
      }
    } finally {
      await renderer.close();
    }
  }
  bar.done();
  return report;
}

/**
 * One score-distribution figure per category: the method's cell at the main
 * setting (DEFAULT_SETTING where present) and its smallest seed. Cell ids not
 * written by cellIdOf are drawn one figure each.
 */
function cueCells(scores: ImageScoreRow[], method: string, max: number): NamedFigure[] {
  const byCell = new Map<string, ImageScoreRow[]>();
  for (const row of scores) {
    if (!byCell.has(row.cellId)) byCell.set(row.cellId, []);
    byCell.get(row.cellId)!.push(row);
  }
  const parsed = [...byCell.keys()].map((id) => ({ id, cell: parseCellId(id) }));
  const known = parsed.filter((p): p is { id: string; cell: CellKey } => p.cell !== null && p.cell.method === method);
  const chosen: { id: string; title: string; name: string }[] = [];
  const categories = [...new Set(known.map((k) => k.cell.category))].sort();
  for (const category of categories) {
    const own = known.filter((k) => k.cell.category === category);
    const best = own.sort((a, b) => settingDistance(a.cell) - settingDistance(b.cell) || a.cell.seed - b.cell.seed)[0];
    const c = best.cell;
    chosen.push({
      id: best.id,
      name: `cue-distributions-${safeName(category)}-r${percentLabel(c.ratio).replace('%', '')}`,
      title: `${methodName(method)}, ${category}; contamination ${percentLabel(c.ratio)}; k = ${c.shots}; seed ${c.seed}`,
    });
  }
  for (const { id } of parsed.filter((p) => p.cell === null)) {
    chosen.push({ id, name: `cue-distributions-${safeName(id)}`, title: `cell ${id}` });
  }
  return chosen.slice(0, max).map(({ id, name, title }) => ({
    name,
    figure: cueDistributionFigure(byCell.get(id)!, { subtitle: title }),
  }));
}

/** How many setting keys differ from DEFAULT_SETTING (0 = the main setting). */
function settingDistance(cell: CellKey): number {
  return Object.entries(DEFAULT_SETTING).filter(([key, value]) => cell[key as keyof CellKey] !== value && cell[key as keyof CellKey] !== null).length;
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}
