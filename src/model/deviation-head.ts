import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { uniformInit, type ParameterSet } from './parameters.ts';
import { pointwise, topFractionMeanRows } from './tensor-ops.ts';

/**
 * Deviation head (METHOD §2, Eq. 2): a 1×1 convolution C→1 over the multi-scale
 * map F gives one score per patch; φ(x) is the mean of the top κ fraction of
 * the patches' absolute scores, so φ ≥ 0.
 */

export function addDeviationHeadParameters(params: ParameterSet, channels: number, rng: Rng): void {
  params.add('deviation.weight', uniformInit(channels, channels, rng), [channels, 1]);
  params.add('deviation.bias', uniformInit(1, channels, rng), [1]);
}

export interface DeviationOutput {
  /** |patch score| per grid cell, [N, h, w]. */
  patchScores: tf.Tensor3D;
  /** φ(x), [N]. */
  phi: tf.Tensor1D;
}

export function deviationHead(features: tf.Tensor4D, params: ParameterSet, kappa: number): DeviationOutput {
  return tf.tidy(() => {
    const [n, h, w] = features.shape;
    const scores = pointwise(
      features,
      params.get('deviation.weight') as tf.Tensor2D,
      params.get('deviation.bias') as tf.Tensor1D,
    );
    const patchScores = tf.reshape(tf.abs(scores), [n, h, w]) as tf.Tensor3D;
    const phi = topFractionMeanRows(tf.reshape(patchScores, [n, h * w]) as tf.Tensor2D, kappa);
    return { patchScores, phi };
  });
}
