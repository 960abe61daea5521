import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../backbones/types.ts';
import type { RgbImage } from '../data/types.ts';
import type { MultiCueModel } from '../model/multicue-model.ts';
import { backboneIdentity, specMismatch } from '../model/spec.ts';
import type { LocalizationConfig, ScoringConfig } from '../training/config.ts';
import { imagesToTensor } from '../training/feature-cache.ts';
import { progress } from '../util/progress.ts';
import { CUE_NAMES, type CueName } from './cue-tensors.ts';
import { gaussianBlur } from './gaussian-blur.ts';
import { featureGradientMap, inputGradientMap } from './gradient-maps.ts';
import { minMaxNormalize } from './min-max.ts';

/**
 * Gradient-based localization (METHOD §6): for each cue, the min-max-normalised
 * input-gradient map and the min-max-normalised feature-gradient map are
 * averaged; the final map is the mean of the three cue maps, Gaussian-smoothed
 * (σ = 4 px at 256², scaled with size). Tensors stay inside; plain arrays out.
 */

/** The smoothing σ at an input size, given σ at 256×256 (scales linearly). */
export function sigmaForSize(sigmaAt256: number, size: number): number {
  return (sigmaAt256 * size) / 256;
}

export interface LocalizationMap {
  /** Side of the square maps. */
  size: number;
  /** Final map in [0, 1], row-major size². */
  map: Float32Array;
  /** Each cue's map (smoothed like the final one; their mean is `map`). */
  cues: Record<CueName, Float32Array>;
}

export interface LocalizeOptions {
  silent?: boolean;
  /** Only these cues (default all three); the final map averages the ones computed. */
  cues?: readonly CueName[];
}

export function localize(
  model: MultiCueModel,
  backbone: Backbone,
  images: readonly RgbImage[],
  config: { scoring: ScoringConfig; localization: LocalizationConfig },
  opts: LocalizeOptions = {},
): LocalizationMap[] {
  const size = model.spec.imageSize;
  const mismatch = specMismatch(model.spec, backboneIdentity(backbone), size);
  if (mismatch) throw new Error(`localize: the model does not fit this backbone: ${mismatch}`);
  for (const [i, img] of images.entries()) {
    if (img.width !== size || img.height !== size) {
      throw new Error(`localize: image ${i} is ${img.width}×${img.height}, the model needs ${size}×${size}`);
    }
  }
  const cues = opts.cues ?? CUE_NAMES;
  const { localization, scoring } = config;
  const sigma = sigmaForSize(localization.sigmaAt256, size);
  const batchSize = Math.max(1, localization.batchSize);
  const out: LocalizationMap[] = [];
  const bar = progress('localize', images.length, { silent: opts.silent, unit: 'img' });
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const input = imagesToTensor(batch, size);
    const taps = backbone.forward(input);
    const perCue = new Map<CueName, { input: Float32Array; feature: Float32Array }>();
    for (const cue of cues) {
      const inputMap = inputGradientMap(model, backbone, input, cue, scoring);
      const featureMap = featureGradientMap(model, taps, cue, scoring, localization.featureTerm, size);
      perCue.set(cue, { input: inputMap.dataSync() as Float32Array, feature: featureMap.dataSync() as Float32Array });
      tf.dispose([inputMap, featureMap]);
    }
    tf.dispose([input, ...taps]);
    const pixels = size * size;
    batch.forEach((_, i) => {
      const cueMaps = {} as Record<CueName, Float32Array>;
      const final = new Float32Array(pixels);
      for (const cue of cues) {
        const maps = perCue.get(cue)!;
        const a = minMaxNormalize(maps.input.subarray(i * pixels, (i + 1) * pixels));
        const b = minMaxNormalize(maps.feature.subarray(i * pixels, (i + 1) * pixels));
        const combined = new Float32Array(pixels);
        for (let p = 0; p < pixels; p++) combined[p] = 0.5 * (a[p] + b[p]);
        const smoothed = gaussianBlur(combined, size, size, sigma);
        cueMaps[cue] = smoothed;
        for (let p = 0; p < pixels; p++) final[p] += smoothed[p] / cues.length;
      }
      out.push({ size, map: final, cues: cueMaps });
    });
    bar.tick(batch.length);
  }
  bar.done();
  return out;
}
