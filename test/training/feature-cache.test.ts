import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writePng } from '../../src/data/image.ts';
import type { DatasetItem, Mask, RgbImage } from '../../src/data/types.ts';
import { initBackend } from '../../src/engine/backend.ts';
import {
  buildFeatureCache,
  datasetItemSource,
  float16ToFloat32,
  float32ToFloat16,
  fromFloat16Bits,
  pseudoAnomalySources,
  toFloat16Bits,
  type FeatureSource,
} from '../../src/training/feature-cache.ts';
import { Rng } from '../../src/util/rng.ts';
import { toyBackbone } from '../model/fixtures.ts';

before(async () => {
  await initBackend('cpu');
});

test('float16: exact bit patterns, round-to-nearest-even, overflow, subnormals, NaN', () => {
  assert.equal(toFloat16Bits(1), 0x3c00);
  assert.equal(toFloat16Bits(-2), 0xc000);
  assert.equal(toFloat16Bits(0.5), 0x3800);
  assert.equal(toFloat16Bits(65504), 0x7bff);
  assert.equal(toFloat16Bits(65520), 0x7c00); // rounds up past the largest half: Inf
  assert.equal(toFloat16Bits(-Infinity), 0xfc00);
  assert.equal(toFloat16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(toFloat16Bits(2 ** -14), 0x0400); // smallest normal
  assert.equal(toFloat16Bits(1e-9), 0);
  assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00); // halfway: to even (down)
  assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // halfway: to even (up)
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
  assert.equal(fromFloat16Bits(0x3555), 0.333251953125);
  const rng = new Rng(4);
  const values = Float32Array.from({ length: 5000 }, () => rng.uniform(-100, 100));
  const back = float16ToFloat32(float32ToFloat16(values));
  values.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= Math.abs(v) * 2 ** -11 + 1e-7, `${v} → ${back[i]}`));
  // Every finite half survives a round trip exactly.
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(toFloat16Bits(fromFloat16Bits(h)), h);
});

function gradientImage(size: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: size * size * 3 }, () => rng.next());
  return { width: size, height: size, data };
}

function memorySource(id: string, seed: number, calls: { n: number }): FeatureSource {
  return {
    id,
    group: 'pool',
    trainLabel: 0,
    trueLabel: 0,
    contentKey: `memory:${id}:${seed}`,
    async load() {
      calls.n++;
      return { image: gradientImage(64, seed), mask: null };
    },
  };
}

test('buildFeatureCache extracts in batches, stores float16 taps, and a second build reuses the disk cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-cache-'));
  const backbone = toyBackbone();
  try {
    const calls = { n: 0 };
    const sources = Array.from({ length: 5 }, (_, i) => memorySource(`img${i}`, i, calls));
    const geometry = { size: 64, resize: 'stretch' as const };
    const first = await buildFeatureCache(backbone, sources, { geometry, cacheDir: dir, batchSize: 2, silent: true });
    assert.equal(first.stats.extracted, 5);
    assert.equal(calls.n, 5);
    const entry = first.cache.get('img3');
    assert.deepEqual(entry.taps.map((t) => t.shape), [[8, 8, 6], [4, 4, 6], [2, 2, 6]]);
    // The stored taps are the backbone's, to float16 precision.
    const direct = tf.tidy(() => backbone.forward(tf.tensor4d(gradientImage(64, 3).data, [1, 64, 64, 3]))[0].dataSync());
    const stored = float16ToFloat32(entry.taps[0].data);
    direct.forEach((v, i) => assert.ok(Math.abs(stored[i] - v) <= Math.abs(v) * 1e-3 + 1e-6));

    const second = await buildFeatureCache(backbone, sources, { geometry, cacheDir: dir, batchSize: 2, silent: true });
    assert.equal(second.stats.reusedFromDisk, 5);
    assert.equal(calls.n, 5, 'nothing re-read');
    second.cache.entries.forEach((e, i) => assert.deepEqual(e.taps, first.cache.entries[i].taps));

    // Other weights: a different folder, so everything is extracted again.
    const other = toyBackbone(7, 'toy-v2');
    const third = await buildFeatureCache(other, sources, { geometry, cacheDir: dir, silent: true });
    assert.equal(third.stats.extracted, 5);
    other.dispose();

    const [a, b, c] = first.cache.tapTensors(first.cache.entries.slice(0, 3));
    assert.deepEqual([a.shape, b.shape, c.shape], [[3, 8, 8, 6], [3, 4, 4, 6], [3, 2, 2, 6]]);
    tf.dispose([a, b, c]);
  } finally {
    backbone.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pseudo-anomaly variants are fixed by seed, item and variant; dataset items are keyed by file mtime', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-src-'));
  try {
    const path = join(dir, 'a.png');
    await writePng(path, gradientImage(32, 1));
    const item: DatasetItem = { id: 'train/good/a', path, split: 'train', label: 0, defect: 'good', maskPath: null };
    const geometry = { size: 16, resize: 'stretch' as const };
    const pool = datasetItemSource(item, geometry, { group: 'pool' });
    assert.equal(pool.trainLabel, 0);
    const loaded = await pool.load();
    assert.equal(loaded.image.width, 16);
    assert.equal(loaded.mask, null);
    const keyBefore = pool.contentKey;
    utimesSync(path, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.notEqual(datasetItemSource(item, geometry, { group: 'pool' }).contentKey, keyBefore);
    const test = await datasetItemSource(item, geometry, { group: 'test' }).load();
    assert.deepEqual(test.mask?.data, new Uint8Array(256), 'nominal test items get an all-zero mask');

    const generate = (image: RgbImage, rng: Rng): { image: RgbImage; mask: Mask } => {
      const mask = new Uint8Array(image.width * image.height);
      const at = rng.int(0, mask.length - 1);
      mask[at] = 1;
      const data = image.data.slice();
      data[at * 3] = 1 - data[at * 3];
      return { image: { ...image, data }, mask: { width: image.width, height: image.height, data: mask } };
    };
    const opts = { variants: 3, seed: 11, generate, generatorKey: 'flip-v1' };
    const variants = pseudoAnomalySources([pool], opts);
    assert.deepEqual(variants.map((v) => v.id), ['train/good/a#pseudo0', 'train/good/a#pseudo1', 'train/good/a#pseudo2']);
    assert.ok(variants.every((v) => v.group === 'pseudo' && v.trainLabel === 1));
    assert.equal(new Set(variants.map((v) => v.contentKey)).size, 3);
    const again = pseudoAnomalySources([pool], opts);
    for (let v = 0; v < 3; v++) {
      const [x, y] = await Promise.all([variants[v].load(), again[v].load()]);
      assert.deepEqual(x.mask, y.mask);
      assert.equal(variants[v].contentKey, again[v].contentKey);
    }
    const otherSeed = pseudoAnomalySources([pool], { ...opts, seed: 12 });
    assert.notEqual(otherSeed[0].contentKey, variants[0].contentKey);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
