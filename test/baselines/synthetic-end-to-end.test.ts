import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadBackbone } from '../../src/backbones/registry.ts';
import { Padim } from '../../src/baselines/padim/padim.ts';
import { PatchCore } from '../../src/baselines/patchcore/patchcore.ts';
import { tapsFromCache, type UnsupervisedBaseline } from '../../src/baselines/types.ts';
import { loadDataset } from '../../src/data/load-dataset.ts';
import { buildManifest } from '../../src/data/protocol.ts';
import type { DataSpec } from '../../src/data/spec.ts';
import { generateSyntheticDataset } from '../../src/data/synthetic/generate.ts';
import type { ImageGeometry } from '../../src/data/types.ts';
import { auroc } from '../../src/evaluation/metrics/auroc.ts';
import { PixelAurocAccumulator } from '../../src/evaluation/metrics/pixel-auroc.ts';
import { buildFeatureCache, datasetItemSource, type FeatureCache } from '../../src/training/feature-cache.ts';
import { sharedPath } from '../../src/util/paths.ts';

/**
 * The baselines in the real harness: a generated MVTec-layout category, the
 * protocol's manifest at r = 0, the frozen offline ImageNet backbone through
 * the detector's feature cache, then fit on the pool and score the test set.
 * Small on purpose (128², 30 training images) to stay fast on 2 cores.
 */

const GEOMETRY: ImageGeometry = { size: 128, resize: 'stretch' };

async function syntheticCache(dir: string): Promise<FeatureCache> {
  await generateSyntheticDataset({ out: dir, seed: 0, size: 128, categories: ['carpet'], train: 30, testGood: 12, testPerDefect: 4, silent: true });
  const spec: DataSpec = { format: 'mvtec', root: dir, category: 'carpet' };
  const dataset = loadDataset(spec);
  const manifest = buildManifest(dataset, spec, { ratio: 0, shots: 0, seed: 0 }, () => {});
  const byId = new Map(dataset.items.map((item) => [item.id, item]));
  const sources = manifest.items.map((m) =>
    datasetItemSource(byId.get(m.id)!, GEOMETRY, { group: m.role === 'test' ? 'test' : 'pool' }),
  );
  const backbone = await loadBackbone('auto', { cacheDir: sharedPath('weights') });
  try {
    return (await buildFeatureCache(backbone, sources, { geometry: GEOMETRY, silent: true })).cache;
  } finally {
    backbone.dispose();
  }
}

function evaluate(model: UnsupervisedBaseline, cache: FeatureCache) {
  const testSet = cache.group('test');
  const pixels = new PixelAurocAccumulator();
  const scores = testSet.map((entry) => {
    const prediction = model.predict(tapsFromCache(entry));
    assert.equal(prediction.map.length, GEOMETRY.size * GEOMETRY.size);
    if (entry.mask) pixels.add(prediction.map, entry.mask);
    return prediction.imageScore;
  });
  return { imageAuroc: auroc(scores, testSet.map((e) => e.trueLabel)), pixelAuroc: pixels.result() };
}

test('PatchCore and PaDiM on a synthetic category at r = 0 reach image AUROC >= 0.9', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-baselines-e2e-'));
  try {
    const cache = await syntheticCache(dir);
    assert.equal(cache.group('pool').length, 30);
    assert.equal(cache.group('test').filter((e) => e.trueLabel === 1).length, 12);
    const tensorsBefore = tf.memory().numTensors;
    for (const model of [new PatchCore(), new Padim()] as UnsupervisedBaseline[]) {
      const report = await model.fit(cache.group('pool').map(tapsFromCache));
      const result = evaluate(model, cache);
      t.diagnostic(`${model.method}: image AUROC ${result.imageAuroc.toFixed(3)}, pixel AUROC ${result.pixelAuroc.toFixed(3)}, ${JSON.stringify(report.details)}`);
      assert.ok(result.imageAuroc >= 0.9, `${model.method} image AUROC ${result.imageAuroc}`);
      assert.ok(result.pixelAuroc >= 0.8, `${model.method} pixel AUROC ${result.pixelAuroc}`);
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leak');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
