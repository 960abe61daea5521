import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../backbones/types.ts';
import type { RgbImage } from '../data/types.ts';
import type { MultiCueModel, Taps } from '../model/multicue-model.ts';
import { backboneIdentity, specMismatch } from '../model/spec.ts';
import type { ScoringConfig } from '../training/config.ts';
import { imagesToTensor, type CachedFeatures, type FeatureCache, type FeatureGroup } from '../training/feature-cache.ts';
import { progress } from '../util/progress.ts';
import { binaryEntropyCue, segmentationCue } from './cues.ts';
import { fuseAll, type CueScores, type FusionConfig } from './fusion.ts';

/**
 * The tri-signal score (METHOD §5): one forward pass gives φ(x), p(x) and S(x);
 * every image gets all three cues and their fusion, plus its segmentation map
 * S(x) at input size for pixel metrics.
 */

export interface ScoredImage extends CueScores {
  id: string;
  /** The classifier's p(x) (the uncertainty cue is its entropy). */
  p: number;
}

export interface ScoredFeatureImage extends ScoredImage {
  group: FeatureGroup;
  trueLabel: 0 | 1;
  defect?: string;
}

export interface ScoreOptions {
  /** Images per forward pass. */
  batchSize?: number;
  /** Keep S(x) per image (size² floats each); default true. */
  keepMaps?: boolean;
  silent?: boolean;
}

export interface ScoreResult<T extends ScoredImage> {
  scores: T[];
  /** S(x) at input size, row-major, one per image (null when keepMaps is false). */
  maps: Float32Array[] | null;
  /** Side of the maps. */
  mapSize: number;
}

/** The fusion settings the scoring config implies. */
export function fusionConfigOf(scoring: ScoringConfig): FusionConfig {
  return { weights: { ...scoring.fusionWeights }, deviationScale: scoring.deviationScale, eps: scoring.fusionEpsilon };
}

/** Cues of a batch of taps (plain numbers) and the maps at input size. */
function scoreTaps(model: MultiCueModel, taps: Taps, scoring: ScoringConfig): { cues: Array<CueScores & { p: number }>; maps: Float32Array[] } {
  const size = model.spec.imageSize;
  const { phi, p, map } = tf.tidy(() => {
    const out = model.forward(taps);
    return { phi: out.phi, p: out.p, map: model.anomalyMap(out.segmentation) };
  });
  const phiValues = phi.dataSync();
  const pValues = p.dataSync();
  const mapValues = map.dataSync() as Float32Array;
  tf.dispose([phi, p, map]);
  const pixels = size * size;
  const maps: Float32Array[] = [];
  const raw = Array.from(phiValues, (deviation, i) => {
    const s = mapValues.slice(i * pixels, (i + 1) * pixels);
    maps.push(s);
    return {
      deviation,
      uncertainty: binaryEntropyCue(Math.min(1, Math.max(0, pValues[i]))),
      segmentation: segmentationCue(s, size, size, {
        topFraction: scoring.rho,
        smoothSize: scoring.boxFilter ? scoring.boxFilterSize : 0,
        edge: scoring.boxFilterEdge,
      }),
    };
  });
  const fused = fuseAll(raw, fusionConfigOf(scoring));
  return { cues: fused.map((c, i) => ({ ...c, p: pValues[i] })), maps };
}

/**
 * Score cached items (default: the cache's test group). The model must have
 * been trained for the cache's backbone and image size.
 */
export function scoreImages(
  model: MultiCueModel,
  cache: FeatureCache,
  scoring: ScoringConfig,
  opts: ScoreOptions & { items?: readonly CachedFeatures[] } = {},
): ScoreResult<ScoredFeatureImage> {
  const mismatch = specMismatch(model.spec, cache.backbone, cache.imageSize);
  if (mismatch) throw new Error(`scoreImages: the model does not fit the feature cache: ${mismatch}`);
  const items = opts.items ?? cache.group('test');
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const keepMaps = opts.keepMaps ?? true;
  const scores: ScoredFeatureImage[] = [];
  const maps: Float32Array[] = [];
  const bar = progress('score', items.length, { silent: opts.silent, unit: 'img' });
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    const taps = cache.tapTensors(batch);
    const result = scoreTaps(model, taps, scoring);
    taps.forEach((t) => t.dispose());
    batch.forEach((item, i) => {
      scores.push({
        id: item.id,
        group: item.group,
        trueLabel: item.trueLabel,
        ...(item.defect !== undefined ? { defect: item.defect } : {}),
        ...result.cues[i],
      });
      if (keepMaps) maps.push(result.maps[i]);
    });
    bar.tick(batch.length);
  }
  bar.done();
  return { scores, maps: keepMaps ? maps : null, mapSize: cache.imageSize };
}

/**
 * Score images straight from pixels (prediction without a cache): backbone and
 * model in one pass per batch. `ids` name the results (default "0", "1", ...).
 */
export function scoreRgbImages(
  model: MultiCueModel,
  backbone: Backbone,
  images: readonly RgbImage[],
  scoring: ScoringConfig,
  opts: ScoreOptions & { ids?: readonly string[] } = {},
): ScoreResult<ScoredImage> {
  const size = model.spec.imageSize;
  const mismatch = specMismatch(model.spec, backboneIdentity(backbone), size);
  if (mismatch) throw new Error(`scoreRgbImages: the model does not fit this backbone: ${mismatch}`);
  for (const [i, img] of images.entries()) {
    if (img.width !== size || img.height !== size) {
      throw new Error(`scoreRgbImages: image ${opts.ids?.[i] ?? i} is ${img.width}×${img.height}, the model needs ${size}×${size}`);
    }
  }
  const batchSize = Math.max(1, opts.batchSize ?? 8);
  const keepMaps = opts.keepMaps ?? true;
  const scores: ScoredImage[] = [];
  const maps: Float32Array[] = [];
  const bar = progress('score', images.length, { silent: opts.silent, unit: 'img' });
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const input = imagesToTensor(batch, size);
    const taps = backbone.forward(input);
    input.dispose();
    const result = scoreTaps(model, taps, scoring);
    taps.forEach((t) => t.dispose());
    batch.forEach((_, i) => {
      scores.push({ id: opts.ids?.[start + i] ?? String(start + i), ...result.cues[i] });
      if (keepMaps) maps.push(result.maps[i]);
    });
    bar.tick(batch.length);
  }
  bar.done();
  return { scores, maps: keepMaps ? maps : null, mapSize: size };
}
