/**
 * Mahalanobis distance through a Cholesky factor, as plain functions on
 * row-major Float64Arrays. Solving with the factor is cheaper and more stable
 * than forming the inverse covariance: d²(x) = ‖L⁻¹(x − μ)‖² where Σ = L Lᵀ.
 */

/**
 * Lower-triangular L with L Lᵀ = a for a symmetric positive-definite n×n matrix
 * (row-major; only the lower triangle of `a` is read). Throws if `a` is not SPD.
 */
export function cholesky(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`cholesky: expected ${n * n} values, got ${a.length}`);
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j];
    const rowJ = j * n;
    for (let k = 0; k < j; k++) diag -= l[rowJ + k] * l[rowJ + k];
    if (!(diag > 0)) {
      throw new Error(`cholesky: matrix is not positive definite (pivot ${j} is ${diag}); add a larger ε·I`);
    }
    const ljj = Math.sqrt(diag);
    l[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = a[rowI + j];
      for (let k = 0; k < j; k++) sum -= l[rowI + k] * l[rowJ + k];
      l[rowI + j] = sum / ljj;
    }
  }
  return l;
}

/** Solve L y = b for lower-triangular L (forward substitution). */
export function forwardSubstitute(l: ArrayLike<number>, b: ArrayLike<number>, n: number, offset = 0): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = offset + i * n;
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[row + k] * y[k];
    y[i] = sum / l[row + i];
  }
  return y;
}

/** Solve Lᵀ x = y for lower-triangular L (back substitution). */
export function backSubstituteTransposed(l: ArrayLike<number>, y: ArrayLike<number>, n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
  return x;
}

/** Solve (L Lᵀ) x = b given the Cholesky factor L. */
export function choleskySolve(l: Float64Array, b: ArrayLike<number>, n: number): Float64Array {
  return backSubstituteTransposed(l, forwardSubstitute(l, b, n), n);
}

/**
 * Squared Mahalanobis distance (x−μ)ᵀ Σ⁻¹ (x−μ) given Σ's Cholesky factor L.
 * `l` may hold many factors back to back: `lOffset` picks one (PaDiM keeps one per patch).
 */
export function mahalanobisSquared(
  l: ArrayLike<number>,
  x: ArrayLike<number>,
  mean: ArrayLike<number>,
  n: number,
  lOffset = 0,
  meanOffset = 0,
): number {
  const y = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = lOffset + i * n;
    let sum = x[i] - mean[meanOffset + i];
    for (let k = 0; k < i; k++) sum -= l[row + k] * y[k];
    const yi = sum / l[row + i];
    y[i] = yi;
    total += yi * yi;
  }
  return total;
}
