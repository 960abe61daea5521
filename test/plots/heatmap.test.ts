import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { colormapLut, COLORMAP_NAMES, luminance } from '../../src/plots/colormap.ts';
import { binarizeMap, colorizeMap, heatmapOverlay, normalizeMap } from '../../src/plots/heatmap.ts';
import { qualitativePanel } from '../../src/plots/qualitative-panel.ts';
import { readImage, readMask } from '../../src/data/image.ts';
import { sharedDir } from '../../src/util/paths.ts';
import type { RgbImage } from '../../src/data/types.ts';

function lutLuminance(lut: Uint8Array, i: number): number {
  return luminance(lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]);
}

function gradientImage(width: number, height: number): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const p = (y * width + x) * 3;
    data[p] = x / (width - 1);
    data[p + 1] = y / (height - 1);
    data[p + 2] = 0.5;
  }
  return { width, height, data };
}

test('inferno LUT reads dark → bright: luminance never decreases, black-ish to pale-yellow endpoints', () => {
  const lut = colormapLut('inferno');
  assert.equal(lut.length, 256 * 3);
  for (let i = 1; i < 256; i++) assert.ok(lutLuminance(lut, i) >= lutLuminance(lut, i - 1) - 1e-9, `luminance drops at ${i}`);
  assert.ok(lutLuminance(lut, 0) < 0.03);
  assert.ok(lutLuminance(lut, 255) > 0.9);
  assert.ok(lut[255 * 3 + 2] < lut[255 * 3], 'the bright end is yellow, not white-blue');
});

test('turbo and jet run blue → red; each LUT is the same object on every call', () => {
  for (const name of ['turbo', 'jet'] as const) {
    const lut = colormapLut(name);
    // The low end is blue (turbo's first entries are near-black purple, hence 0.1-0.25).
    for (const i of [26, 45, 64]) assert.ok(lut[i * 3 + 2] > lut[i * 3], `${name} is blue at ${i}`);
    const [r1, , b1] = [lut[765], lut[766], lut[767]];
    assert.ok(r1 > b1 && r1 > 100, `${name} ends red`);
    // The middle is bright (green/yellow), the ends dark: the usual anomaly-map look.
    assert.ok(lutLuminance(lut, 128) > lutLuminance(lut, 0) && lutLuminance(lut, 128) > lutLuminance(lut, 255));
  }
  for (const name of COLORMAP_NAMES) assert.equal(colormapLut(name), colormapLut(name));
  assert.throws(() => colormapLut('viridis' as never), /unknown colormap "viridis"/);
});

test('heatmapOverlay keeps the image size and blends (1 − alpha)·image + alpha·colour', () => {
  const image = gradientImage(7, 5);
  const map = new Float32Array(35).map((_, i) => i / 34);
  const colour = colorizeMap({ width: 7, height: 5, data: map }, 'inferno');
  for (const alpha of [0, 0.3, 1]) {
    const out = heatmapOverlay(image, map, alpha, 'inferno');
    assert.deepEqual([out.width, out.height, out.data.length], [7, 5, 105]);
    for (let i = 0; i < out.data.length; i++) {
      assert.ok(Math.abs(out.data[i] - ((1 - alpha) * image.data[i] + alpha * colour.data[i])) < 1e-6);
    }
  }
  assert.deepEqual(heatmapOverlay(image, map, 0).data, image.data);
  // Out-of-range and NaN values clamp to the colormap's ends.
  const clamped = colorizeMap({ width: 3, height: 1, data: Float32Array.from([-2, NaN, 7]) }, 'inferno');
  const lut = colormapLut('inferno');
  assert.deepEqual(Array.from(clamped.data.slice(0, 6), (v) => Math.round(v * 255)), [lut[0], lut[1], lut[2], lut[0], lut[1], lut[2]]);
  assert.deepEqual(Array.from(clamped.data.slice(6), (v) => Math.round(v * 255)), [lut[765], lut[766], lut[767]]);
  assert.throws(() => heatmapOverlay(image, new Float32Array(10), 0.5), /10 values but the image is 7x5/);
  assert.throws(() => heatmapOverlay(image, map, 1.5), /alpha/);
  // A GrayImage of another size is resized to the image.
  const small = heatmapOverlay(image, { width: 2, height: 2, data: Float32Array.from([0, 1, 0, 1]) }, 0.5);
  assert.deepEqual([small.width, small.height], [7, 5]);
});

test('binarizeMap thresholds at >= t; normalizeMap scales to [0, 1] with optional fixed bounds', () => {
  const map = { width: 4, height: 1, data: Float32Array.from([0.1, 0.5, 0.49, 0.9]) };
  assert.deepEqual(Array.from(binarizeMap(map, 0.5).data), [0, 1, 0, 1]);
  assert.deepEqual(Array.from(normalizeMap([2, 4, 6])), [0, 0.5, 1]);
  assert.deepEqual(Array.from(normalizeMap([2, 4, 6], { min: 0, max: 4 })), [0.5, 1, 1]);
  assert.deepEqual(Array.from(normalizeMap([3, 3])), [0, 0]);
});

test('qualitative panel on real magnetic-tile images: a PNG with one tile column per output', async (t) => {
  const shared = sharedDir();
  if (!shared) return t.skip('shared/ folder not found beside the checkout');
  const folder = join(shared, 'data', 'magnetic-tile', 'MT_Crack', 'Imgs');
  const name = readdirSync(folder).filter((f) => f.endsWith('.jpg')).sort()[0];
  const geometry = { size: 64, resize: 'center-crop' as const };
  const image = await readImage(join(folder, name), geometry);
  const mask = await readMask(join(folder, name.replace('.jpg', '.png')), geometry);
  const map = Float32Array.from(mask.data, (v) => 0.2 + 0.6 * v);
  const tile = 96;
  const rows = [
    { label: `Crack/${name}`, image, mask, map, segmentation: map },
    { label: 'nominal', image, mask: null, map: new Float32Array(64 * 64), segmentation: null },
  ];
  const withSegmentation = await sharp(await qualitativePanel(rows, { tileSize: tile, gap: 4, title: 'Fig. 2' })).metadata();
  const without = await sharp(await qualitativePanel(rows.map((r) => ({ ...r, segmentation: null })), { tileSize: tile, gap: 4 })).metadata();
  assert.equal(withSegmentation.format, 'png');
  assert.equal(withSegmentation.width! - without.width!, tile + 4, 'the segmentation column is one tile wide');
  assert.ok(withSegmentation.width! >= 5 * tile && withSegmentation.height! >= 2 * tile);
  const stats = await sharp(await qualitativePanel(rows, { tileSize: tile })).stats();
  assert.ok(stats.channels[0].stdev > 10, 'the panel is not blank');
  await assert.rejects(() => qualitativePanel([]), /no rows/);
});
