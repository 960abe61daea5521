import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../../src/backbones/types.ts';
import type { BackboneIdentity } from '../../src/model/spec.ts';
import { parseConfig, type MultiCueConfig, type MultiCueConfigInput } from '../../src/training/config.ts';
import {
  FeatureCache,
  float32ToFloat16,
  type CachedFeatures,
  type FeatureGroup,
  type HalfTensor,
} from '../../src/training/feature-cache.ts';
import { Rng } from '../../src/util/rng.ts';

/** Shared test fixtures: a tiny differentiable backbone and a synthetic feature problem. */

export const TOY_IDENTITY: BackboneIdentity = {
  name: 'toy',
  weightsId: 'toy-v1',
  tapChannels: [6, 6, 6],
  tapStrides: [8, 16, 32],
};

/**
 * A fixed conv stack with taps at strides 8/16/32: average pooling then a
 * seeded 1×1 conv and ReLU at each scale. Every tap cell sees only its own
 * image region, which makes localization testable.
 */
export function toyBackbone(seed = 7, weightsId = 'toy-v1', channels = 6): Backbone {
  const rng = new Rng(seed);
  const filter = (inC: number, outC: number) =>
    tf.tensor4d(
      Float32Array.from({ length: inC * outC }, () => rng.uniform(0.1, 1)),
      [1, 1, inC, outC],
    );
  const w8 = filter(3, channels);
  const w16 = filter(channels, channels);
  const w32 = filter(channels, channels);
  return {
    name: 'toy',
    tapNames: ['t8', 't16', 't32'],
    tapChannels: [channels, channels, channels],
    tapStrides: [8, 16, 32],
    weightsId,
    forward(input: tf.Tensor4D) {
      return tf.tidy(() => {
        const t8 = tf.relu(tf.conv2d(tf.avgPool(input, 8, 8, 'valid'), w8, 1, 'same'));
        const t16 = tf.relu(tf.conv2d(tf.avgPool(t8, 2, 2, 'valid'), w16, 1, 'same'));
        const t32 = tf.relu(tf.conv2d(tf.avgPool(t16, 2, 2, 'valid'), w32, 1, 'same'));
        return [t8, t16, t32] as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      });
    },
    trainableVariables: () => [],
    dispose() {
      tf.dispose([w8, w16, w32]);
    },
  };
}

/** A config small enough for tests (a few seconds of CPU). */
export function smallConfig(overrides: MultiCueConfigInput = {}): MultiCueConfig {
  return parseConfig({
    ...overrides,
    model: { segmentationChannels: 8, ...overrides.model },
    optimizer: { learningRate: 5e-3, ...overrides.optimizer },
    schedule: { batchSize: 16, stepsPerEpoch: 8, epochs: 4, ...overrides.schedule },
    loss: { referenceCount: 500, ...overrides.loss },
  });
}

export const IMAGE_SIZE = 64;

/**
 * Random taps for a 64² image (grids 8², 4², 2²). Anomalies add a shift to a
 * random 2×2 block of stride-8 cells (and the cells above it), with the
 * matching pixel mask.
 */
function syntheticItem(
  id: string,
  group: FeatureGroup,
  trainLabel: 0 | 1,
  trueLabel: 0 | 1,
  rng: Rng,
  channels = 6,
): CachedFeatures {
  const grids = [8, 4, 2];
  const values = grids.map((g) => Float32Array.from({ length: g * g * channels }, () => Math.abs(rng.normal(0.5, 0.3))));
  let mask: Uint8Array | null = new Uint8Array(IMAGE_SIZE * IMAGE_SIZE);
  if (trueLabel === 1) {
    const cy = rng.int(0, 6);
    const cx = rng.int(0, 6);
    grids.forEach((g, t) => {
      const scale = 8 / g;
      for (let y = 0; y < g; y++) {
        for (let x = 0; x < g; x++) {
          const inside = Math.floor(cy / scale) <= y && y <= Math.floor((cy + 1) / scale) && Math.floor(cx / scale) <= x && x <= Math.floor((cx + 1) / scale);
          if (!inside) continue;
          for (let c = 0; c < channels; c++) values[t][(y * g + x) * channels + c] += c % 2 === 0 ? 2.5 : -0.4;
        }
      }
    });
    for (let y = cy * 8; y < (cy + 2) * 8; y++) for (let x = cx * 8; x < (cx + 2) * 8; x++) mask[y * IMAGE_SIZE + x] = 1;
  }
  if (group === 'fewshot') mask = null;
  const taps = grids.map((g, t) => ({ shape: [g, g, channels], data: float32ToFloat16(values[t]) }) as HalfTensor);
  return { id, group, trainLabel, trueLabel, taps: taps as [HalfTensor, HalfTensor, HalfTensor], mask };
}

export interface SyntheticCacheOptions {
  pool?: number;
  contaminated?: number;
  pseudo?: number;
  fewShot?: number;
  testNominal?: number;
  testAnomalous?: number;
  seed?: number;
}

export function syntheticCache(opts: SyntheticCacheOptions = {}): FeatureCache {
  const rng = new Rng(opts.seed ?? 1);
  const entries: CachedFeatures[] = [];
  const pool = opts.pool ?? 40;
  const contaminated = opts.contaminated ?? 4;
  for (let i = 0; i < pool; i++) entries.push(syntheticItem(`pool/${i}`, 'pool', 0, i < contaminated ? 1 : 0, rng));
  for (let i = 0; i < (opts.pseudo ?? 40); i++) entries.push(syntheticItem(`pseudo/${i}`, 'pseudo', 1, 1, rng));
  for (let i = 0; i < (opts.fewShot ?? 4); i++) entries.push(syntheticItem(`fewshot/${i}`, 'fewshot', 1, 1, rng));
  for (let i = 0; i < (opts.testNominal ?? 20); i++) entries.push(syntheticItem(`test/good/${i}`, 'test', 0, 0, rng));
  for (let i = 0; i < (opts.testAnomalous ?? 20); i++) entries.push(syntheticItem(`test/bad/${i}`, 'test', 1, 1, rng));
  return new FeatureCache(TOY_IDENTITY, IMAGE_SIZE, entries);
}
