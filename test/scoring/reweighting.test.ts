import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../../src/util/paths.ts';
import { Rng } from '../../src/util/rng.ts';
import {
  alphaDivergenceWeights,
  lambdaSchedule,
  stepWeights,
  uniformWeights,
} from '../../src/training/reweighting.ts';

interface ReweightCase {
  alpha: number;
  lambda: number;
  losses: number[];
  weights: number[];
}
const vectors = JSON.parse(readFileSync(sharedPath('testvectors', 'reweight.json'), 'utf8')) as { cases: ReweightCase[] };

const sum = (w: ArrayLike<number>): number => Array.from(w).reduce((a, b) => a + b, 0);

test('alpha-divergence weights match every test vector to 1e-9 (alpha 0.1, 0.5, 1 and 2)', () => {
  const alphas = vectors.cases.map((c) => c.alpha);
  assert.ok(alphas.includes(1) && alphas.some((a) => a < 1) && alphas.some((a) => a > 1));
  for (const c of vectors.cases) {
    const w = alphaDivergenceWeights(c.losses, c.alpha, c.lambda);
    assert.equal(w.length, c.weights.length);
    for (let i = 0; i < w.length; i++) {
      assert.ok(Math.abs(w[i] - c.weights[i]) < 1e-9, `alpha ${c.alpha} weight ${i}: ${w[i]} vs ${c.weights[i]}`);
    }
  }
});

test('higher loss never gets more weight (alpha < 1, = 1 and > 1); alpha > 1 zeroes losses >= lambda/(alpha-1)', () => {
  const rng = new Rng(8);
  const losses = Array.from({ length: 64 }, () => rng.uniform(0, 3));
  for (const [alpha, lambda] of [[0.1, 0.1], [0.5, 0.3], [1, 0.1], [1, 5], [2, 0.5], [3, 2]]) {
    const w = alphaDivergenceWeights(losses, alpha, lambda);
    assert.ok(Math.abs(sum(w) - 1) < 1e-12);
    for (let i = 0; i < losses.length; i++) {
      for (let j = 0; j < losses.length; j++) {
        if (losses[i] < losses[j]) {
          assert.ok(w[i] >= w[j], `alpha ${alpha}: loss ${losses[i]} weight ${w[i]} < loss ${losses[j]} weight ${w[j]}`);
          if (alpha <= 1) assert.ok(w[i] > w[j]); // strictly, no clipping below 1
        }
      }
      if (alpha > 1 && losses[i] >= lambda / (alpha - 1)) assert.equal(w[i], 0);
    }
  }
});

test('large lambda tends to uniform, small lambda concentrates on the lowest loss', () => {
  const losses = [0.3, 1.2, 0.7, 2.5];
  for (const alpha of [0.1, 1, 2]) {
    const flat = alphaDivergenceWeights(losses, alpha, 1e6);
    for (const w of flat) assert.ok(Math.abs(w - 0.25) < 1e-4);
  }
  // KL with tiny lambda: exp(-l/lambda) underflows without the min-shift; it must not.
  const sharp = alphaDivergenceWeights(losses, 1, 1e-3);
  assert.ok(Math.abs(sharp[0] - 1) < 1e-12);
  assert.ok(!Array.from(sharp).some(Number.isNaN));
  // alpha close to 1 from below: huge negative exponent, still finite and normalised.
  const nearKl = alphaDivergenceWeights(losses, 0.999, 0.01);
  assert.ok(Math.abs(sum(nearKl) - 1) < 1e-12 && nearKl[0] > 0.99);
});

test('degenerate bases fall back as documented; bad parameters throw', () => {
  // alpha > 1, every base clipped to 0: mass on the minimum-loss samples.
  assert.deepEqual(Array.from(alphaDivergenceWeights([2, 1, 3, 1], 2, 0.5)), [0, 0.5, 0, 0.5]);
  // alpha < 1 with negative losses driving the base to 0: those samples share the mass.
  assert.deepEqual(Array.from(alphaDivergenceWeights([-1, 0.5, -2], 0.5, 0.5)), [0.5, 0, 0.5]);
  assert.equal(alphaDivergenceWeights([], 0.1, 0.1).length, 0);
  assert.throws(() => alphaDivergenceWeights([1], 0.1, 0), /lambda/);
  assert.throws(() => alphaDivergenceWeights([1, NaN], 0.1, 0.1), /loss 1/);
  assert.throws(() => alphaDivergenceWeights([1], NaN, 0.1), /alpha/);
});

test('lambda schedule: uniform in burn-in, 10λ at its end falling linearly to λ at 3× burn-in', () => {
  const lambda = 0.1;
  assert.deepEqual(lambdaSchedule(0, 60, lambda, true), { uniform: true, lambda });
  assert.deepEqual(lambdaSchedule(59, 60, lambda, false), { uniform: true, lambda });
  assert.ok(Math.abs(lambdaSchedule(60, 60, lambda, true).lambda - 1) < 1e-12);
  assert.ok(Math.abs(lambdaSchedule(120, 60, lambda, true).lambda - 0.55) < 1e-12);
  assert.ok(Math.abs(lambdaSchedule(180, 60, lambda, true).lambda - lambda) < 1e-12);
  assert.equal(lambdaSchedule(500, 60, lambda, true).lambda, lambda);
  assert.deepEqual(lambdaSchedule(60, 60, lambda, false), { uniform: false, lambda });
  let previous = Infinity;
  for (let s = 60; s <= 200; s++) {
    const l = lambdaSchedule(s, 60, lambda, true).lambda;
    assert.ok(l <= previous);
    previous = l;
  }
  // No burn-in: λ from the first step.
  assert.deepEqual(lambdaSchedule(0, 0, lambda, true), { uniform: false, lambda });
  assert.deepEqual(Array.from(stepWeights([1, 2], lambdaSchedule(0, 10, lambda, true), 0.1)), [0.5, 0.5]);
  assert.deepEqual(Array.from(uniformWeights(4)), [0.25, 0.25, 0.25, 0.25]);
});
