import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../backbones/types.ts';
import type { MultiCueModel } from '../model/multicue-model.ts';
import type { LocalizationConfig, ScoringConfig } from '../training/config.ts';
import { cueTensor, type CueName } from './cue-tensors.ts';

/**
 * Raw gradient maps of one cue (METHOD §6, Eq. 11–12), before normalisation:
 * - input term: Σ_RGB |∂s_c/∂x|, at input size;
 * - feature term: Σ_channels |∂s_c/∂A ⊙ A| (or |∂s_c/∂A|) on the stride-32
 *   grid, upsampled bilinearly to input size.
 * The model runs in inference mode, so images in a batch do not interact and
 * the gradient of the batch sum is each image's own gradient.
 */

export type ScoringForCues = Pick<ScoringConfig, 'rho' | 'boxFilter' | 'boxFilterSize'>;

/** Σ_RGB |∂s_c/∂x| for a batch [N, S, S, 3] → [N, S, S]. Runs the backbone inside tf.grad. */
export function inputGradientMap(
  model: MultiCueModel,
  backbone: Backbone,
  images: tf.Tensor4D,
  cue: CueName,
  scoring: ScoringForCues,
): tf.Tensor3D {
  return tf.tidy(() => {
    const gradient = tf.grad((x: tf.Tensor) => {
      const taps = backbone.forward(x as tf.Tensor4D, { forGradient: true });
      return tf.sum(cueTensor(cue, model, model.forward(taps), scoring));
    })(images);
    return tf.sum(tf.abs(gradient), 3) as tf.Tensor3D;
  });
}

/**
 * Σ_channels |∂s_c/∂A ⊙ A| (or |∂s_c/∂A|) for given taps, upsampled to `size` → [N, size, size].
 * A reaches the cue through the multi-scale map and the classifier; both paths count.
 */
export function featureGradientMap(
  model: MultiCueModel,
  taps: readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D],
  cue: CueName,
  scoring: ScoringForCues,
  term: LocalizationConfig['featureTerm'],
  size: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const [t8, t16, deepest] = taps;
    const gradient = tf.grad((a: tf.Tensor) =>
      tf.sum(cueTensor(cue, model, model.forward([t8, t16, a as tf.Tensor4D]), scoring)),
    )(deepest);
    const magnitude = tf.abs(term === 'grad' ? gradient : tf.mul(gradient, deepest));
    const summed = tf.sum(magnitude, 3, true) as tf.Tensor4D;
    const up = tf.image.resizeBilinear(summed, [size, size], false, true);
    return tf.reshape(up, [up.shape[0], size, size]) as tf.Tensor3D;
  });
}
