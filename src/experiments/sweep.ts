/**
 * The sweep runner (`multicue sweep`): every cell of a sweep config, each in
 * its own run directory <out>/runs/<category>/<cell>/ exactly as `multicue
 * train` writes it, with
 *   - one backbone load for the whole sweep and one dataset listing per category;
 *   - features extracted once and shared through the disk feature cache
 *     (default <out>/features), so later cells only read them;
 *   - fusion weights re-scoring the trained model's saved cues (no retraining);
 *   - resumability: a cell whose run directory holds metrics.json is skipped;
 *   - failures recorded (<run>/error.json, <out>/failures.json) while the sweep goes on;
 *   - <out>/results.json and image-scores.json rewritten after every cell;
 *   - an AbortSignal (Ctrl-C in the CLI) that stops after the current cell.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backbone } from '../backbones/types.ts';
import type { Dataset } from '../data/types.ts';
import { loadDataset } from '../data/load-dataset.ts';
import { isSupervisedMethod, loadExperimentBackbone, prepareExperiment } from '../pipeline/prepare.ts';
import { runCell } from '../pipeline/run-cell.ts';
import { isFinishedRun, RUN_FILES, writeRunDir, type RunMetricsFile } from '../pipeline/run-dir.ts';
import { writeJsonAtomicSync } from '../util/atomic.ts';
import { warnToStderr, type WarnFn } from '../util/errors.ts';
import {
  clearCellError,
  failedCells,
  finishedCellRows,
  writeCellError,
  writeSweepFiles,
  type CellRows,
  type FailureRow,
} from './sweep-collect.ts';
import { expandSweep, sweepUnits, type SweepCell } from './sweep-cells.ts';
import { checkSweepInputs, type SweepConfig } from './sweep-config.ts';
import { ERROR_FILE, SWEEP_FILE } from './sweep-files.ts';
import { sweepProgress } from './sweep-progress.ts';
import { MODEL_REF_FILE, rescoreTrainedRun } from './sweep-rescore.ts';
import { assertNoStaleCells, staleDifference } from './sweep-stale.ts';

/** What running a cell means: train the detector, fit a baseline, or re-score a trained cell's cues. */
export type CellAction = 'train' | 'fit' | 'rescore';

export interface SweepCellEvent {
  cell: SweepCell;
  action: CellAction;
  status: 'done' | 'failed';
  seconds: number;
  /** The failure's message (status 'failed'). */
  error: string | null;
  metrics: RunMetricsFile | null;
}

export interface SweepOptions {
  /** Aborting stops the sweep after the current cell; a rerun finishes the rest. */
  signal?: AbortSignal;
  silent?: boolean;
  /** Called after every cell that ran (skipped cells are not reported). */
  onCell?: (event: SweepCellEvent) => void;
  warn?: WarnFn;
  /** Use this backbone instead of loading the config's (notebooks, tests). */
  backbone?: Backbone;
  /** The command line that ran the sweep, recorded in sweep.json. */
  command?: string;
}

export interface SweepSummary {
  out: string;
  cells: number;
  /** Cells finished before this run started. */
  skipped: number;
  /** Cells this run finished. */
  ran: number;
  failed: FailureRow[];
  /** Cells without results at the end (failed or not reached). */
  remaining: number;
  aborted: boolean;
  seconds: number;
}

export interface PlannedCell {
  cell: SweepCell;
  /** stale: finished with other settings (the sweep refuses to run until it is deleted). */
  state: 'done' | 'stale' | 'failed' | 'todo';
  action: CellAction;
}

/** A finished cell of the unit that holds a trained model (not a re-scored one). */
function modelHolder(unit: readonly SweepCell[]): SweepCell | null {
  return unit.find((c) => isFinishedRun(c.dir) && existsSync(join(c.dir, RUN_FILES.model)) && !existsSync(join(c.dir, MODEL_REF_FILE))) ?? null;
}

/**
 * What each cell of a training unit will do: with a trained model on disk the
 * missing cells re-score it; otherwise the first missing cell trains (or fits)
 * and the others re-score its cues.
 */
export function planUnit(unit: readonly SweepCell[]): PlannedCell[] {
  const holder = modelHolder(unit);
  const trainer = holder ?? unit.find((c) => !isFinishedRun(c.dir)) ?? unit[0];
  const heavy: CellAction = isSupervisedMethod(trainer.method) ? 'train' : 'fit';
  return [trainer, ...unit.filter((c) => c !== trainer)].map((cell) => ({
    cell,
    state: isFinishedRun(cell.dir) ? (staleDifference(cell) ? 'stale' : 'done') : existsSync(join(cell.dir, ERROR_FILE)) ? 'failed' : 'todo',
    action: cell === trainer ? heavy : 'rescore',
  }));
}

/** Every cell of a sweep with its state and planned action (what `--dry-run` prints). */
export function planSweep(config: SweepConfig): PlannedCell[] {
  return sweepUnits(expandSweep(config)).flatMap(planUnit);
}

export async function runSweep(config: SweepConfig, opts: SweepOptions = {}): Promise<SweepSummary> {
  const started = Date.now();
  const cells = expandSweep(config);
  checkSweepInputs(config);
  assertNoStaleCells(cells, config.out);
  mkdirSync(config.out, { recursive: true });
  writeJsonAtomicSync(join(config.out, SWEEP_FILE), {
    description: config.description ?? null,
    setup: config.setup,
    command: opts.command ?? null,
    cells: cells.length,
    config,
  });

  const seenWarnings = new Set<string>();
  const baseWarn = opts.warn ?? (opts.silent ? () => {} : warnToStderr);
  const warn: WarnFn = (message) => {
    if (seenWarnings.has(message)) return;
    seenWarnings.add(message);
    baseWarn(message);
  };

  const rows = new Map<string, CellRows>();
  for (const cell of cells) if (isFinishedRun(cell.dir)) rows.set(cell.dir, finishedCellRows(cell));
  await writeSweepFiles(config.out, cells, rows);
  const skipped = rows.size;

  const plan = sweepUnits(cells).map(planUnit);
  const todo = plan.flat().filter((p) => p.state !== 'done');
  const heavyTodo = todo.filter((p) => p.action !== 'rescore').length;
  const bar = sweepProgress(todo.length, heavyTodo, { silent: opts.silent });
  if (skipped > 0) bar.note(`${skipped} of ${cells.length} cells already finished: skipped`);

  let backbone: Backbone | null = opts.backbone ?? null;
  const datasets = new Map<number, Dataset | Error>();
  const datasetOf = (cell: SweepCell): Dataset => {
    if (!datasets.has(cell.datasetIndex)) {
      try {
        datasets.set(cell.datasetIndex, loadDataset(config.datasets[cell.datasetIndex]));
      } catch (err) {
        datasets.set(cell.datasetIndex, err instanceof Error ? err : new Error(String(err)));
      }
    }
    const listing = datasets.get(cell.datasetIndex)!;
    if (listing instanceof Error) throw listing;
    return listing;
  };

  let ran = 0;
  let aborted = false;
  units: for (const unit of plan) {
    let trainerFailure: string | null = null;
    for (const step of unit) {
      if (step.state === 'done') continue;
      if (opts.signal?.aborted) {
        aborted = true;
        break units;
      }
      const { cell, action } = step;
      const cellStarted = Date.now();
      bar.start(`${cell.category}/${cell.name} (${action})`, action !== 'rescore');
      if (action !== 'rescore' && !backbone) {
        // Loaded once, at the first cell that needs it; a backbone that cannot load fails every cell, so this stops the sweep.
        backbone = await loadExperimentBackbone(cell.experiment);
        if (backbone.warning) warn(backbone.warning);
      }
      clearCellError(cell);
      let metrics: RunMetricsFile | null = null;
      let error: string | null = null;
      try {
        if (action === 'rescore') {
          const holder = modelHolder(unit.map((p) => p.cell));
          if (!holder) throw new Error(`its trained cell failed${trainerFailure ? `: ${trainerFailure}` : ''}`);
          metrics = await rescoreTrainedRun(holder.dir, cell.dir, cell.name, cell.experiment);
        } else {
          metrics = await runHeavyCell(cell, backbone!, datasetOf(cell), { silent: opts.silent, warn });
        }
        rows.set(cell.dir, finishedCellRows(cell));
        ran++;
      } catch (err) {
        error = writeCellError(cell, err).message;
        if (action !== 'rescore') trainerFailure = error;
      }
      await writeSweepFiles(config.out, cells, rows);
      const seconds = (Date.now() - cellStarted) / 1000;
      bar.finish(`${cell.category}/${cell.name}`, error ? 'failed' : 'done', seconds);
      if (error) warn(`cell ${cell.category}/${cell.name} failed: ${error.split('\n')[0]}`);
      opts.onCell?.({ cell, action, status: error ? 'failed' : 'done', seconds, error, metrics });
    }
  }

  const failed = failedCells(config.out, cells);
  const remaining = cells.filter((c) => !isFinishedRun(c.dir)).length;
  if (aborted) bar.note(`stopped: ${remaining} cells left; rerun the same command to finish them`);
  return { out: config.out, cells: cells.length, skipped, ran, failed, remaining, aborted, seconds: (Date.now() - started) / 1000 };
}

/** Prepare, train or fit, evaluate and write one cell's run directory; frees the model afterwards. */
async function runHeavyCell(
  cell: SweepCell,
  backbone: Backbone,
  dataset: Dataset,
  opts: { silent?: boolean; warn: WarnFn },
): Promise<RunMetricsFile> {
  const prepared = await prepareExperiment(cell.experiment, { backbone, dataset, silent: opts.silent, warn: opts.warn });
  const result = await runCell(cell.experiment, prepared, { silent: opts.silent, checkpointDir: join(cell.dir, 'checkpoint') });
  try {
    return await writeRunDir(cell.dir, cell.name, result, prepared.manifest, backbone);
  } finally {
    result.model?.dispose();
    result.baseline?.dispose();
  }
}
