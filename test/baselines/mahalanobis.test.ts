import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cholesky, choleskySolve, mahalanobisSquared } from '../../src/baselines/mahalanobis.ts';
import { Rng } from '../../src/util/rng.ts';

/** Random SPD matrix B Bᵀ + εI (B n×m with m < n makes it ill-conditioned, as PaDiM's are). */
function randomSpd(rng: Rng, n: number, m: number, eps: number): Float64Array {
  const b = Array.from({ length: n * m }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += b[i * m + k] * b[j * m + k];
      a[i * n + j] = s + (i === j ? eps : 0);
    }
  }
  return a;
}

/** Explicit inverse by Gauss-Jordan elimination with partial pivoting (the direct computation). */
function invert(a: Float64Array, n: number): Float64Array {
  const m = Array.from({ length: n }, (_, i) => [...a.slice(i * n, (i + 1) * n), ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    const p = m[col][col];
    for (let c = 0; c < 2 * n; c++) m[col][c] /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col];
      for (let c = 0; c < 2 * n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return Float64Array.from(m.flatMap((row) => row.slice(n)));
}

function quadraticForm(inv: Float64Array, v: number[], n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += v[i] * inv[i * n + j] * v[j];
  return s;
}

test('Cholesky factor reproduces the matrix and is lower triangular', () => {
  const rng = new Rng(1);
  for (const n of [1, 2, 5, 20]) {
    const a = randomSpd(rng, n, n + 3, 0.01);
    const l = cholesky(a, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (j > i) assert.equal(l[i * n + j], 0);
        let s = 0;
        for (let k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
        assert.ok(Math.abs(s - a[i * n + j]) < 1e-9 * (1 + Math.abs(a[i * n + j])));
      }
    }
  }
});

test('Cholesky solve and Mahalanobis distance match the explicit inverse on random SPD matrices', () => {
  const rng = new Rng(2);
  for (const [n, m, eps] of [
    [3, 5, 0.1],
    [10, 30, 0.01],
    [40, 10, 0.01], // rank-deficient + εI, like PaDiM with fewer images than channels
  ] as const) {
    const a = randomSpd(rng, n, m, eps);
    const inv = invert(a, n);
    const l = cholesky(a, n);
    for (let trial = 0; trial < 5; trial++) {
      const b = Array.from({ length: n }, () => rng.normal(0, 2));
      const x = choleskySolve(l, b, n);
      for (let i = 0; i < n; i++) {
        let direct = 0;
        for (let j = 0; j < n; j++) direct += inv[i * n + j] * b[j];
        assert.ok(Math.abs(x[i] - direct) < 1e-6 * (1 + Math.abs(direct)), `solve n=${n}`);
      }
      const mean = Array.from({ length: n }, () => rng.normal());
      const point = Array.from({ length: n }, () => rng.normal(0, 3));
      const direct = quadraticForm(inv, point.map((v, i) => v - mean[i]), n);
      const viaFactor = mahalanobisSquared(l, point, mean, n);
      assert.ok(Math.abs(viaFactor - direct) < 1e-6 * (1 + direct), `mahalanobis n=${n}: ${viaFactor} vs ${direct}`);
      assert.equal(mahalanobisSquared(l, mean, mean, n), 0);
    }
  }
});

test('Mahalanobis reads one factor out of many stored back to back', () => {
  const rng = new Rng(3);
  const n = 6;
  const mats = [randomSpd(rng, n, 8, 0.01), randomSpd(rng, n, 8, 0.01), randomSpd(rng, n, 8, 0.01)];
  const factors = new Float32Array(3 * n * n);
  mats.forEach((a, i) => factors.set(cholesky(a, n), i * n * n));
  const means = Float32Array.from({ length: 3 * n }, () => rng.normal());
  const x = Array.from({ length: n }, () => rng.normal(0, 2));
  for (let p = 0; p < 3; p++) {
    const direct = quadraticForm(invert(mats[p], n), x.map((v, i) => v - means[p * n + i]), n);
    const got = mahalanobisSquared(factors, x, means, n, p * n * n, p * n);
    assert.ok(Math.abs(got - direct) < 1e-4 * (1 + direct), `factor ${p}: ${got} vs ${direct}`);
  }
});

test('Cholesky rejects a matrix that is not positive definite', () => {
  assert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2), /not positive definite/);
  assert.throws(() => cholesky(Float64Array.from([1, 0, 0]), 2), /expected 4/);
});
