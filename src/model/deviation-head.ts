import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { uniformInit, type ParameterSet } from './parameters.ts';
import { pointwise, topFractionMeanRows } from './tensor-ops.ts';

/**
 * Deviation head (METHOD §2, Eq. 2): a 1×1 convolution C→1 over the multi-scale
 * map F gives one score per patch; φ(x) is the mean of the top κ fraction of
 * the patches' absolute scores, so φ ≥ 0. With `hidden` > 0 (ours) the patch
 * scorer is a two-layer 1×1 MLP (C→hidden, ReLU, hidden→1): over a frozen
 * encoder a single direction in feature space cannot tell every defect kind
 * from nominal texture, which a fine-tuned encoder (METHOD's setting) learns to do.
 */

export function addDeviationHeadParameters(params: ParameterSet, channels: number, rng: Rng, hidden = 0): void {
  if (hidden > 0) {
    params.add('deviation.hidden.weight', uniformInit(channels * hidden, channels, rng), [channels, hidden]);
    params.add('deviation.hidden.bias', uniformInit(hidden, channels, rng), [hidden]);
  }
  const width = hidden > 0 ? hidden : channels;
  params.add('deviation.weight', uniformInit(width, width, rng), [width, 1]);
  params.add('deviation.bias', uniformInit(1, width, rng), [1]);
}

export interface DeviationOutput {
  /** |patch score| per grid cell, [N, h, w]. */
  patchScores: tf.Tensor3D;
  /** φ(x), [N]. */
  phi: tf.Tensor1D;
}

export function deviationHead(features: tf.Tensor4D, params: ParameterSet, kappa: number, hidden = 0): DeviationOutput {
  return tf.tidy(() => {
    const [n, h, w] = features.shape;
    const input =
      hidden > 0
        ? tf.relu(pointwise(features, params.get('deviation.hidden.weight') as tf.Tensor2D, params.get('deviation.hidden.bias') as tf.Tensor1D))
        : features;
    const scores = pointwise(
      input,
      params.get('deviation.weight') as tf.Tensor2D,
      params.get('deviation.bias') as tf.Tensor1D,
    );
    const patchScores = tf.reshape(tf.abs(scores), [n, h, w]) as tf.Tensor3D;
    const phi = topFractionMeanRows(tf.reshape(patchScores, [n, h * w]) as tf.Tensor2D, kappa);
    return { patchScores, phi };
  });
}
