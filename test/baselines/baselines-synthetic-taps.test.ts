import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Padim } from '../../src/baselines/padim/padim.ts';
import { PatchGaussianAccumulator } from '../../src/baselines/padim/gaussian-fit.ts';
import { PatchCore } from '../../src/baselines/patchcore/patchcore.ts';
import { reweightedImageScore } from '../../src/baselines/patchcore/reweight.ts';
import { savedBaselineMethod, tapsFromCache, type FeatureMap, type ImageTaps, type UnsupervisedBaseline } from '../../src/baselines/types.ts';
import { mahalanobisSquared } from '../../src/baselines/mahalanobis.ts';
import { initBackend } from '../../src/engine/backend.ts';
import { auroc } from '../../src/evaluation/metrics/auroc.ts';
import { float32ToFloat16, type CachedFeatures } from '../../src/training/feature-cache.ts';
import { Rng } from '../../src/util/rng.ts';

/**
 * Generated taps (no backbone): nominal images share a position-dependent
 * pattern plus noise at each of the three strides. An anomaly occupies one
 * stride-16 cell: it adds a fixed offset vector to that cell, to the 2×2
 * stride-8 cells under it, and a quarter of it to the stride-32 cell around it
 * (where it fills a quarter of the area). Input size 128 → grids 16, 8, 4.
 */
const GRIDS = [16, 8, 4];
const CHANNELS = [12, 16, 20];

/** `anomaly` is a stride-16 cell. */
function makeTaps(rng: Rng, anomaly: { y: number; x: number } | null): ImageTaps {
  return GRIDS.map((g, t): FeatureMap => {
    const c = CHANNELS[t];
    const data = new Float32Array(g * g * c);
    const scale = g / 8; // stride-16 cells → this tap's cells
    const strength = t === 2 ? 0.25 : 1;
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++) {
        const inside = anomaly !== null && Math.floor(y / scale) === anomaly.y && Math.floor(x / scale) === anomaly.x;
        const insideCoarse = anomaly !== null && t === 2 && y === Math.floor(anomaly.y / 2) && x === Math.floor(anomaly.x / 2);
        for (let k = 0; k < c; k++) {
          const pattern = Math.sin(0.4 * y * (16 / g) + 0.3 * k) + Math.cos(0.3 * x * (16 / g) - 0.2 * k);
          const offset = inside || insideCoarse ? strength * (k % 2 ? 1.5 : -1.5) : 0;
          data[(y * g + x) * c + k] = pattern + rng.normal(0, 0.15) + offset;
        }
      }
    }
    return { height: g, width: g, channels: c, data };
  }) as unknown as ImageTaps;
}

function dataset(seed: number) {
  const rng = new Rng(seed);
  const train = Array.from({ length: 30 }, () => makeTaps(rng, null));
  const test = Array.from({ length: 24 }, (_, i) => {
    const anomaly = i % 2 ? { y: rng.int(1, 6), x: rng.int(1, 6) } : null;
    return { taps: makeTaps(rng, anomaly), anomaly };
  });
  return { train, test };
}

function evaluate(model: UnsupervisedBaseline, test: ReturnType<typeof dataset>['test']) {
  const predictions = test.map((t) => model.predict(t.taps));
  const scores = predictions.map((p) => p.imageScore);
  const labels = test.map((t) => (t.anomaly ? 1 : 0));
  // The map's hottest pixel should fall in the anomalous 16×16-pixel cell or next to it.
  let localized = 0;
  predictions.forEach((p, i) => {
    const a = test[i].anomaly;
    if (!a) return;
    let best = 0;
    for (let j = 1; j < p.map.length; j++) if (p.map[j] > p.map[best]) best = j;
    const [y, x] = [Math.floor(best / p.mapWidth / 8), Math.floor((best % p.mapWidth) / 8)];
    if (y >= 2 * a.y - 1 && y <= 2 * a.y + 2 && x >= 2 * a.x - 1 && x <= 2 * a.x + 2) localized++;
  });
  return { auroc: auroc(scores, labels), localized, anomalies: labels.filter(Boolean).length, predictions };
}

for (const [name, make, load] of [
  ['PatchCore', () => new PatchCore({ coresetRatio: 0.25, projectionDim: 16 }), (dir: string) => PatchCore.load(dir)],
  ['PaDiM', () => new Padim({ featureDim: 20 }), (dir: string) => Padim.load(dir)],
] as const) {
  test(`${name}: separates injected anomalies, localizes them, and round-trips through save/load`, async () => {
    await initBackend();
    const { train, test: testSet } = dataset(1);
    const tensorsBefore = tf.memory().numTensors;
    const model = make();
    const report = await model.fit(train);
    assert.equal(report.trainImages, 30);
    const result = evaluate(model, testSet);
    assert.ok(result.auroc >= 0.95, `${name} AUROC ${result.auroc}`);
    assert.ok(result.localized >= result.anomalies - 1, `${name} localized ${result.localized}/${result.anomalies}`);
    const first = result.predictions[1];
    assert.equal(first.map.length, 128 * 128);
    assert.equal(first.patchScores.length, 256);
    const half = model.predict(testSet[1].taps, { mapSize: { height: 32, width: 32 } });
    assert.equal(half.map.length, 32 * 32);

    // Tensor taps give the same answer as plain arrays.
    const tensors = testSet[1].taps.map((t) => tf.tensor4d(t.data, [1, t.height, t.width, t.channels])) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
    assert.equal(model.predict(tensors).imageScore, first.imageScore);
    tensors.forEach((t) => t.dispose());

    const dir = mkdtempSync(join(tmpdir(), 'multicue-baseline-'));
    try {
      await model.save(dir);
      assert.equal(savedBaselineMethod(dir), model.method);
      const loaded = await load(dir);
      const again = loaded.predict(testSet[1].taps);
      assert.equal(again.imageScore, first.imageScore);
      assert.deepEqual(again.map, first.map);
      loaded.dispose();
      // A corrupted state file is refused with the fix named.
      const file = model.method === 'patchcore' ? 'memoryBank.f32' : 'mean.f32';
      const bytes = readFileSync(join(dir, file));
      bytes[0] ^= 0xff;
      writeFileSync(join(dir, file), bytes);
      await assert.rejects(load(dir), /does not match its manifest[\s\S]*fit and save/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Deterministic: a second fit with the same seed gives the same scores.
    const twin = make();
    await twin.fit(train);
    assert.equal(twin.predict(testSet[3].taps).imageScore, model.predict(testSet[3].taps).imageScore);
    twin.dispose();

    assert.throws(() => model.predict(makeTaps(new Rng(0), null).map((t) => ({ ...t, channels: t.channels + 1, data: new Float32Array(t.height * t.width * (t.channels + 1)) })) as unknown as ImageTaps), /fitted on/);
    model.dispose();
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leak');
  });
}

test('PatchCore coreset ratio controls the memory bank and its reported radius', async () => {
  await initBackend();
  const { train } = dataset(2);
  const radii: number[] = [];
  for (const ratio of [0.05, 0.2, 1]) {
    const model = new PatchCore({ coresetRatio: ratio, projectionDim: 0 });
    const report = await model.fit(train);
    assert.equal(report.details.memoryBankSize, Math.round(30 * 256 * ratio));
    assert.equal(model.memoryBank.rows, report.details.memoryBankSize);
    radii.push(report.details.coresetRadius as number);
    model.dispose();
  }
  assert.ok(radii[0] >= radii[1] && radii[1] >= radii[2] && radii[2] === 0, `radii ${radii}`);
  assert.throws(() => new PatchCore({ coresetRatio: 1.5 }), /coresetRatio/);
  assert.throws(() => new Padim({ featureDim: 0 }), /featureDim/);
});

test('PatchCore reweighting: flat neighbourhood ≈ 1 − 1/b, isolated memory entry → 1', () => {
  assert.ok(Math.abs(reweightedImageScore(2, [3, 3, 3, 3]) - 2 * 0.75) < 1e-12);
  assert.ok(reweightedImageScore(2, [1, 40, 40]) > 1.999999);
  assert.equal(reweightedImageScore(5, [1]), 5);
  assert.ok(reweightedImageScore(1, [1, 1.5, 2]) > reweightedImageScore(1, [1, 1.1, 1.2]));
});

test('PaDiM per-patch Gaussian: streaming fit matches a direct mean/covariance', () => {
  const rng = new Rng(4);
  const patches = 3;
  const d = 5;
  const n = 12;
  const samples = Array.from({ length: n }, () => Float32Array.from({ length: patches * d }, () => rng.normal(2, 1.5)));
  const acc = new PatchGaussianAccumulator(patches, d);
  for (const s of samples) acc.add({ rows: patches, cols: d, data: s });
  const eps = 0.01;
  const { mean, choleskyFactors } = acc.finish(eps);
  const probe = Array.from({ length: d }, () => rng.normal(2, 2));
  for (let p = 0; p < patches; p++) {
    const mu = Array.from({ length: d }, (_, i) => samples.reduce((s, x) => s + x[p * d + i], 0) / n);
    mu.forEach((m, i) => assert.ok(Math.abs(m - mean[p * d + i]) < 1e-5));
    // Direct: covariance from centred samples, then solve (Σ+εI) z = probe − μ by Gaussian elimination.
    const cov = Array.from({ length: d }, (_, i) =>
      Array.from({ length: d }, (_, j) => samples.reduce((s, x) => s + (x[p * d + i] - mu[i]) * (x[p * d + j] - mu[j]), 0) / (n - 1) + (i === j ? eps : 0)),
    );
    const v = probe.map((x, i) => x - mu[i]);
    const aug = cov.map((row, i) => [...row, v[i]]);
    for (let c = 0; c < d; c++) {
      for (let r = c + 1; r < d; r++) {
        const f = aug[r][c] / aug[c][c];
        for (let k = c; k <= d; k++) aug[r][k] -= f * aug[c][k];
      }
    }
    const z = new Array<number>(d).fill(0);
    for (let r = d - 1; r >= 0; r--) z[r] = (aug[r][d] - aug[r].slice(r + 1, d).reduce((s, a, k) => s + a * z[r + 1 + k], 0)) / aug[r][r];
    const direct = v.reduce((s, vi, i) => s + vi * z[i], 0);
    const got = mahalanobisSquared(choleskyFactors, probe, mean, d, p * d * d, p * d);
    assert.ok(Math.abs(got - direct) < 1e-3 * (1 + direct), `patch ${p}: ${got} vs ${direct}`);
  }
  assert.throws(() => new PatchGaussianAccumulator(1, 2).finish(0.01), /at least 2/);
});

test('feature-cache entries (float16 taps) feed baselines as float32 taps', () => {
  const taps = makeTaps(new Rng(5), null);
  const entry = { taps: taps.map((t) => ({ shape: [t.height, t.width, t.channels] as [number, number, number], data: float32ToFloat16(t.data) })) as unknown as CachedFeatures['taps'] };
  const back = tapsFromCache(entry);
  back.forEach((t, i) => {
    assert.deepEqual([t.height, t.width, t.channels], [taps[i].height, taps[i].width, taps[i].channels]);
    for (let j = 0; j < t.data.length; j++) assert.ok(Math.abs(t.data[j] - taps[i].data[j]) <= 2e-3 * (1 + Math.abs(taps[i].data[j])));
  });
});
