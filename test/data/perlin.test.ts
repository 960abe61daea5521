import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { PERLIN_BOUND, drawPerlinMask, fractalPerlin2d, perlin2d, perlinMask } from '../../src/data/perlin.ts';

/** Mean absolute difference between horizontally and vertically neighbouring pixels. */
function roughness(field: Float32Array, width: number, height: number): { x: number; y: number } {
  let dx = 0;
  let dy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = field[y * width + x];
      if (x + 1 < width) dx += Math.abs(field[y * width + x + 1] - v);
      if (y + 1 < height) dy += Math.abs(field[(y + 1) * width + x] - v);
    }
  }
  return { x: dx / ((width - 1) * height), y: dy / (width * (height - 1)) };
}

test('perlin2d stays within [-1, 1], spans most of it, and is zero on lattice points', () => {
  const rng = new Rng(11);
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < 20; k++) {
    const periods = 2 ** rng.int(0, 5);
    const field = perlin2d(128, 128, periods, periods, rng);
    for (const v of field) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    // Pixel (0,0) samples lattice point (0,0): gradient noise vanishes there.
    assert.equal(Math.abs(field[0]), 0);
  }
  assert.equal(PERLIN_BOUND, 1);
  assert.ok(min >= -1 && max <= 1, `range [${min}, ${max}]`);
  assert.ok(min < -0.7 && max > 0.7, `range [${min}, ${max}] should use most of [-1, 1]`);
});

test('perlin2d: same seed gives the same field, another seed a different one', () => {
  const a = perlin2d(64, 48, 4, 2, new Rng(5));
  const b = perlin2d(64, 48, 4, 2, new Rng(5));
  const c = perlin2d(64, 48, 4, 2, new Rng(6));
  assert.equal(a.length, 64 * 48);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('perlin2d frequency follows the period count, per axis', () => {
  const size = 128;
  const rough = [1, 2, 4, 8, 16, 32].map((periods) => {
    // Average over seeds: one field's roughness fluctuates.
    let sum = 0;
    for (let seed = 0; seed < 4; seed++) sum += roughness(perlin2d(size, size, periods, periods, new Rng(seed)), size, size).x;
    return sum / 4;
  });
  for (let i = 1; i < rough.length; i++) assert.ok(rough[i] > rough[i - 1] * 1.5, `roughness ${rough.join(', ')}`);
  // Anisotropic periods: many periods across x, one down y.
  const aniso = roughness(perlin2d(size, size, 16, 1, new Rng(3)), size, size);
  assert.ok(aniso.x > 4 * aniso.y, `x ${aniso.x} vs y ${aniso.y}`);
});

test('fractalPerlin2d stays in range and adds fine detail', () => {
  const smooth = perlin2d(128, 128, 4, 4, new Rng(1));
  const fractal = fractalPerlin2d(128, 128, 4, 4, 5, new Rng(1));
  for (const v of fractal) assert.ok(v >= -1 && v <= 1);
  assert.ok(roughness(fractal, 128, 128).x > roughness(smooth, 128, 128).x);
});

test('perlinMask: binary, non-empty, deterministic, coverage in a plausible range', () => {
  const rng = new Rng(2024);
  const coverages: number[] = [];
  const angles: number[] = [];
  const periods = new Set<number>();
  for (let k = 0; k < 200; k++) {
    const draw = drawPerlinMask(96, 80, rng);
    assert.equal(draw.mask.width, 96);
    assert.equal(draw.mask.height, 80);
    let count = 0;
    for (const v of draw.mask.data) {
      assert.ok(v === 0 || v === 1);
      count += v;
    }
    assert.ok(count > 0, 'empty masks are redrawn');
    assert.equal(draw.coverage, count / (96 * 80));
    coverages.push(draw.coverage);
    angles.push(draw.angleDeg);
    periods.add(draw.periodsX).add(draw.periodsY);
  }
  coverages.sort((a, b) => a - b);
  const median = coverages[100];
  assert.ok(median > 0.01 && median < 0.3, `median coverage ${median}`);
  assert.ok(coverages[190] < 0.35, `95th percentile coverage ${coverages[190]}`);
  assert.ok(Math.min(...angles) >= -90 && Math.max(...angles) <= 90);
  assert.ok(Math.min(...angles) < -60 && Math.max(...angles) > 60, 'angles spread over [-90, 90]');
  assert.deepEqual([...periods].sort((a, b) => a - b), [1, 2, 4, 8, 16, 32]);

  assert.deepEqual(perlinMask(64, 64, new Rng(9)), perlinMask(64, 64, new Rng(9)));
  assert.notDeepEqual(perlinMask(64, 64, new Rng(9)), perlinMask(64, 64, new Rng(10)));
});

test('perlinMask: rotated masks have no empty corners, and options are respected', () => {
  // With rotation the field is sampled at rotated coordinates, so corners are
  // as likely to be set as the centre: count corner hits over many draws.
  const rng = new Rng(77);
  let cornerHits = 0;
  for (let k = 0; k < 300; k++) {
    const { mask } = drawPerlinMask(64, 64, rng, { minScaleExponent: 3, maxScaleExponent: 3, threshold: 0.2 });
    const d = mask.data;
    cornerHits += d[0] + d[63] + d[63 * 64] + d[64 * 64 - 1];
  }
  assert.ok(cornerHits > 40, `corner pixels set ${cornerHits} times in 1200 corner samples`);

  const fixed = drawPerlinMask(64, 64, new Rng(1), { minScaleExponent: 2, maxScaleExponent: 2, maxAngleDeg: 0, minPixels: 50 });
  assert.equal(fixed.periodsX, 4);
  assert.equal(fixed.periodsY, 4);
  assert.equal(Math.abs(fixed.angleDeg), 0);
  assert.ok(fixed.coverage * 64 * 64 >= 50);
  // A lower threshold gives larger masks from the same draws.
  const low = drawPerlinMask(64, 64, new Rng(3), { threshold: 0.2 });
  const high = drawPerlinMask(64, 64, new Rng(3), { threshold: 0.5 });
  if (low.tries === 1 && high.tries === 1) assert.ok(low.coverage > high.coverage);
  assert.throws(() => perlinMask(64, 64, new Rng(1), { threshold: 1 }), /bound/);
});
