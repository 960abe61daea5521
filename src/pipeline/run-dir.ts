import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatScoresCsv } from '../experiments/sweep-scores-csv.ts';
import type { Backbone } from '../backbones/types.ts';
import { writeManifest, type Manifest } from '../data/manifest.ts';
import { environmentSummary } from './environment-summary.ts';
import { saveModel } from '../model/serialization.ts';
import { writeFileAtomic, writeJsonAtomicSync } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import { parseExperiment, type Experiment } from './experiment.ts';
import type { CellResult } from './run-cell.ts';

/**
 * A run directory: everything needed to trust, reproduce and reuse one run.
 *   experiment.json  the full experiment (data, protocol, geometry, backbone, method, config)
 *   manifest.json    which file went where (METHOD §1.3)
 *   model/           the trained heads (multicue/adl) or the fitted baseline
 *   scores.csv       every test image: label, defect, the three cues, the fused score
 *   metrics.json     image/pixel metrics, counts, backbone (with its warning), timings
 *   train-log.json   per-epoch losses and instance weights
 * Every file is written atomically; metrics.json last, so its presence means the run finished.
 */

export const RUN_FILES = {
  experiment: 'experiment.json',
  manifest: 'manifest.json',
  model: 'model',
  scores: 'scores.csv',
  metrics: 'metrics.json',
  trainLog: 'train-log.json',
} as const;

export interface RunMetricsFile {
  cell: string;
  method: Experiment['method'];
  metrics: CellResult['evaluation']['metrics'];
  counts: CellResult['evaluation']['counts'];
  threshold: number | null;
  backbone: { name: string; weightsId: string; warning: string | null };
  seconds: CellResult['seconds'];
  environment: ReturnType<typeof environmentSummary>;
}

/** scores.csv of a cell: every test image with its label, defect, score and cues. */
export function scoresCsv(result: CellResult): string {
  return formatScoresCsv(result.images);
}

export async function writeRunDir(
  dir: string,
  cell: string,
  result: CellResult,
  manifest: Manifest,
  backbone: Backbone,
): Promise<RunMetricsFile> {
  writeJsonAtomicSync(join(dir, RUN_FILES.experiment), result.experiment);
  writeManifest(join(dir, RUN_FILES.manifest), manifest);
  if (result.model) {
    await saveModel(result.model, join(dir, RUN_FILES.model), {
      experiment: result.experiment,
      geometry: result.experiment.geometry,
    });
  }
  if (result.baseline) await result.baseline.save(join(dir, RUN_FILES.model));
  await writeFileAtomic(join(dir, RUN_FILES.scores), scoresCsv(result));
  writeJsonAtomicSync(join(dir, RUN_FILES.trainLog), result.trainLog);
  const metrics: RunMetricsFile = {
    cell,
    method: result.experiment.method,
    metrics: result.evaluation.metrics,
    counts: result.evaluation.counts,
    threshold: result.evaluation.threshold,
    backbone: { name: backbone.name, weightsId: backbone.weightsId, warning: backbone.warning ?? null },
    seconds: result.seconds,
    environment: environmentSummary(),
  };
  writeJsonAtomicSync(join(dir, RUN_FILES.metrics), metrics);
  return metrics;
}

export function isFinishedRun(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.metrics));
}

export function readRunExperiment(dir: string): Experiment {
  const path = join(dir, RUN_FILES.experiment);
  if (!existsSync(path)) {
    throw new InputError('not a multicue run directory (no experiment.json)', dir, 'pass the folder `multicue train --out` wrote');
  }
  return parseExperiment(JSON.parse(readFileSync(path, 'utf8')), path);
}

export function readRunMetrics(dir: string): RunMetricsFile {
  const path = join(dir, RUN_FILES.metrics);
  if (!existsSync(path)) throw new InputError('run has no metrics.json (unfinished or failed)', dir, 'rerun it');
  return JSON.parse(readFileSync(path, 'utf8')) as RunMetricsFile;
}
