import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { twoMeansLabels } from './two-means.ts';

/**
 * The three training losses of METHOD §3, per sample where the instance
 * reweighting needs it. Tensors in, tensors out; differentiable.
 */

/** μ_R and σ_R (unbiased, like torch.std) of `count` reference scores drawn from N(0,1). */
export function referenceMoments(rng: Rng, count: number): { mean: number; std: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < count; i++) {
    const r = rng.normal();
    sum += r;
    sumSq += r * r;
  }
  const mean = sum / count;
  const variance = Math.max(0, (sumSq - count * mean * mean) / (count - 1));
  return { mean, std: Math.sqrt(variance) };
}

/**
 * Soft deviation loss (Eq. 3), per sample: dev = (φ − μ_R)/σ_R,
 * ℓ = (1 − q)·|dev| + q·max(0, m − dev). q is the (detached) anomaly probability.
 */
export function softDeviationLoss(
  phi: tf.Tensor1D,
  q: tf.Tensor1D,
  reference: { mean: number; std: number },
  margin: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const dev = tf.div(tf.sub(phi, reference.mean), reference.std);
    const inlier = tf.abs(dev);
    const outlier = tf.relu(tf.sub(margin, dev));
    return tf.add(tf.mul(tf.sub(1, q), inlier), tf.mul(q, outlier)) as tf.Tensor1D;
  });
}

/**
 * Binary cross-entropy of sigmoid(logit) against target t, per sample, in the
 * stable form max(z,0) − z·t + log(1 + e^−|z|).
 */
export function binaryCrossEntropyWithLogits(logit: tf.Tensor1D, target: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(
    () =>
      tf.add(tf.sub(tf.relu(logit), tf.mul(logit, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logit))))) as tf.Tensor1D,
  );
}

/**
 * Focal loss over a two-class softmax (the DRAEM/ADL form): the one-hot target
 * is clamped to [s, 1−s], p_t = Σ_c t_c·p_c + s, ℓ = −(1 − p_t)^γ · log p_t,
 * averaged over valid pixels. `target` is the anomaly probability per pixel
 * (0/1, or fractional after downsampling); `valid` (broadcastable to the
 * target, 1 = counts, 0 = ignored) drops pixels whose truth is unknown.
 * Returns a scalar (0 when nothing is valid).
 */
export function focalSegmentationLoss(
  probabilities: tf.Tensor4D,
  target: tf.Tensor4D,
  valid: tf.Tensor,
  gamma: number,
  smoothing: number,
): tf.Scalar {
  return tf.tidy(() => {
    const p1 = tf.slice(probabilities, [0, 0, 0, 1], [-1, -1, -1, 1]);
    const p0 = tf.slice(probabilities, [0, 0, 0, 0], [-1, -1, -1, 1]);
    const t1 = tf.clipByValue(target, smoothing, 1 - smoothing);
    const t0 = tf.clipByValue(tf.sub(1, target), smoothing, 1 - smoothing);
    const pt = tf.add(tf.add(tf.mul(t0, p0), tf.mul(t1, p1)), smoothing);
    const modulating = focalModulation(tf.relu(tf.sub(1, pt)), gamma);
    const perPixel = tf.neg(tf.mul(modulating, tf.log(pt)));
    const weight = tf.mul(tf.onesLike(perPixel), valid);
    const count = tf.sum(weight);
    return tf.div(tf.sum(tf.mul(perPixel, weight)), tf.maximum(count, 1e-12)) as tf.Scalar;
  });
}

/** (1 − p_t)^γ; repeated products for integer γ keep the gradient finite at 0. */
function focalModulation(oneMinusPt: tf.Tensor, gamma: number): tf.Tensor {
  if (!Number.isInteger(gamma)) return tf.pow(oneMinusPt, gamma);
  let out: tf.Tensor = tf.onesLike(oneMinusPt);
  for (let i = 0; i < gamma; i++) out = tf.mul(out, oneMinusPt);
  return out;
}

/** Σ w_i ℓ_i for per-sample losses and plain-number (detached) weights. */
export function weightedSum(perSample: tf.Tensor1D, weights: ArrayLike<number>): tf.Scalar {
  if (weights.length !== perSample.shape[0]) {
    throw new Error(`weightedSum: ${weights.length} weights for ${perSample.shape[0]} losses`);
  }
  return tf.tidy(() => tf.sum(tf.mul(perSample, tf.tensor1d(Float32Array.from(weights)))) as tf.Scalar);
}

/**
 * Classifier targets (Eq. 4): t = y, or, when `useClusters`, t = y OR c(x) with
 * c the 2-means labels of the batch's φ values (larger centroid = 1).
 */
export function classificationTargets(labels: ArrayLike<number>, phi: ArrayLike<number>, useClusters: boolean): Float32Array {
  const targets = Float32Array.from(labels);
  if (!useClusters) return targets;
  const clusters = twoMeansLabels(Array.from(phi));
  for (let i = 0; i < targets.length; i++) targets[i] = targets[i] > 0 || clusters[i] === 1 ? 1 : 0;
  return targets;
}
