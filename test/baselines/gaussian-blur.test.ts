import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianBlur, gaussianKernel1d, reflectIndex } from '../../src/localization/gaussian-blur.ts';
import { Rng } from '../../src/util/rng.ts';

test('Gaussian kernel is normalised, symmetric, 33 taps at σ = 4 (anomalib size)', () => {
  const k = gaussianKernel1d(4);
  assert.equal(k.length, 33);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  for (let i = 0; i < k.length; i++) assert.ok(Math.abs(k[i] - k[k.length - 1 - i]) < 1e-15);
  // Its variance is σ² (up to truncation at 4σ).
  const variance = k.reduce((s, v, i) => s + v * (i - 16) ** 2, 0);
  assert.ok(Math.abs(variance - 16) < 0.05, `variance ${variance}`);
});

test('reflect padding mirrors without repeating the edge, also beyond one period', () => {
  assert.deepEqual([-3, -2, -1, 0, 4, 5, 6, 7].map((i) => reflectIndex(i, 5)), [3, 2, 1, 0, 4, 3, 2, 1]);
  assert.equal(reflectIndex(-20, 5), reflectIndex(20, 5));
  assert.equal(reflectIndex(7, 1), 0);
});

test('blur keeps constants, keeps the mass of an interior impulse and spreads it as a Gaussian', () => {
  const w = 64;
  const h = 48;
  const flat = gaussianBlur(new Float32Array(w * h).fill(0.7), w, h, 4);
  for (const v of flat) assert.ok(Math.abs(v - 0.7) < 1e-6);
  const impulse = new Float32Array(w * h);
  impulse[24 * w + 32] = 1;
  const out = gaussianBlur(impulse, w, h, 4);
  assert.ok(Math.abs(out.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  let argmax = 0;
  for (let i = 0; i < out.length; i++) if (out[i] > out[argmax]) argmax = i;
  assert.equal(argmax, 24 * w + 32);
  // Separable Gaussian: value at offset (dx, dy) ∝ exp(−(dx²+dy²)/(2σ²)).
  const ratio = out[24 * w + 36] / out[24 * w + 32];
  assert.ok(Math.abs(ratio - Math.exp(-16 / 32)) < 1e-3, `ratio ${ratio}`);
  // σ = 0 copies; noise loses variance.
  const rng = new Rng(1);
  const noise = Float32Array.from({ length: w * h }, () => rng.normal());
  assert.deepEqual(gaussianBlur(noise, w, h, 0), noise);
  const smooth = gaussianBlur(noise, w, h, 2);
  const variance = (a: Float32Array) => a.reduce((s, v) => s + v * v, 0) / a.length;
  assert.ok(variance(smooth) < 0.1 * variance(noise));
});
