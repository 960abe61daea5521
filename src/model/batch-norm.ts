import * as tf from '@tensorflow/tfjs';
import { filled, type ParameterSet } from './parameters.ts';

/**
 * Batch normalisation over NHWC with PyTorch's conventions: batch statistics
 * while training (biased variance for normalising, unbiased for the running
 * estimate), running statistics at inference, eps 1e-5, momentum 0.1.
 */

export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

/** The batch statistics one training forward pass saw, for the running-estimate update. */
export interface BatchMoments {
  prefix: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel that entered the statistics (N·H·W). */
  count: number;
}

export function addBatchNormParameters(params: ParameterSet, prefix: string, channels: number): void {
  params.add(`${prefix}.gamma`, filled(channels, 1), [channels]);
  params.add(`${prefix}.beta`, filled(channels, 0), [channels]);
  params.add(`${prefix}.runningMean`, filled(channels, 0), [channels], false);
  params.add(`${prefix}.runningVar`, filled(channels, 1), [channels], false);
}

/**
 * Normalise x. In training mode the batch moments are pushed onto `collect`
 * (kept alive past any enclosing tidy; the caller disposes them).
 */
export function batchNorm(
  x: tf.Tensor4D,
  params: ParameterSet,
  prefix: string,
  training: boolean,
  collect?: BatchMoments[],
): tf.Tensor4D {
  const gamma = params.get(`${prefix}.gamma`);
  const beta = params.get(`${prefix}.beta`);
  if (!training) {
    return tf.tidy(() => {
      const mean = params.get(`${prefix}.runningMean`) as tf.Tensor1D;
      const variance = params.get(`${prefix}.runningVar`) as tf.Tensor1D;
      return tf.batchNorm4d(x, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPSILON);
    });
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  if (collect) {
    const [n, h, w] = x.shape;
    collect.push({
      prefix,
      mean: tf.keep(mean.clone()) as tf.Tensor1D,
      variance: tf.keep(variance.clone()) as tf.Tensor1D,
      count: n * h * w,
    });
  }
  // The fused op's gradient also flows into mean and variance, i.e. back into x.
  return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPSILON);
}

/** Move the running estimates toward what training batches saw; disposes the moments. */
export function updateRunningMoments(params: ParameterSet, moments: BatchMoments[], momentum = BN_MOMENTUM): void {
  for (const m of moments) {
    tf.tidy(() => {
      const runningMean = params.get(`${m.prefix}.runningMean`);
      const runningVar = params.get(`${m.prefix}.runningVar`);
      const unbiased = tf.mul(m.variance, m.count / Math.max(1, m.count - 1));
      runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(m.mean, momentum)));
      runningVar.assign(tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
    });
    m.mean.dispose();
    m.variance.dispose();
  }
}
