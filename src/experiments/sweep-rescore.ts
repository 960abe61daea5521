/**
 * Fusion weights re-score a trained model without retraining (METHOD §5): the
 * fused score depends only on the three cues of each image and constant
 * weights, so a new weight vector needs the trained run's saved cues
 * (scores.csv), not the model. Image metrics are recomputed; pixel metrics do
 * not depend on fusion and are copied from the trained run. The re-scored
 * cell's run directory holds experiment.json, manifest.json, scores.csv,
 * model-ref.json (where the model lives) and metrics.json (written last).
 */
import { copyFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { evaluateImages } from '../evaluation/evaluate.ts';
import type { Experiment } from '../pipeline/experiment.ts';
import { environmentSummary } from '../pipeline/environment-summary.ts';
import { readRunMetrics, RUN_FILES, type RunMetricsFile } from '../pipeline/run-dir.ts';
import type { TestImageResult } from '../pipeline/run-cell.ts';
import { fusionConfigOf } from '../scoring/score.ts';
import { fuseAll } from '../scoring/fusion.ts';
import { writeFileAtomic, writeJsonAtomicSync } from '../util/atomic.ts';
import { PIXEL_METRICS } from './results-schema.ts';
import { formatScoresCsv, readScoresCsv } from './sweep-scores-csv.ts';

/** File of a re-scored cell that points at the run holding its model. */
export const MODEL_REF_FILE = 'model-ref.json';

export interface ModelRef {
  /** The trained run, relative to this run directory. */
  trainedRun: string;
  note: string;
}

/** metrics.json of a re-scored cell: a run's metrics plus where its model was trained. */
export type RescoredMetricsFile = RunMetricsFile & { rescoredFrom: string };

/** The cues of `images` fused with the experiment's weights (throws when a cue is missing). */
export function fuseSavedCues(images: readonly TestImageResult[], experiment: Experiment): TestImageResult[] {
  const cues = images.map((img) => {
    if (img.deviation === null || img.uncertainty === null || img.segmentation === null) {
      throw new Error(`cannot re-score image ${img.id}: the trained run saved no cues for it`);
    }
    return { deviation: img.deviation, uncertainty: img.uncertainty, segmentation: img.segmentation };
  });
  const fused = fuseAll(cues, fusionConfigOf(experiment.config.scoring));
  return images.map((img, i) => ({ ...img, score: fused[i].fused }));
}

/**
 * Write the run directory of `experiment` (a multicue cell differing from the
 * trained run only in fusion weights) from the trained run's saved cues.
 */
export async function rescoreTrainedRun(trainedDir: string, dir: string, cell: string, experiment: Experiment): Promise<RescoredMetricsFile> {
  const started = Date.now();
  const trained = readRunMetrics(trainedDir);
  const images = fuseSavedCues(readScoresCsv(join(trainedDir, RUN_FILES.scores)), experiment);
  const evaluation = evaluateImages(
    images.map((img) => ({
      id: img.id,
      label: img.label,
      score: img.score,
      cues: { deviation: img.deviation!, uncertainty: img.uncertainty!, segmentation: img.segmentation! },
      mask: null,
    })),
  );
  const pixelMetrics = Object.fromEntries(Object.entries(trained.metrics).filter(([name]) => (PIXEL_METRICS as readonly string[]).includes(name) || name === 'aupro'));
  const trainedRun = relative(dir, trainedDir);

  writeJsonAtomicSync(join(dir, RUN_FILES.experiment), experiment);
  copyFileSync(join(trainedDir, RUN_FILES.manifest), join(dir, RUN_FILES.manifest));
  await writeFileAtomic(join(dir, RUN_FILES.scores), formatScoresCsv(images));
  const ref: ModelRef = { trainedRun, note: 'fusion weights re-score the trained run\'s saved cues; this cell trained no model' };
  writeJsonAtomicSync(join(dir, MODEL_REF_FILE), ref);
  const metrics: RescoredMetricsFile = {
    cell,
    method: experiment.method,
    metrics: { ...evaluation.metrics, ...pixelMetrics },
    counts: trained.counts,
    threshold: evaluation.threshold,
    backbone: trained.backbone,
    seconds: { train: 0, score: (Date.now() - started) / 1000, localize: 0 },
    environment: environmentSummary(),
    rescoredFrom: trainedRun,
  };
  writeJsonAtomicSync(join(dir, RUN_FILES.metrics), metrics);
  return metrics;
}
