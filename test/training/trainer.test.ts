import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import { auroc } from '../../src/evaluation/metrics/auroc.ts';
import { loadModel, readModelInfo } from '../../src/model/serialization.ts';
import { scoreImages } from '../../src/scoring/score.ts';
import { FeatureCache, toFloat16Bits } from '../../src/training/feature-cache.ts';
import { NonFiniteLossError } from '../../src/training/nan-guard.ts';
import { train } from '../../src/training/trainer.ts';
import { Rng } from '../../src/util/rng.ts';
import { smallConfig, syntheticCache } from '../model/fixtures.ts';

before(async () => {
  await initBackend('cpu');
});

// The lite head keeps these runs to a few seconds on the cpu backend.
const config = smallConfig({
  model: { segmentationHead: 'lite', liteUpsampleBlocks: 1 },
  schedule: { batchSize: 16, stepsPerEpoch: 6, epochs: 3 },
});

test('trainer learns a synthetic feature problem, deterministically, with a flat tensor count', async () => {
  const cache = syntheticCache();
  const before = tf.memory().numTensors;
  const runA = await train(config, cache, new Rng(5), { silent: true });
  const paramTensors = runA.model.params.names().length;
  assert.equal(tf.memory().numTensors, before + paramTensors, 'only the model parameters outlive training');
  assert.equal(runA.log.length, 3);
  const counts = runA.log.map((e) => e.tensors);
  assert.ok(counts.every((c) => c === counts[0]), `tensor count per epoch: ${counts.join(', ')}`);
  assert.equal(runA.burnInSteps, Math.round(0.06 * 18));
  assert.equal(runA.log[0].burnInSteps, 1);
  // The 2-means target rule is drawn per batch with p = 0.6, only after burn-in.
  const clusterBatches = runA.log.reduce((s, e) => s + e.clusterBatches, 0);
  assert.ok(clusterBatches > 0 && clusterBatches < 17, `cluster batches ${clusterBatches}`);
  // Weights are logged relative to uniform: their batch mean is 1.
  for (const e of runA.log) {
    const w = e.weights.deviation;
    assert.ok(Math.abs((w.nominal + w.anomalous) / 2 - 1) < 1e-6);
    assert.ok(Number.isFinite(e.loss.total));
  }

  const scoredA = scoreImages(runA.model, cache, config.scoring, { silent: true });
  const labels = scoredA.scores.map((s) => s.trueLabel);
  const deviationAuroc = auroc(scoredA.scores.map((s) => s.deviation), labels);
  assert.ok(deviationAuroc > 0.9, `deviation AUROC ${deviationAuroc}`);
  for (const s of scoredA.scores) {
    assert.ok(s.deviation >= 0 && s.uncertainty >= 0 && s.uncertainty <= 1 && s.segmentation >= 0 && s.segmentation <= 1);
    assert.ok(s.fused > 0 && s.fused < 1);
  }
  assert.equal(scoredA.maps!.length, scoredA.scores.length);
  assert.equal(scoredA.maps![0].length, 64 * 64);

  const runB = await train(config, cache, new Rng(5), { silent: true });
  const scoredB = scoreImages(runB.model, cache, config.scoring, { silent: true });
  assert.deepEqual(scoredB.scores, scoredA.scores, 'same seed, same scores');
  runA.model.dispose();
  runB.model.dispose();
});

test('a NaN feature stops training with the step and item ids, and the last good checkpoint survives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-nan-'));
  try {
    const cache = syntheticCache({ pool: 8, pseudo: 8, fewShot: 0, testNominal: 2, testAnomalous: 2 });
    const poisoned = cache.get('pool/3');
    const nanConfig = smallConfig({
      model: { segmentationHead: 'lite', liteUpsampleBlocks: 0 },
      schedule: { batchSize: 16, stepsPerEpoch: 2, epochs: 3 },
    });
    let error: unknown;
    try {
      await train(nanConfig, cache, new Rng(1), {
        silent: true,
        checkpointDir: dir,
        // After epoch 1 is checkpointed, a feature of pool/3 turns NaN (every batch holds all 8 pool items).
        onEpoch: (e) => {
          if (e.epoch === 1) poisoned.taps[0].data[5] = toFloat16Bits(NaN);
        },
      });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof NonFiniteLossError, `expected NonFiniteLossError, got ${error}`);
    // Steps count from 1: epoch 2's first step is step 3.
    assert.equal(error.step, 3);
    assert.match(error.message, /step 3 \(epoch 2\)/);
    assert.deepEqual(error.suspectIds, ['pool/3']);
    assert.match(error.message, /pool\/3/);
    assert.equal(error.itemIds.length, 16);
    assert.equal(error.lastGoodCheckpoint, dir);
    const info = await readModelInfo(dir);
    assert.equal(info.extra?.epoch, 1);
    const model = await loadModel(dir);
    assert.ok(model.params.snapshot().every((p) => p.values.every(Number.isFinite)));
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training refuses a start model for another backbone', async () => {
  const cache = syntheticCache({ pool: 4, pseudo: 4, fewShot: 0, testNominal: 0, testAnomalous: 0 });
  const other = new FeatureCache({ ...cache.backbone, weightsId: 'other' }, cache.imageSize, cache.entries);
  // The full decoder (up to 64²) on a tiny batch: it trains too.
  const short = smallConfig({ schedule: { batchSize: 4, stepsPerEpoch: 2, epochs: 1 }, model: { segmentationHead: 'full' } });
  const { model, log } = await train(short, cache, new Rng(1), { silent: true });
  assert.ok(Number.isFinite(log[0].loss.segmentation) && log[0].loss.segmentation > 0);
  await assert.rejects(train(short, other, new Rng(1), { silent: true, model }), /weights toy-v1/);
  model.dispose();
});

test('micro-batches: same weighted losses and the same head updates as one pass over the whole batch', async () => {
  const cache = syntheticCache({ pool: 8, pseudo: 8, fewShot: 2, testNominal: 0, testAnomalous: 0 });
  const oneStep = (micro: number | null) =>
    smallConfig({
      model: { segmentationHead: 'lite', liteUpsampleBlocks: 0 },
      schedule: { batchSize: 8, stepsPerEpoch: 1, epochs: 1, microBatchSize: micro },
      loss: { burnInFraction: 0 }, // α-divergence weights from the very first step
    });
  const whole = await train(oneStep(null), cache, new Rng(4), { silent: true });
  const split = await train(oneStep(3), cache, new Rng(4), { silent: true });
  const [a, b] = [whole.log[0], split.log[0]];
  // Weights are normalised over the whole batch, not per micro-batch.
  assert.ok(Math.abs(a.loss.deviation - b.loss.deviation) < 1e-4, `${a.loss.deviation} vs ${b.loss.deviation}`);
  assert.ok(Math.abs(a.loss.classification - b.loss.classification) < 1e-5);
  // Only batch norm sees the smaller groups: the segmentation loss is close, not equal.
  assert.ok(Math.abs(a.loss.segmentation - b.loss.segmentation) < 0.1 * a.loss.segmentation);
  // Heads without batch norm get the same gradient, hence the same first Adam step.
  for (const name of ['deviation.weight', 'uncertainty.weight']) {
    const x = whole.model.params.get(name).dataSync();
    const y = split.model.params.get(name).dataSync();
    x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) < 1e-6, `${name}[${i}]`));
  }
  whole.model.dispose();
  split.model.dispose();
});
