import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { multiScaleFeatures } from '../../src/backbones/multiscale.ts';
import { initBackend } from '../../src/engine/backend.ts';
import { createMultiCueModel } from '../../src/model/multicue-model.ts';
import { modelSpec, segmentationOutputSize } from '../../src/model/spec.ts';
import { addBatchNormParameters, batchNorm, updateRunningMoments, type BatchMoments } from '../../src/model/batch-norm.ts';
import { ParameterSet } from '../../src/model/parameters.ts';
import { conv3x3FilterGradient, conv3x3Same, topFractionMeanRows } from '../../src/model/tensor-ops.ts';
import { topFractionMean } from '../../src/scoring/top-fraction.ts';
import { tapTensors } from '../../src/training/feature-cache.ts';
import { Rng } from '../../src/util/rng.ts';
import { IMAGE_SIZE, smallConfig, syntheticCache, TOY_IDENTITY } from './fixtures.ts';

before(async () => {
  await initBackend('cpu');
});

test('top-κ pooling equals the mean of the top fraction and passes gradient only to the selected entries', () => {
  const rng = new Rng(2);
  const rows = [Array.from({ length: 30 }, () => rng.normal()), Array.from({ length: 30 }, () => rng.normal())];
  const { values, grad } = tf.tidy(() => {
    const x = tf.tensor2d(rows);
    const g = tf.grad((v: tf.Tensor) => tf.sum(topFractionMeanRows(v as tf.Tensor2D, 0.1)))(x);
    return { values: Array.from(topFractionMeanRows(x, 0.1).dataSync()), grad: Array.from(g.dataSync()) };
  });
  rows.forEach((row, r) => {
    assert.ok(Math.abs(values[r] - topFractionMean(row, 0.1)) < 1e-5);
    const top3 = [...row].sort((a, b) => b - a).slice(0, 3);
    row.forEach((v, i) => {
      const expected = top3.includes(v) ? 1 / 3 : 0;
      assert.ok(Math.abs(grad[r * 30 + i] - expected) < 1e-6, `row ${r} entry ${i}`);
    });
  });
});

test('deviation head: φ is the top-κ mean of |1×1 conv| over the multi-scale map; p = sigmoid(GAP(A)·w + b)', () => {
  const cache = syntheticCache({ pool: 3, pseudo: 0, fewShot: 0, testNominal: 0, testAnomalous: 0, contaminated: 0 });
  const config = smallConfig();
  const model = createMultiCueModel(modelSpec(TOY_IDENTITY, IMAGE_SIZE, config.model), new Rng(4));
  const items = cache.group('pool');
  const taps = tapTensors(items);
  const out = model.forward(taps);
  const phi = out.phi.dataSync();
  const p = out.p.dataSync();
  const patches = out.patchScores.arraySync();
  assert.deepEqual(out.patchScores.shape, [3, 8, 8]);
  // Recompute by hand from F (the multi-scale map): |F·w + b| per patch, then the top-κ mean.
  const features = multiScaleFeatures(taps);
  const f = features.arraySync();
  const dw = model.params.get('deviation.weight').dataSync();
  const db = model.params.get('deviation.bias').dataSync()[0];
  f.forEach((img, i) => {
    const manual = img.flat().map((cell) => Math.abs(cell.reduce((s, v, c) => s + v * dw[c], db)));
    const flat = patches[i].flat();
    manual.forEach((v, j) => assert.ok(Math.abs(v - flat[j]) < 1e-4));
    assert.ok(Math.abs(phi[i] - topFractionMean(manual, config.model.kappa)) < 1e-4);
  });
  features.dispose();
  const w = model.params.get('uncertainty.weight').dataSync();
  const b = model.params.get('uncertainty.bias').dataSync()[0];
  const deepest = taps[2].arraySync();
  deepest.forEach((img, i) => {
    const cells = img.flat();
    let z = b;
    for (let c = 0; c < w.length; c++) z += (w[c] * cells.reduce((s, cell) => s + cell[c], 0)) / cells.length;
    assert.ok(Math.abs(p[i] - 1 / (1 + Math.exp(-z))) < 1e-5);
  });
  tf.dispose([...taps, out.phi, out.p, out.logit, out.patchScores, out.segmentation]);
  model.dispose();
});

test("uncertainty head with 'mean+max' pooling: p = sigmoid([GAP(A), GMP(A)]·w + b); older specs default to the mean pool", () => {
  const cache = syntheticCache({ pool: 3, pseudo: 0, fewShot: 0, testNominal: 0, testAnomalous: 0, contaminated: 0 });
  const config = smallConfig({ model: { uncertaintyPooling: 'mean+max' } });
  const spec = modelSpec(TOY_IDENTITY, IMAGE_SIZE, config.model);
  const model = createMultiCueModel(spec, new Rng(4));
  const channels = TOY_IDENTITY.tapChannels[2];
  assert.deepEqual(model.params.get('uncertainty.weight').shape, [2 * channels, 1]);
  const taps = tapTensors(cache.group('pool'));
  const out = model.forwardScores(taps);
  const p = out.p.dataSync();
  const w = model.params.get('uncertainty.weight').dataSync();
  const b = model.params.get('uncertainty.bias').dataSync()[0];
  taps[2].arraySync().forEach((img, i) => {
    const cells = img.flat();
    let z = b;
    for (let c = 0; c < channels; c++) {
      const column = cells.map((cell) => cell[c]);
      z += (w[c] * column.reduce((s, v) => s + v, 0)) / column.length + w[channels + c] * Math.max(...column);
    }
    assert.ok(Math.abs(p[i] - 1 / (1 + Math.exp(-z))) < 1e-5, `image ${i}: ${p[i]} vs ${1 / (1 + Math.exp(-z))}`);
  });
  const { uncertaintyPooling: _dropped, ...olderSpec } = spec;
  const older = createMultiCueModel(olderSpec, new Rng(4));
  assert.deepEqual(older.params.get('uncertainty.weight').shape, [channels, 1]);
  tf.dispose([...taps, out.phi, out.p, out.logit]);
  model.dispose();
  older.dispose();
});

test('deviation head with a hidden layer: patch score = |relu(F·W1 + b1)·w2 + b2|, φ its top-κ mean', () => {
  const cache = syntheticCache({ pool: 2, pseudo: 0, fewShot: 0, testNominal: 0, testAnomalous: 0, contaminated: 0 });
  const hidden = 5;
  const config = smallConfig({ model: { deviationHidden: hidden } });
  const model = createMultiCueModel(modelSpec(TOY_IDENTITY, IMAGE_SIZE, config.model), new Rng(4));
  const taps = tapTensors(cache.group('pool'));
  const out = model.forward(taps);
  const features = multiScaleFeatures(taps);
  const channels = features.shape[3];
  assert.deepEqual(model.params.get('deviation.hidden.weight').shape, [channels, hidden]);
  const w1 = model.params.get('deviation.hidden.weight').dataSync();
  const b1 = model.params.get('deviation.hidden.bias').dataSync();
  const w2 = model.params.get('deviation.weight').dataSync();
  const b2 = model.params.get('deviation.bias').dataSync()[0];
  const phi = out.phi.dataSync();
  features.arraySync().forEach((img, i) => {
    const manual = img.flat().map((cell) => {
      let z = b2;
      for (let j = 0; j < hidden; j++) {
        const a = cell.reduce((s, v, c) => s + v * w1[c * hidden + j], b1[j]);
        z += Math.max(0, a) * w2[j];
      }
      return Math.abs(z);
    });
    assert.ok(Math.abs(phi[i] - topFractionMean(manual, config.model.kappa)) < 1e-4, `image ${i}`);
  });
  tf.dispose([...taps, features, out.phi, out.p, out.logit, out.patchScores, out.segmentation]);
  model.dispose();
});

test('segmentation head: full decodes to input size, lite stops short and is resized; softmax channels sum to 1', () => {
  const cache = syntheticCache({ pool: 2, pseudo: 0, fewShot: 0, testNominal: 0, testAnomalous: 0, contaminated: 0 });
  for (const [head, expected] of [['full', 64], ['lite', 16]] as const) {
    const config = smallConfig({ model: { segmentationHead: head, liteUpsampleBlocks: 1 } });
    const spec = modelSpec(TOY_IDENTITY, IMAGE_SIZE, config.model);
    assert.equal(segmentationOutputSize(spec), expected);
    const model = createMultiCueModel(spec, new Rng(1));
    const taps = tapTensors(cache.group('pool'));
    const { shape, sums, mapShape } = tf.tidy(() => {
      const out = model.forward(taps);
      return {
        shape: out.segmentation.shape,
        sums: Array.from(tf.sum(out.segmentation, 3).dataSync()),
        mapShape: model.anomalyMap(out.segmentation).shape,
      };
    });
    assert.deepEqual(shape, [2, expected, expected, 2]);
    assert.deepEqual(mapShape, [2, 64, 64]);
    assert.ok(sums.every((s) => Math.abs(s - 1) < 1e-5));
    tf.dispose(taps);
    model.dispose();
  }
});

test('model creation is seeded: same Rng seed, same parameters', () => {
  const config = smallConfig();
  const spec = modelSpec(TOY_IDENTITY, IMAGE_SIZE, config.model);
  const a = createMultiCueModel(spec, new Rng(11));
  const b = createMultiCueModel(spec, new Rng(11));
  const c = createMultiCueModel(spec, new Rng(12));
  const flat = (m: typeof a) => m.params.snapshot().flatMap((p) => Array.from(p.values));
  assert.deepEqual(flat(a), flat(b));
  assert.notDeepEqual(flat(a), flat(c));
  [a, b, c].forEach((m) => m.dispose());
});

test('3×3 conv with the matmul filter gradient matches tfjs gradients for input and filter', () => {
  const rng = new Rng(8);
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 5 * 6 * 3 }, () => rng.normal()), [2, 5, 6, 3]);
  const w = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.normal()), [3, 3, 3, 4]);
  const weights = tf.tensor4d(Float32Array.from({ length: 2 * 5 * 6 * 4 }, () => rng.normal()), [2, 5, 6, 4]);
  const loss = (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) => (a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), weights));
  const ours = tf.grads(loss(conv3x3Same))([x, w]);
  const reference = tf.grads(loss((a, b) => tf.conv2d(a, b, 1, 'same')))([x, w]);
  const value = tf.sub(conv3x3Same(x, w), tf.conv2d(x, w, 1, 'same'));
  assert.ok(tf.max(tf.abs(value)).dataSync()[0] < 1e-5);
  for (let i = 0; i < 2; i++) {
    const diff = tf.max(tf.abs(tf.sub(ours[i], reference[i]))).dataSync()[0];
    assert.ok(diff < 1e-4, `gradient ${i} differs by ${diff}`);
  }
  tf.dispose([x, w, weights, value, ...ours, ...reference]);
});

test('the filter gradient is the same when the batch is processed in chunks', () => {
  const rng = new Rng(9);
  const x = tf.tensor4d(Float32Array.from({ length: 5 * 4 * 4 * 2 }, () => rng.normal()), [5, 4, 4, 2]);
  const dy = tf.tensor4d(Float32Array.from({ length: 5 * 4 * 4 * 3 }, () => rng.normal()), [5, 4, 4, 3]);
  const whole = conv3x3FilterGradient(x, dy);
  const chunked = conv3x3FilterGradient(x, dy, 2 * 4 * 4 * 2 * 9); // two images per block
  assert.ok(tf.max(tf.abs(tf.sub(whole, chunked))).dataSync()[0] < 1e-5);
  tf.dispose([x, dy, whole, chunked]);
});

test('batch norm: batch statistics in training, running estimates updated with momentum 0.1 and unbiased variance', () => {
  const params = new ParameterSet();
  addBatchNormParameters(params, 'bn', 2);
  params.assign('bn.gamma', Float32Array.of(2, 0.5));
  params.assign('bn.beta', Float32Array.of(1, -1));
  const values = [1, 10, 3, 20, 5, 30, 7, 40]; // channel 0: 1,3,5,7; channel 1: 10..40
  const x = tf.tensor4d(values, [2, 1, 2, 2]);
  const moments: BatchMoments[] = [];
  const y = batchNorm(x, params, 'bn', true, moments).arraySync().flat(2);
  const mean0 = 4;
  const var0 = 5; // biased variance of 1,3,5,7
  assert.ok(Math.abs(y[0][0] - (2 * (1 - mean0)) / Math.sqrt(var0 + 1e-5) - 1) < 1e-4);
  updateRunningMoments(params, moments);
  const runningMean = params.get('bn.runningMean').dataSync();
  const runningVar = params.get('bn.runningVar').dataSync();
  assert.ok(Math.abs(runningMean[0] - 0.1 * 4) < 1e-6);
  assert.ok(Math.abs(runningVar[0] - (0.9 + 0.1 * (20 / 3))) < 1e-5); // unbiased: 20/3
  // Inference uses the running estimates.
  const z = batchNorm(x, params, 'bn', false).dataSync();
  assert.ok(Math.abs(z[0] - (2 * (1 - runningMean[0])) / Math.sqrt(runningVar[0] + 1e-5) - 1) < 1e-4);
  tf.dispose(x);
  params.dispose();
});
