/**
 * A sweep's tidy results, rebuilt from its run directories: every finished
 * cell (metrics.json present) becomes MetricRows and, for multicue/ADL, one
 * ImageScoreRow per test image; every cell that failed (error.json, no
 * metrics.json) becomes a row of failures.json. Rebuilt and written atomically
 * after each cell, so a crash never loses a finished result.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isSupervisedMethod } from '../pipeline/prepare.ts';
import { isFinishedRun, readRunMetrics, RUN_FILES } from '../pipeline/run-dir.ts';
import { writeJsonAtomicSync } from '../util/atomic.ts';
import { cellIdOf, formatFusionWeights, METRIC_NAMES, type CellKey, type ImageScoreRow, type MetricRow } from './results-schema.ts';
import type { SweepCell } from './sweep-cells.ts';
import { ERROR_FILE, FAILURES_FILE } from './sweep-files.ts';
import { writeSweepResults } from './sweep-results.ts';
import { readScoresCsv } from './sweep-scores-csv.ts';

export interface CellRows {
  metrics: MetricRow[];
  images: ImageScoreRow[];
}

export interface CellError {
  cell: string;
  message: string;
  stack: string | null;
}

export interface FailureRow {
  category: string;
  method: string;
  cell: string;
  /** The run directory, relative to the sweep folder. */
  dir: string;
  message: string;
}

/** The results-schema key of a cell; the backbone is the one its run actually loaded. */
export function cellKeyOf(cell: SweepCell, backbone: string): CellKey {
  const e = cell.experiment;
  const supervised = isSupervisedMethod(cell.method);
  return {
    category: cell.category,
    method: cell.method,
    backbone,
    ratio: e.protocol.ratio,
    shots: e.protocol.shots,
    seed: e.protocol.seed,
    alpha: supervised ? e.config.reweighting.alpha : null,
    lambda: supervised ? e.config.reweighting.lambda : null,
    fusion: cell.fusion ? formatFusionWeights(cell.fusion) : null,
  };
}

function metricOrder(a: string, b: string): number {
  const ia = (METRIC_NAMES as string[]).indexOf(a);
  const ib = (METRIC_NAMES as string[]).indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  return a.localeCompare(b);
}

/** The tidy rows of a finished cell, read from its run directory. */
export function finishedCellRows(cell: SweepCell): CellRows {
  const file = readRunMetrics(cell.dir);
  const key = cellKeyOf(cell, file.backbone.name);
  const cellId = cellIdOf(key);
  const metrics = Object.entries(file.metrics)
    .sort(([a], [b]) => metricOrder(a, b))
    .map(([metric, value]): MetricRow => ({ ...key, metric, value: typeof value === 'number' && Number.isFinite(value) ? value : null, cellId }));
  const images: ImageScoreRow[] = [];
  if (isSupervisedMethod(cell.method)) {
    for (const img of readScoresCsv(join(cell.dir, RUN_FILES.scores))) {
      if (img.deviation === null || img.uncertainty === null || img.segmentation === null) continue;
      images.push({
        cellId,
        id: img.id,
        label: img.label,
        defect: img.defect,
        deviation: img.deviation,
        uncertainty: img.uncertainty,
        segmentation: img.segmentation,
        fused: img.score,
      });
    }
  }
  return { metrics, images };
}

/** Record a failed cell: <run>/error.json with the message and stack. */
export function writeCellError(cell: SweepCell, err: unknown): CellError {
  const error: CellError = {
    cell: cell.name,
    message: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? (err.stack ?? null) : null,
  };
  writeJsonAtomicSync(join(cell.dir, ERROR_FILE), error);
  return error;
}

/** Forget a previous failure before a cell is retried. */
export function clearCellError(cell: SweepCell): void {
  rmSync(join(cell.dir, ERROR_FILE), { force: true });
}

/** Cells that failed and have not finished since. */
export function failedCells(out: string, cells: readonly SweepCell[]): FailureRow[] {
  const rows: FailureRow[] = [];
  for (const cell of cells) {
    const path = join(cell.dir, ERROR_FILE);
    if (isFinishedRun(cell.dir) || !existsSync(path)) continue;
    let message: string;
    try {
      message = (JSON.parse(readFileSync(path, 'utf8')) as CellError).message;
    } catch {
      message = `unreadable ${ERROR_FILE}`;
    }
    rows.push({ category: cell.category, method: cell.method, cell: cell.name, dir: relative(out, cell.dir), message });
  }
  return rows;
}

/**
 * Rewrite <out>/results.json, image-scores.json and failures.json from the
 * finished cells (rows cached by cell directory in `rows`) and error files.
 */
export async function writeSweepFiles(out: string, cells: readonly SweepCell[], rows: Map<string, CellRows>): Promise<void> {
  const finished = cells.filter((c) => rows.has(c.dir));
  await writeSweepResults(out, {
    metrics: finished.flatMap((c) => rows.get(c.dir)!.metrics),
    imageScores: finished.flatMap((c) => rows.get(c.dir)!.images),
  });
  writeJsonAtomicSync(join(out, FAILURES_FILE), failedCells(out, cells));
}
