import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import {
  binaryCrossEntropyWithLogits,
  classificationTargets,
  focalSegmentationLoss,
  referenceMoments,
  softDeviationLoss,
  weightedSum,
} from '../../src/training/losses.ts';
import { alphaDivergenceWeights } from '../../src/training/reweighting.ts';
import { twoMeansLabels } from '../../src/training/two-means.ts';
import { Rng } from '../../src/util/rng.ts';

before(async () => {
  await initBackend('cpu');
});

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('soft deviation loss: q=0 is |dev|, q=1 is the margin hinge, q=0.5 their mean', () => {
  const ref = { mean: 0.2, std: 0.5 };
  const phi = [0.2, 1.2, 3.0, 7.2];
  const dev = phi.map((p) => (p - ref.mean) / ref.std); // 0, 2, 5.6, 14
  const run = (q: number) =>
    tf.tidy(() => Array.from(softDeviationLoss(tf.tensor1d(phi), tf.fill([4], q) as tf.Tensor1D, ref, 10).dataSync()));
  run(0).forEach((v, i) => close(v, Math.abs(dev[i])));
  run(1).forEach((v, i) => close(v, Math.max(0, 10 - dev[i])));
  run(0.5).forEach((v, i) => close(v, 0.5 * Math.abs(dev[i]) + 0.5 * Math.max(0, 10 - dev[i])));
  // Hand values: φ = 3.0 → dev 5.6: q=1 gives 4.4; φ = 7.2 → dev 14 ≥ m gives 0.
  close(run(1)[2], 4.4);
  assert.equal(run(1)[3], 0);
});

test('reference moments of N(0,1) draws are near 0 and 1 and use the unbiased std', () => {
  const { mean, std } = referenceMoments(new Rng(3), 5000);
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(std - 1) < 0.05);
  // Two draws: unbiased std of {a, b} is |a − b|/√2.
  const rng = new Rng(9);
  const a = new Rng(9).normal();
  const copy = new Rng(9);
  copy.normal();
  const b = copy.normal();
  const two = referenceMoments(rng, 2);
  close(two.std, Math.abs(a - b) / Math.SQRT2);
});

test('BCE with logits equals −t log p − (1−t) log(1−p), stable at large logits', () => {
  const logits = [-3, -0.5, 0, 0.7, 4];
  const targets = [0, 1, 1, 0, 1];
  const got = tf.tidy(() => Array.from(binaryCrossEntropyWithLogits(tf.tensor1d(logits), tf.tensor1d(targets)).dataSync()));
  logits.forEach((z, i) => {
    const p = 1 / (1 + Math.exp(-z));
    close(got[i], -(targets[i] * Math.log(p) + (1 - targets[i]) * Math.log(1 - p)), 1e-5);
  });
  const extreme = tf.tidy(() => binaryCrossEntropyWithLogits(tf.tensor1d([200, -200]), tf.tensor1d([0, 1])).dataSync());
  close(extreme[0], 200);
  close(extreme[1], 200);
});

test('focal loss with an ignore mask equals the direct per-pixel formula over valid pixels', () => {
  const rng = new Rng(5);
  const n = 2;
  const h = 3;
  const w = 4;
  const gamma = 2;
  const s = 1e-5;
  const p1 = Array.from({ length: n * h * w }, () => rng.uniform(0.01, 0.99));
  const target = Array.from({ length: n * h * w }, () => (rng.bool(0.4) ? 1 : 0));
  const valid = Array.from({ length: n * h * w }, (_, i) => (i % 5 === 0 ? 0 : 1));
  const probs = p1.flatMap((p) => [1 - p, p]);
  const got = tf.tidy(() =>
    focalSegmentationLoss(
      tf.tensor4d(probs, [n, h, w, 2]),
      tf.tensor4d(target, [n, h, w, 1]),
      tf.tensor4d(valid, [n, h, w, 1]),
      gamma,
      s,
    ).dataSync()[0],
  );
  let sum = 0;
  let count = 0;
  p1.forEach((p, i) => {
    if (!valid[i]) return;
    const t1 = Math.min(1 - s, Math.max(s, target[i]));
    const t0 = Math.min(1 - s, Math.max(s, 1 - target[i]));
    const pt = t0 * (1 - p) + t1 * p + s;
    sum += -((1 - pt) ** gamma) * Math.log(pt);
    count++;
  });
  close(got, sum / count, 1e-4);
  // Ignored pixels do not matter: flipping their targets leaves the loss unchanged.
  const flipped = target.map((t, i) => (valid[i] ? t : 1 - t));
  const again = tf.tidy(() =>
    focalSegmentationLoss(tf.tensor4d(probs, [n, h, w, 2]), tf.tensor4d(flipped, [n, h, w, 1]), tf.tensor4d(valid, [n, h, w, 1]), gamma, s).dataSync()[0],
  );
  close(again, got, 1e-6);
  // Per-image validity broadcasts: image 1 ignored entirely = loss over image 0 only.
  const perImage = tf.tidy(() =>
    focalSegmentationLoss(tf.tensor4d(probs, [n, h, w, 2]), tf.tensor4d(target, [n, h, w, 1]), tf.tensor4d([1, 0], [n, 1, 1, 1]), gamma, s).dataSync()[0],
  );
  let sum0 = 0;
  for (let i = 0; i < h * w; i++) {
    const t = target[i];
    const pt = Math.min(1 - s, Math.max(s, 1 - t)) * (1 - p1[i]) + Math.min(1 - s, Math.max(s, t)) * p1[i] + s;
    sum0 += -((1 - pt) ** 2) * Math.log(pt);
  }
  close(perImage, sum0 / (h * w), 1e-4);
});

test('reweighting applied to the loss: the weighted sum is Σ w_i ℓ_i with α-divergence weights, and its gradient is w', () => {
  const losses = [0.3, 2.5, 0.1, 1.2, 0.8];
  const weights = alphaDivergenceWeights(losses, 0.1, 0.1);
  let expected = 0;
  losses.forEach((l, i) => (expected += weights[i] * l));
  const { value, grad } = tf.tidy(() => {
    const x = tf.tensor1d(losses);
    const g = tf.grad((v: tf.Tensor) => weightedSum(v as tf.Tensor1D, weights))(x);
    return { value: weightedSum(x, weights).dataSync()[0], grad: Array.from(g.dataSync()) };
  });
  close(value, expected, 1e-6);
  grad.forEach((g, i) => close(g, weights[i], 1e-6));
  // The high-loss sample (suspected contamination) gets the lowest weight.
  assert.equal(weights.indexOf(Math.min(...weights)), 1);
});

test('classifier target: y during burn-in, y OR 2-means(φ) with the cluster rule', () => {
  const labels = [0, 0, 0, 0, 1, 1];
  const phi = [0.1, 0.2, 5.0, 0.15, 4.8, 0.3];
  assert.deepEqual(Array.from(classificationTargets(labels, phi, false)), labels);
  const clusters = twoMeansLabels(phi);
  assert.deepEqual(Array.from(clusters), [0, 0, 1, 0, 1, 0]);
  // Nominal item 2 with a large φ joins the anomalous target; labelled anomaly 5 keeps y = 1.
  assert.deepEqual(Array.from(classificationTargets(labels, phi, true)), [0, 0, 1, 0, 1, 1]);
});
