import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { updateRunningMoments, type BatchMoments } from '../model/batch-norm.ts';
import { createMultiCueModel, type MultiCueModel } from '../model/multicue-model.ts';
import { clipByGlobalNorm, globalNorm, AdamWithDecay } from '../model/optimizer.ts';
import { saveModel } from '../model/serialization.ts';
import { modelSpec, segmentationOutputSize, specMismatch } from '../model/spec.ts';
import { writeJsonAtomicSync } from '../util/atomic.ts';
import { progress } from '../util/progress.ts';
import type { Rng } from '../util/rng.ts';
import { BalancedBatchSampler } from './batches.ts';
import type { MultiCueConfig } from './config.ts';
import type { CachedFeatures, FeatureCache } from './feature-cache.ts';
import {
  binaryCrossEntropyWithLogits,
  classificationTargets,
  focalSegmentationLoss,
  referenceMoments,
  softDeviationLoss,
  weightedSum,
} from './losses.ts';
import { allFinite, nonFiniteIndices, NonFiniteLossError } from './nan-guard.ts';
import { lambdaSchedule, stepWeights, uniformWeights, type ReweightPhase } from './reweighting.ts';

/**
 * The MultiCue trainer (METHOD §3–4) over cached frozen-encoder features:
 * balanced batches, soft-deviation + classification + focal segmentation loss,
 * α-divergence instance weights on the first two after burn-in, Adam with
 * weight decay, step decay and global-norm clipping. Every random draw comes
 * from the Rng passed in, so a seed fixes the run.
 */

export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
}

export interface TrainOptions {
  /** Start from this model instead of a fresh one (it must match the cache's backbone and size). */
  model?: MultiCueModel;
  /** Save the model (atomically) after every epoch and the log beside it; a NaN keeps the last good one. */
  checkpointDir?: string | null;
  /** Extra records saved with each checkpoint (e.g. the manifest path). */
  checkpointExtra?: Record<string, unknown>;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (log: EpochLog) => void;
  /** No progress bar. */
  silent?: boolean;
}

/** Mean instance weight of a subset of the batch, times the batch size (1 = uniform). */
export interface WeightSummary {
  nominal: number;
  anomalous: number;
  /** Pool items that are truly anomalous (contamination); null when none were drawn. */
  contaminated: number | null;
}

export interface EpochLog {
  epoch: number;
  learningRate: number;
  /** λ at the epoch's last step. */
  lambda: number;
  /** Steps of this epoch still in burn-in. */
  burnInSteps: number;
  /** Means over the epoch's steps: weighted L_dev, weighted L_cls, L_seg, total. */
  loss: { deviation: number; classification: number; segmentation: number; total: number };
  /** Mean unweighted per-sample losses (what the weights were computed from). */
  rawLoss: { deviation: number; classification: number };
  weights: { deviation: WeightSummary; classification: WeightSummary };
  /** Batches whose classifier target used the 2-means rule. */
  clusterBatches: number;
  /** Mean global gradient norm before clipping. */
  gradientNorm: number;
  /** Live tfjs tensors at the end of the epoch (flat from epoch 2 on: no leak). */
  tensors: number;
  seconds: number;
}

export interface TrainResult {
  model: MultiCueModel;
  log: EpochLog[];
  totalSteps: number;
  burnInSteps: number;
  seconds: number;
}

/** Learning rate of an epoch under step decay. */
export function learningRateAt(config: MultiCueConfig, epoch: number): number {
  const o = config.optimizer;
  return o.learningRate * o.decayFactor ** Math.floor(epoch / o.decayEveryEpochs);
}

class Mean {
  private sum = 0;
  private count = 0;
  add(value: number, count = 1): void {
    this.sum += value * count;
    this.count += count;
  }
  get value(): number {
    return this.count ? this.sum / this.count : NaN;
  }
  get valueOrNull(): number | null {
    return this.count ? this.sum / this.count : null;
  }
}

class WeightTracker {
  readonly nominal = new Mean();
  readonly anomalous = new Mean();
  readonly contaminated = new Mean();
  add(batch: readonly CachedFeatures[], weights: ArrayLike<number>): void {
    batch.forEach((item, i) => {
      const scaled = weights[i] * batch.length;
      (item.trainLabel === 0 ? this.nominal : this.anomalous).add(scaled);
      if (item.trainLabel === 0 && item.trueLabel === 1) this.contaminated.add(scaled);
    });
  }
  summary(): WeightSummary {
    return { nominal: this.nominal.value, anomalous: this.anomalous.value, contaminated: this.contaminated.valueOrNull };
  }
}

/**
 * Pixel targets and validity at the segmentation head's resolution: pool items
 * are all-normal, anomalies use their mask, anomalies without a mask are
 * ignored. Downsampling averages, so a target is the anomalous pixel fraction.
 */
function segmentationTargets(batch: readonly CachedFeatures[], imageSize: number, outSize: number): { target: tf.Tensor4D; valid: tf.Tensor4D } {
  return tf.tidy(() => {
    const n = batch.length;
    const pixels = imageSize * imageSize;
    const values = new Float32Array(n * pixels);
    const valid = new Float32Array(n);
    batch.forEach((item, i) => {
      if (item.trainLabel === 0) {
        valid[i] = 1;
      } else if (item.mask) {
        valid[i] = 1;
        for (let p = 0; p < pixels; p++) values[i * pixels + p] = item.mask[p];
      }
    });
    let target = tf.tensor4d(values, [n, imageSize, imageSize, 1]);
    if (outSize !== imageSize) {
      const factor = imageSize / outSize;
      target = Number.isInteger(factor)
        ? tf.avgPool(target, factor, factor, 'valid')
        : tf.image.resizeBilinear(target, [outSize, outSize], false, true);
    }
    return { target, valid: tf.tensor4d(valid, [n, 1, 1, 1]) };
  });
}

/** What one step needs fixed before its gradient: per-sample losses, their weights, q and the classifier targets. */
interface BatchPlan {
  /** q per sample: the label during burn-in, afterwards the classifier's p(x), as constants (detached). */
  q: Float32Array;
  /** Classifier targets t (y, or y OR 2-means(φ)). */
  targets: Float32Array;
  rawDev: Float32Array;
  rawCls: Float32Array;
  wDev: Float64Array;
  wCls: Float64Array;
  reference: { mean: number; std: number };
}

/**
 * Per-sample L_dev and L_cls of the whole batch (the deviation and classifier
 * heads have no batch norm, so this pass equals the one inside the gradient)
 * and the instance weights from them: uniform in burn-in, α-divergence after.
 */
function planBatch(
  model: MultiCueModel,
  taps: readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D],
  labels: Float32Array,
  phase: ReweightPhase,
  reference: { mean: number; std: number },
  useClusters: boolean,
  config: MultiCueConfig,
): BatchPlan {
  const { alpha } = config.reweighting;
  let plan: BatchPlan | null = null;
  tf.tidy(() => {
    const out = model.forwardScores(taps);
    // Copies: a backend may hand out its own buffer, which the tidy then frees.
    const values = (t: tf.Tensor) => Float32Array.from(t.dataSync());
    const q = phase.uniform ? labels : values(out.p);
    const rawDev = values(softDeviationLoss(out.phi, tf.tensor1d(q), reference, config.loss.margin));
    const phiValues = values(out.phi);
    const targets = useClusters && allFinite(phiValues) ? classificationTargets(labels, phiValues, true) : labels;
    const rawCls = values(binaryCrossEntropyWithLogits(out.logit, tf.tensor1d(targets)));
    // Non-finite losses keep uniform weights: the NaN guard reports them after the pass.
    const weights = (raw: Float32Array) => (allFinite(raw) ? stepWeights(raw, phase, alpha) : uniformWeights(raw.length));
    plan = { q, targets, rawDev, rawCls, wDev: weights(rawDev), wCls: weights(rawCls), reference };
  });
  return plan!;
}

/**
 * Gradient of weighted L_dev + weighted L_cls + L_seg for the batch, in
 * micro-batches when configured (their gradients summed; the segmentation
 * loss stays the mean over the whole batch's valid pixels).
 */
function batchGradients(
  model: MultiCueModel,
  cache: FeatureCache,
  batch: readonly CachedFeatures[],
  plan: BatchPlan,
  moments: BatchMoments[],
  config: MultiCueConfig,
  variables: tf.Variable[],
  outSize: number,
): { total: number; grads: tf.Tensor[]; record: { dev: number; cls: number; seg: number } } {
  const { margin, focalGamma, focalSmoothing } = config.loss;
  const chunk = Math.min(batch.length, config.schedule.microBatchSize ?? batch.length);
  const validImages = batch.filter(hasPixelTruth).length;
  const record = { dev: 0, cls: 0, seg: 0 };
  let total = 0;
  let grads: tf.Tensor[] | null = null;
  for (let start = 0; start < batch.length; start += chunk) {
    const end = Math.min(batch.length, start + chunk);
    const part = batch.slice(start, end);
    const taps = cache.tapTensors(part);
    const { target, valid } = segmentationTargets(part, cache.imageSize, outSize);
    // This chunk's share of the batch's valid pixels (every image has the same pixel count).
    const segShare = validImages > 0 ? part.filter(hasPixelTruth).length / validImages : 0;
    const { value, grads: named } = tf.variableGrads(() => {
      const out = model.forward(taps, { training: true, collect: moments });
      const devLoss = softDeviationLoss(out.phi, tf.tensor1d(plan.q.subarray(start, end)), plan.reference, margin);
      const clsLoss = binaryCrossEntropyWithLogits(out.logit, tf.tensor1d(plan.targets.subarray(start, end)));
      const dev = weightedSum(devLoss, plan.wDev.subarray(start, end));
      const cls = weightedSum(clsLoss, plan.wCls.subarray(start, end));
      const seg = tf.mul(focalSegmentationLoss(out.segmentation, target, valid, focalGamma, focalSmoothing), segShare) as tf.Scalar;
      record.dev += dev.dataSync()[0];
      record.cls += cls.dataSync()[0];
      record.seg += seg.dataSync()[0];
      return tf.addN([dev, cls, seg]) as tf.Scalar;
    }, variables);
    total += value.dataSync()[0];
    tf.dispose([value, ...taps, target, valid]);
    const list = variables.map((v) => named[v.name]);
    if (grads) {
      const summed: tf.Tensor[] = grads.map((g, i) => tf.add(g, list[i]));
      tf.dispose([...grads, ...list]);
      grads = summed;
    } else grads = list;
  }
  return { total, grads: grads!, record };
}

/** Pool images (all normal) and anomalies with a mask have pixel truth; masks of the others are ignored. */
function hasPixelTruth(item: CachedFeatures): boolean {
  return item.trainLabel === 0 || item.mask !== null;
}

/** Yield to the event loop so progress output and timers run between steps. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function train(
  config: MultiCueConfig,
  cache: FeatureCache,
  rng: Rng,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const started = Date.now();
  const { schedule, loss: lossConfig, reweighting, optimizer: optConfig } = config;
  const model = opts.model ?? createMultiCueModel(modelSpec(cache.backbone, cache.imageSize, config.model), rng.fork('init'));
  const mismatch = specMismatch(model.spec, cache.backbone, cache.imageSize);
  if (mismatch) throw new Error(`train: the start model does not fit the feature cache: ${mismatch}`);

  const sampler = new BalancedBatchSampler(
    { nominal: cache.group('pool'), pseudo: cache.group('pseudo'), fewShot: cache.group('fewshot') },
    schedule.batchSize,
    schedule.fewShotShare,
    rng.fork('batches'),
  );
  const referenceRng = rng.fork('references');
  const clusterRng = rng.fork('clusters');
  const totalSteps = schedule.epochs * schedule.stepsPerEpoch;
  const burnInSteps = Math.round(lossConfig.burnInFraction * totalSteps);
  const outSize = segmentationOutputSize(model.spec);
  const variables = model.trainableVariables();
  const optimizer = new AdamWithDecay({
    beta1: optConfig.beta1,
    beta2: optConfig.beta2,
    epsilon: optConfig.epsilon,
    weightDecay: optConfig.weightDecay,
  });
  const bar = progress('train', totalSteps, { silent: opts.silent, unit: 'step' });
  const log: EpochLog[] = [];
  let lastGoodCheckpoint: string | null = null;

  try {
    for (let epoch = 0; epoch < schedule.epochs; epoch++) {
      const epochStarted = Date.now();
      const learningRate = learningRateAt(config, epoch);
      const means = {
        deviation: new Mean(),
        classification: new Mean(),
        segmentation: new Mean(),
        total: new Mean(),
        rawDeviation: new Mean(),
        rawClassification: new Mean(),
        gradientNorm: new Mean(),
      };
      const devWeights = new WeightTracker();
      const clsWeights = new WeightTracker();
      let clusterBatches = 0;
      let epochBurnIn = 0;
      let lambda = reweighting.lambda;

      for (let s = 0; s < schedule.stepsPerEpoch; s++) {
        const step = epoch * schedule.stepsPerEpoch + s;
        const batch = sampler.next();
        const phase = lambdaSchedule(step, burnInSteps, reweighting.lambda, reweighting.lambdaSchedule);
        lambda = phase.lambda;
        if (phase.uniform) epochBurnIn++;
        const reference = referenceMoments(referenceRng, lossConfig.referenceCount);
        // Drawn every step (burn-in too) so the stream does not depend on the phase.
        const clusterDraw = clusterRng.next() < lossConfig.clusterProbability;
        const useClusters = !phase.uniform && clusterDraw;
        if (useClusters) clusterBatches++;

        const labels = Float32Array.from(batch, (item) => item.trainLabel);
        const taps = cache.tapTensors(batch);
        const plan = planBatch(model, taps, labels, phase, reference, useClusters, config);
        taps.forEach((t) => t.dispose());
        const moments: BatchMoments[] = [];
        const pass = batchGradients(model, cache, batch, plan, moments, config, variables, outSize);
        const { total, record } = pass;
        const gradList = pass.grads;
        const norm = globalNorm(gradList);

        if (!Number.isFinite(total) || !Number.isFinite(norm)) {
          tf.dispose(gradList);
          for (const m of moments) {
            m.mean.dispose();
            m.variance.dispose();
          }
          const suspects = new Set([...nonFiniteIndices(plan.rawDev), ...nonFiniteIndices(plan.rawCls)]);
          throw new NonFiniteLossError(
            step + 1,
            epoch + 1,
            Number.isFinite(total) ? 'gradient' : 'loss',
            batch.map((b) => b.id),
            [...suspects].sort((a, b) => a - b).map((i) => batch[i].id),
            lastGoodCheckpoint,
          );
        }

        const clipped = clipByGlobalNorm(gradList, norm, optConfig.clipNorm);
        optimizer.apply(variables, clipped, learningRate);
        if (clipped !== gradList) tf.dispose(clipped);
        tf.dispose(gradList);
        updateRunningMoments(model.params, moments);
        const { wDev, wCls } = plan;

        means.deviation.add(record.dev);
        means.classification.add(record.cls);
        means.segmentation.add(record.seg);
        means.total.add(total);
        means.rawDeviation.add(mean(plan.rawDev));
        means.rawClassification.add(mean(plan.rawCls));
        means.gradientNorm.add(norm);
        devWeights.add(batch, wDev);
        clsWeights.add(batch, wCls);

        bar.tick(1, `loss ${total.toFixed(3)}`);
        opts.onProgress?.({ step: step + 1, totalSteps, epoch, loss: total });
        await yieldToEventLoop();
      }

      const entry: EpochLog = {
        epoch: epoch + 1,
        learningRate,
        lambda,
        burnInSteps: epochBurnIn,
        loss: {
          deviation: means.deviation.value,
          classification: means.classification.value,
          segmentation: means.segmentation.value,
          total: means.total.value,
        },
        rawLoss: { deviation: means.rawDeviation.value, classification: means.rawClassification.value },
        weights: { deviation: devWeights.summary(), classification: clsWeights.summary() },
        clusterBatches,
        gradientNorm: means.gradientNorm.value,
        tensors: tf.memory().numTensors,
        seconds: (Date.now() - epochStarted) / 1000,
      };
      log.push(entry);
      if (opts.checkpointDir) {
        await saveModel(model, opts.checkpointDir, {
          ...opts.checkpointExtra,
          config,
          epoch: epoch + 1,
          totalSteps,
          trainingLog: log,
        });
        writeJsonAtomicSync(join(opts.checkpointDir, 'train-log.json'), log);
        lastGoodCheckpoint = opts.checkpointDir;
      }
      opts.onEpoch?.(entry);
    }
  } catch (err) {
    // A model we created is useless after a failure; one passed in stays the caller's.
    if (!opts.model) model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
    bar.done();
  }
  return { model, log, totalSteps, burnInSteps, seconds: (Date.now() - started) / 1000 };
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length ? sum / values.length : NaN;
}
