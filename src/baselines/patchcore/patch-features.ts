import * as tf from '@tensorflow/tfjs';
import type { FeatureMap, ImageTaps, PointMatrix } from '../types.ts';

/**
 * PatchCore's locally aware patch features for one image: the stride-8 and
 * stride-16 taps are each averaged over a 3×3 neighbourhood (the paper's
 * aggregation, which widens each patch's receptive field without going deeper),
 * the stride-16 result is upsampled bilinearly to the stride-8 grid
 * (align_corners=False), and the two are concatenated on channels.
 * One row per stride-8 grid cell, row-major.
 *
 * The 3×3 average uses 'same' padding that averages only the cells inside the
 * map (TensorFlow's convention), so border patches are not pulled toward zero.
 */
export function patchCoreFeatures(taps: ImageTaps): PointMatrix {
  const [t8, t16] = taps;
  const out = tf.tidy(() => {
    const a8 = tf.avgPool(toTensor(t8), 3, 1, 'same');
    const a16 = tf.avgPool(toTensor(t16), 3, 1, 'same');
    const up16 =
      t16.height === t8.height && t16.width === t8.width
        ? a16
        : tf.image.resizeBilinear(a16, [t8.height, t8.width], false, true);
    return tf.concat([a8, up16], 3);
  });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return { rows: t8.height * t8.width, cols: t8.channels + t16.channels, data };
}

function toTensor(map: FeatureMap): tf.Tensor4D {
  return tf.tensor4d(map.data, [1, map.height, map.width, map.channels]);
}
