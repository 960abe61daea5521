import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.ts';
import { InputError } from '../../src/util/errors.ts';
import { sharedPath } from '../../src/util/paths.ts';
import { blendInMask, colorJitter, makePseudoAnomaly, resizeRgbBilinear } from '../../src/data/pseudo-anomaly.ts';
import { folderAnomalySource, proceduralAnomalySource } from '../../src/data/anomaly-source.ts';
import { PROCEDURAL_TEXTURE_KINDS, proceduralTexture } from '../../src/data/procedural-texture.ts';
import { perlinMask } from '../../src/data/perlin.ts';
import type { RgbImage } from '../../src/data/types.ts';

/** A smooth gradient image with noise: every pixel distinct enough to notice a change. */
function testImage(width: number, height: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = x / width;
      data[p + 1] = y / height;
      data[p + 2] = rng.uniform(0.2, 0.8);
    }
  }
  return { width, height, data };
}

test('pseudo-anomaly changes only mask pixels; outside M the input is bit-identical', async () => {
  const image = testImage(64, 64, 1);
  const source = proceduralAnomalySource();
  const rng = new Rng(3);
  for (let k = 0; k < 20; k++) {
    const a = await source.draw(rng, 40, 50); // another size: resized inside
    const out = makePseudoAnomaly(image, a, rng);
    assert.equal(out.image.width, 64);
    assert.equal(out.mask.width, 64);
    let changedInside = 0;
    let inside = 0;
    for (let p = 0; p < 64 * 64; p++) {
      for (let c = 0; c < 3; c++) {
        const i = p * 3 + c;
        if (!out.mask.data[p]) assert.equal(out.image.data[i], image.data[i], `pixel ${p} outside M changed`);
      }
      if (out.mask.data[p]) {
        inside++;
        if (out.image.data[p * 3] !== image.data[p * 3]) changedInside++;
        for (let c = 0; c < 3; c++) {
          const v = out.image.data[p * 3 + c];
          assert.ok(v >= 0 && v <= 1);
          // Eq. 1 inside M.
          const expected = (1 - out.beta) * out.anomaly.data[p * 3 + c] + out.beta * image.data[p * 3 + c];
          assert.ok(Math.abs(v - expected) < 1e-6);
        }
      }
    }
    assert.ok(inside > 0, 'mask non-empty');
    assert.ok(changedInside > inside / 2, 'most mask pixels change');
  }
});

test('beta is drawn in [0, 0.8], spread over the interval', () => {
  const image = testImage(16, 16, 2);
  const source = testImage(16, 16, 3);
  const rng = new Rng(4);
  const betas = Array.from({ length: 500 }, () => makePseudoAnomaly(image, source, rng).beta);
  assert.ok(Math.min(...betas) >= 0 && Math.max(...betas) <= 0.8);
  assert.ok(Math.min(...betas) < 0.05 && Math.max(...betas) > 0.75);
  const mean = betas.reduce((s, b) => s + b, 0) / betas.length;
  assert.ok(Math.abs(mean - 0.4) < 0.04, `mean beta ${mean}`);
});

test('beta = 0 gives the pure source inside M; beta near 1 gives the input', () => {
  const image = testImage(32, 32, 5);
  const source = testImage(32, 32, 6);
  const mask = perlinMask(32, 32, new Rng(1), { threshold: 0.2 });
  const pure = makePseudoAnomaly(image, source, new Rng(7), { beta: 0, mask, jitter: false });
  const faint = makePseudoAnomaly(image, source, new Rng(7), { beta: 0.999, mask, jitter: false });
  for (let p = 0; p < 32 * 32; p++) {
    if (!mask.data[p]) continue;
    for (let c = 0; c < 3; c++) {
      assert.equal(pure.image.data[p * 3 + c], source.data[p * 3 + c]);
      assert.ok(Math.abs(faint.image.data[p * 3 + c] - image.data[p * 3 + c]) < 1e-3);
    }
  }
  assert.deepEqual(pure.mask, mask);
  assert.throws(() => makePseudoAnomaly(image, source, new Rng(1), { beta: 1.5 }), /beta/);
});

test('pseudo-anomalies are deterministic per seed', () => {
  const image = testImage(48, 48, 8);
  const source = testImage(48, 48, 9);
  const a = makePseudoAnomaly(image, source, new Rng(10));
  const b = makePseudoAnomaly(image, source, new Rng(10));
  const c = makePseudoAnomaly(image, source, new Rng(11));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.image.data, c.image.data);
});

test('colour jitter stays in [0,1], changes colours, keeps greys grey under hue rotation alone', () => {
  const image = testImage(32, 32, 12);
  const jittered = colorJitter(image, new Rng(1));
  let diff = 0;
  for (let i = 0; i < image.data.length; i++) {
    assert.ok(jittered.data[i] >= 0 && jittered.data[i] <= 1);
    diff += Math.abs(jittered.data[i] - image.data[i]);
  }
  assert.ok(diff / image.data.length > 0.005);
  const grey: RgbImage = { width: 4, height: 4, data: new Float32Array(48).fill(0.4) };
  const hueOnly = colorJitter(grey, new Rng(2), { brightness: 0, contrast: 0, saturation: 0, hue: 0.5 });
  for (const v of hueOnly.data) assert.ok(Math.abs(v - 0.4) < 1e-6);
});

test('bilinear resize keeps constants and the value range', () => {
  const flat: RgbImage = { width: 10, height: 7, data: new Float32Array(210).fill(0.25) };
  const up = resizeRgbBilinear(flat, 33, 21);
  assert.equal(up.data.length, 33 * 21 * 3);
  for (const v of up.data) assert.ok(Math.abs(v - 0.25) < 1e-6);
  const image = testImage(40, 30, 1);
  const down = resizeRgbBilinear(image, 13, 17);
  for (const v of down.data) assert.ok(v >= 0 && v <= 1);
  assert.equal(resizeRgbBilinear(image, 40, 30), image);
  // blendInMask with an empty mask is a copy.
  const empty = { width: 40, height: 30, data: new Uint8Array(1200) };
  assert.deepEqual(blendInMask(image, image, empty, 0.3).data, image.data);
});

test('procedural textures: every kind, deterministic per seed, varied and in range', async () => {
  for (const kind of PROCEDURAL_TEXTURE_KINDS) {
    const a = proceduralTexture(kind, 64, 64, new Rng(1));
    const b = proceduralTexture(kind, 64, 64, new Rng(1));
    const c = proceduralTexture(kind, 64, 64, new Rng(2));
    assert.deepEqual(a.data, b.data, kind);
    assert.notDeepEqual(a.data, c.data, kind);
    let mean = 0;
    for (const v of a.data) {
      assert.ok(v >= 0 && v <= 1, kind);
      mean += v;
    }
    mean /= a.data.length;
    let variance = 0;
    for (const v of a.data) variance += (v - mean) ** 2;
    assert.ok(variance / a.data.length > 1e-4, `${kind} is not flat`);
  }
  const source = proceduralAnomalySource();
  const x = await source.draw(new Rng(5), 50, 30);
  const y = await source.draw(new Rng(5), 50, 30);
  assert.equal(x.width, 50);
  assert.equal(x.height, 30);
  assert.deepEqual(x, y);
});

test('folder anomaly source: recursive, deterministic, resized; clear error when empty', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'multicue-empty-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  assert.throws(() => folderAnomalySource(empty), (err: unknown) => err instanceof InputError && /no images/.test(err.message) && /fix:/.test(err.message));
  assert.throws(() => folderAnomalySource(join(empty, 'missing')), InputError);

  let dir: string;
  try {
    dir = sharedPath('data', 'magnetic-tile', 'MT_Crack');
  } catch {
    t.skip('shared data not available');
    return;
  }
  const source = folderAnomalySource(dir); // images live one level down, in Imgs/
  assert.match(source.description, /images\)/);
  const a = await source.draw(new Rng(1), 48, 40);
  const b = await source.draw(new Rng(1), 48, 40);
  assert.equal(a.width, 48);
  assert.equal(a.height, 40);
  assert.equal(a.data.length, 48 * 40 * 3);
  assert.deepEqual(a, b);
  for (const v of a.data) assert.ok(v >= 0 && v <= 1);
  // Cached draws are copies: changing one leaves the next draw of that file intact.
  a.data.fill(0);
  assert.deepEqual(await source.draw(new Rng(1), 48, 40), b);
  const uncached = folderAnomalySource(dir, { cacheSize: 0 });
  assert.deepEqual(await uncached.draw(new Rng(1), 48, 40), b);
});
