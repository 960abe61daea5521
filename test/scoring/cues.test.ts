import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { binaryEntropyCue, boxFilter2d, segmentationCue } from '../../src/scoring/cues.ts';
import { topFractionCount, topFractionMean } from '../../src/scoring/top-fraction.ts';

test('binary entropy cue: 0 at p = 0 and 1, 1 at 0.5, symmetric, in [0, 1], rising towards 0.5', () => {
  assert.equal(binaryEntropyCue(0), 0);
  assert.equal(binaryEntropyCue(1), 0);
  assert.ok(Math.abs(binaryEntropyCue(0.5) - 1) < 1e-15);
  // H(0.25) = 0.811278... bits.
  const h = -(0.25 * Math.log2(0.25) + 0.75 * Math.log2(0.75));
  assert.ok(Math.abs(binaryEntropyCue(0.25) - h) < 1e-12);
  let previous = -1;
  for (let k = 0; k <= 50; k++) {
    const p = k / 100;
    const v = binaryEntropyCue(p);
    assert.ok(v >= 0 && v <= 1 && v > previous);
    assert.ok(Math.abs(v - binaryEntropyCue(1 - p)) < 1e-12);
    previous = v;
  }
  assert.ok(binaryEntropyCue(1e-300) >= 0 && binaryEntropyCue(1 - 1e-16) >= 0);
  assert.throws(() => binaryEntropyCue(NaN), /probability/);
  assert.throws(() => binaryEntropyCue(1.5), /probability/);
});

test('top-fraction mean keeps ceil(fraction·n) values, at least one', () => {
  assert.equal(topFractionCount(30, 0.1), 3);
  assert.equal(topFractionCount(65536, 0.01), 656);
  assert.equal(topFractionCount(10, 0.001), 1);
  assert.equal(topFractionCount(7, 1), 7);
  assert.equal(topFractionMean([5, 1, 9, 3, 7, 2, 8, 4, 6, 0], 0.3), 8);
  assert.equal(topFractionMean(new Float32Array([0.5, -1, 0.25]), 0.01), 0.5);
  assert.equal(topFractionMean([1, 2, 3, 4], 1), 2.5);
  assert.throws(() => topFractionMean([1, 2], 0), /fraction/);
  assert.throws(() => topFractionMean([], 0.5), /at least one/);
  assert.throws(() => topFractionMean([1, NaN], 0.5), /NaN/);
});

/** The box filter by its definition: average over the in-map window (or size² with zero padding). */
function bruteBox(map: Float32Array, w: number, h: number, size: number, zeros: boolean): Float32Array {
  const r = (size - 1) / 2;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      let c = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          s += map[yy * w + xx];
          c++;
        }
      }
      out[y * w + x] = s / (zeros ? size * size : c);
    }
  }
  return out;
}

test('box filter equals the windowed mean at every pixel, both edge modes, including windows larger than the map', () => {
  const rng = new Rng(6);
  for (const [w, h, size] of [[17, 11, 3], [30, 25, 21], [9, 6, 21], [5, 5, 1]]) {
    const map = Float32Array.from({ length: w * h }, () => rng.next());
    for (const edge of ['shrink', 'zeros'] as const) {
      const got = boxFilter2d(map, w, h, size, edge);
      const want = bruteBox(map, w, h, size, edge === 'zeros');
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-6, `${w}x${h} k${size} ${edge} @${i}`);
    }
  }
  // A constant map stays constant with 'shrink' (no border darkening).
  const flat = boxFilter2d(new Float32Array(64).fill(0.7), 8, 8, 5);
  for (const v of flat) assert.ok(Math.abs(v - 0.7) < 1e-6);
  assert.throws(() => boxFilter2d(new Float32Array(4), 2, 2, 4), /odd/);
  assert.throws(() => boxFilter2d(new Float32Array(5), 2, 2, 3), /5 values/);
});

test('segmentation cue: top-ρ mean, and smoothing spreads an isolated spike', () => {
  const w = 60;
  const h = 60;
  const map = new Float32Array(w * h);
  map[30 * w + 30] = 1; // one hot pixel, far enough from the border for full windows
  // ρ = 0.01 of 3600 pixels = 36 pixels; one is 1 -> mean 1/36.
  assert.ok(Math.abs(segmentationCue(map, w, h) - 1 / 36) < 1e-12);
  // After a 21×21 mean filter the spike is 1/441 over 441 pixels; the top 36 are all 1/441.
  assert.ok(Math.abs(segmentationCue(map, w, h, { smoothSize: 21 }) - 1 / 441) < 1e-7);
  // A blob of 25 pixels survives smoothing far better than one pixel: why ADL smooths.
  const blob = new Float32Array(w * h);
  for (let y = 10; y < 15; y++) for (let x = 10; x < 15; x++) blob[y * w + x] = 1;
  assert.ok(segmentationCue(blob, w, h, { smoothSize: 21 }) > 20 * segmentationCue(map, w, h, { smoothSize: 21 }));
  assert.throws(() => segmentationCue(map, 10, 10), /expected 10×10/);
});
