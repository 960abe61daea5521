import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { uniformInit, type ParameterSet } from './parameters.ts';
import type { UncertaintyPooling } from './spec.ts';

/**
 * Uncertainty head, the auxiliary classifier (METHOD §2): global average pool of
 * the stride-32 tap A → linear → sigmoid → p(x) = P(anomalous). The logit is
 * returned too, for a numerically stable cross-entropy. With 'mean+max'
 * pooling the linear layer sees the average and the max pool side by side.
 */

function pooledWidth(channels: number, pooling: UncertaintyPooling): number {
  return pooling === 'mean+max' ? 2 * channels : channels;
}

export function addUncertaintyHeadParameters(params: ParameterSet, channels: number, rng: Rng, pooling: UncertaintyPooling = 'mean'): void {
  const width = pooledWidth(channels, pooling);
  params.add('uncertainty.weight', uniformInit(width, width, rng), [width, 1]);
  params.add('uncertainty.bias', uniformInit(1, width, rng), [1]);
}

export interface UncertaintyOutput {
  /** [N] */
  logit: tf.Tensor1D;
  /** sigmoid(logit), [N] */
  p: tf.Tensor1D;
}

export function uncertaintyHead(deepest: tf.Tensor4D, params: ParameterSet, pooling: UncertaintyPooling = 'mean'): UncertaintyOutput {
  return tf.tidy(() => {
    const mean = tf.mean(deepest, [1, 2]) as tf.Tensor2D;
    const pooled = pooling === 'mean+max' ? tf.concat([mean, tf.max(deepest, [1, 2]) as tf.Tensor2D], 1) : mean;
    const logit = tf.reshape(
      tf.add(tf.matMul(pooled, params.get('uncertainty.weight') as tf.Tensor2D), params.get('uncertainty.bias')),
      [-1],
    ) as tf.Tensor1D;
    return { logit, p: tf.sigmoid(logit) };
  });
}
