import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { uniformInit, type ParameterSet } from './parameters.ts';

/**
 * Uncertainty head, the auxiliary classifier (METHOD §2): global average pool of
 * the stride-32 tap A → linear → sigmoid → p(x) = P(anomalous). The logit is
 * returned too, for a numerically stable cross-entropy.
 */

export function addUncertaintyHeadParameters(params: ParameterSet, channels: number, rng: Rng): void {
  params.add('uncertainty.weight', uniformInit(channels, channels, rng), [channels, 1]);
  params.add('uncertainty.bias', uniformInit(1, channels, rng), [1]);
}

export interface UncertaintyOutput {
  /** [N] */
  logit: tf.Tensor1D;
  /** sigmoid(logit), [N] */
  p: tf.Tensor1D;
}

export function uncertaintyHead(deepest: tf.Tensor4D, params: ParameterSet): UncertaintyOutput {
  return tf.tidy(() => {
    const pooled = tf.mean(deepest, [1, 2]) as tf.Tensor2D;
    const logit = tf.reshape(
      tf.add(tf.matMul(pooled, params.get('uncertainty.weight') as tf.Tensor2D), params.get('uncertainty.bias')),
      [-1],
    ) as tf.Tensor1D;
    return { logit, p: tf.sigmoid(logit) };
  });
}
