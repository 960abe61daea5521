import * as tf from '@tensorflow/tfjs';
import { multiScaleFeatures } from '../../backbones/multiscale.ts';
import type { Rng } from '../../util/rng.ts';
import type { FeatureMap, ImageTaps, PointMatrix } from '../types.ts';

/**
 * PaDiM's patch embedding for one image: the three taps with the stride-16 and
 * stride-32 ones resized bilinearly to the stride-8 grid (the same
 * multi-scale map the detector uses), concatenated, then reduced to a fixed
 * random subset of channels (the paper's cheap alternative to PCA).
 * One row per stride-8 grid cell, row-major; columns in `channels` order.
 */
export function padimEmbedding(taps: ImageTaps, channels: Int32Array): PointMatrix {
  const out = tf.tidy(() => {
    const full = multiScaleFeatures([toTensor(taps[0]), toTensor(taps[1]), toTensor(taps[2])]);
    return tf.gather(full, tf.tensor1d(channels, 'int32'), 3);
  });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return { rows: taps[0].height * taps[0].width, cols: channels.length, data };
}

/** d distinct channels of `total`, seeded, sorted ascending (order does not change a Mahalanobis distance). */
export function selectChannels(total: number, d: number, rng: Rng): Int32Array {
  if (d > total) throw new Error(`PaDiM: featureDim ${d} exceeds the ${total} channels of the concatenated taps`);
  const picked = rng.sample(
    Array.from({ length: total }, (_, i) => i),
    d,
  );
  return Int32Array.from(picked).sort();
}

function toTensor(map: FeatureMap): tf.Tensor4D {
  return tf.tensor4d(map.data, [1, map.height, map.width, map.channels]);
}
