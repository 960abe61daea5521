import { Padim } from '../baselines/padim/padim.ts';
import { PatchCore } from '../baselines/patchcore/patchcore.ts';
import type { PatchCoreOptions } from '../baselines/patchcore/config.ts';
import type { PadimOptions } from '../baselines/padim/config.ts';
import { tapsFromCache, type UnsupervisedBaseline } from '../baselines/types.ts';
import { evaluateImages, productMap, type EvaluatedImage, type Evaluation, type MapKind } from '../evaluation/evaluate.ts';
import { localize } from '../localization/localize.ts';
import type { MultiCueModel } from '../model/multicue-model.ts';
import { scoreImages } from '../scoring/score.ts';
import type { CachedFeatures } from '../training/feature-cache.ts';
import { train, type EpochLog } from '../training/trainer.ts';
import { progress } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import type { Experiment } from './experiment.ts';
import { isSupervisedMethod, type Prepared } from './prepare.ts';

/**
 * Train one method on a prepared cell and evaluate it on the cell's test set.
 * Returns plain numbers (per-image cues, maps, metrics); writing files is the
 * caller's (see run-dir.ts).
 */

export interface TestImageResult {
  id: string;
  label: 0 | 1;
  defect: string;
  /** The method's image score (fused for multicue/adl). */
  score: number;
  deviation: number | null;
  uncertainty: number | null;
  segmentation: number | null;
  p: number | null;
}

export interface CellResult {
  experiment: Experiment;
  images: TestImageResult[];
  evaluation: Evaluation;
  /** Per test image (same order as images): its maps at input size, where computed. */
  maps: Array<Partial<Record<MapKind, Float32Array | null>>>;
  model: MultiCueModel | null;
  baseline: UnsupervisedBaseline | null;
  trainLog: EpochLog[];
  seconds: { train: number; score: number; localize: number };
}

export interface RunCellOptions {
  silent?: boolean;
  /** Save checkpoints here during training (a NaN keeps the last good one). */
  checkpointDir?: string | null;
  /** Use an already trained model (re-scoring, evaluation): nothing is trained. */
  model?: MultiCueModel;
  /** Use an already fitted baseline: nothing is fitted. */
  baseline?: UnsupervisedBaseline;
}

export async function runCell(experiment: Experiment, prepared: Prepared, opts: RunCellOptions = {}): Promise<CellResult> {
  return isSupervisedMethod(experiment.method)
    ? runDetector(experiment, prepared, opts)
    : runBaseline(experiment, prepared, opts);
}

function defectOf(item: CachedFeatures): string {
  return item.defect ?? (item.trueLabel ? 'anomaly' : 'good');
}

async function runDetector(experiment: Experiment, prepared: Prepared, opts: RunCellOptions): Promise<CellResult> {
  const { config } = experiment;
  const t0 = Date.now();
  let model = opts.model ?? null;
  let trainLog: EpochLog[] = [];
  if (!model) {
    const rng = new Rng(`train|${experiment.protocol.seed}`);
    const result = await train(config, prepared.cache, rng, { silent: opts.silent, checkpointDir: opts.checkpointDir ?? null });
    model = result.model;
    trainLog = result.log;
  }
  const t1 = Date.now();
  const test = prepared.cache.group('test');
  const scored = scoreImages(model, prepared.cache, config.scoring, { silent: opts.silent, items: test });
  const t2 = Date.now();
  const gradMaps = await gradientMapsFor(experiment, prepared, model, test, opts);
  const t3 = Date.now();

  const images: TestImageResult[] = scored.scores.map((s, i) => ({
    id: s.id,
    label: s.trueLabel,
    defect: defectOf(test[i]),
    score: s.fused,
    deviation: s.deviation,
    uncertainty: s.uncertainty,
    segmentation: s.segmentation,
    p: s.p,
  }));
  const maps = test.map((_, i) => {
    const seg = scored.maps?.[i] ?? null;
    const grad = gradMaps.get(test[i].id) ?? null;
    const product = seg && grad ? productMap(seg, grad) : null;
    const byKind = { seg, grad, product };
    return { ...byKind, main: byKind[experiment.mainMap] };
  });
  const evaluated: EvaluatedImage[] = images.map((img, i) => ({
    id: img.id,
    label: img.label,
    score: img.score,
    cues: { deviation: img.deviation!, uncertainty: img.uncertainty!, segmentation: img.segmentation! },
    mask: test[i].mask,
    maps: maps[i],
  }));
  return {
    experiment,
    images,
    evaluation: evaluateImages(evaluated),
    maps,
    model,
    baseline: null,
    trainLog,
    seconds: { train: (t1 - t0) / 1000, score: (t2 - t1) / 1000, localize: (t3 - t2) / 1000 },
  };
}

/**
 * Which test images get gradient maps: all, none, or N of them, half nominal
 * and half masked anomalies. The anomalies are drawn round-robin over defect
 * kinds in a seeded order, so a subset's pixel AUROC sees every kind, not
 * the first kind in file order.
 */
export function gradientMapSelection(experiment: Experiment, test: readonly CachedFeatures[]): CachedFeatures[] {
  const limit = experiment.gradientMaps;
  if (limit === 'none') return [];
  if (limit === 'all') return [...test];
  const rng = new Rng(experiment.protocol.seed).fork('gradient-map-selection');
  const nominal = rng.shuffle(test.filter((t) => t.trueLabel === 0));
  const byKind = new Map<string, CachedFeatures[]>();
  for (const t of test) {
    if (t.trueLabel !== 1 || !t.mask) continue;
    const kind = t.defect ?? '';
    const queue = byKind.get(kind);
    if (queue) queue.push(t);
    else byKind.set(kind, [t]);
  }
  const queues = [...byKind.keys()].sort().map((kind) => rng.shuffle(byKind.get(kind)!));
  const anomalies: CachedFeatures[] = [];
  for (let round = 0; queues.some((q) => round < q.length); round++) {
    for (const q of queues) if (round < q.length) anomalies.push(q[round]);
  }
  // Half the budget for nominal images so the pixel AUROC still sees clean surfaces.
  const nominalShare = Math.min(nominal.length, Math.floor(limit / 2));
  const anomalous = anomalies.slice(0, limit - nominalShare);
  return [...anomalous, ...nominal.slice(0, limit - anomalous.length)];
}

async function gradientMapsFor(
  experiment: Experiment,
  prepared: Prepared,
  model: MultiCueModel,
  test: readonly CachedFeatures[],
  opts: RunCellOptions,
): Promise<Map<string, Float32Array>> {
  const chosen = gradientMapSelection(experiment, test);
  const out = new Map<string, Float32Array>();
  if (chosen.length === 0) return out;
  const sourceById = new Map(prepared.sources.map((s) => [s.id, s]));
  const batch = Math.max(1, experiment.config.localization.batchSize);
  const bar = progress('gradient maps', chosen.length, { silent: opts.silent, unit: 'img' });
  for (let start = 0; start < chosen.length; start += batch) {
    const items = chosen.slice(start, start + batch);
    const images = await Promise.all(items.map(async (item) => (await sourceById.get(item.id)!.load()).image));
    const maps = localize(model, prepared.backbone, images, experiment.config, { silent: true });
    items.forEach((item, i) => out.set(item.id, maps[i].map));
    bar.tick(items.length);
  }
  bar.done();
  return out;
}

function createBaseline(experiment: Experiment): UnsupervisedBaseline {
  const seed = experiment.protocol.seed;
  return experiment.method === 'patchcore'
    ? new PatchCore({ seed, ...(experiment.patchcore as PatchCoreOptions) })
    : new Padim({ seed, ...(experiment.padim as PadimOptions) });
}

async function runBaseline(experiment: Experiment, prepared: Prepared, opts: RunCellOptions): Promise<CellResult> {
  const t0 = Date.now();
  const baseline = opts.baseline ?? createBaseline(experiment);
  if (!opts.baseline) await baseline.fit(prepared.cache.group('pool').map((e) => tapsFromCache(e)));
  const t1 = Date.now();
  const test = prepared.cache.group('test');
  const size = prepared.geometry.size;
  const bar = progress(experiment.method, test.length, { silent: opts.silent, unit: 'img' });
  const predictions = test.map((item) => {
    const p = baseline.predict(tapsFromCache(item), { mapSize: { height: size, width: size } });
    bar.tick();
    return p;
  });
  bar.done();
  const t2 = Date.now();
  const images: TestImageResult[] = test.map((item, i) => ({
    id: item.id,
    label: item.trueLabel,
    defect: defectOf(item),
    score: predictions[i].imageScore,
    deviation: null,
    uncertainty: null,
    segmentation: null,
    p: null,
  }));
  const maps = predictions.map((p) => ({ main: p.map }));
  const evaluation = evaluateImages(
    images.map((img, i) => ({ id: img.id, label: img.label, score: img.score, mask: test[i].mask, maps: maps[i] })),
  );
  return {
    experiment,
    images,
    evaluation,
    maps,
    model: null,
    baseline,
    trainLog: [],
    seconds: { train: (t1 - t0) / 1000, score: (t2 - t1) / 1000, localize: 0 },
  };
}

