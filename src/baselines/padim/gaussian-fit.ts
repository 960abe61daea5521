import { cholesky } from '../mahalanobis.ts';
import type { PointMatrix } from '../types.ts';

/**
 * Streaming per-patch Gaussian fit: one d-dimensional Gaussian per grid cell,
 * from running sums in float64 (so the training features never need to be held
 * at once). Σ_p = unbiased sample covariance + ε·I; stored as its Cholesky factor.
 */
export class PatchGaussianAccumulator {
  private readonly sum: Float64Array;
  /** Lower triangle (i ≥ j) of Σ x xᵀ per patch, stored in a full d×d block. */
  private readonly sumOuter: Float64Array;
  private count = 0;

  constructor(
    readonly patches: number,
    readonly dim: number,
  ) {
    this.sum = new Float64Array(patches * dim);
    this.sumOuter = new Float64Array(patches * dim * dim);
  }

  get images(): number {
    return this.count;
  }

  /** Add one image's embedding (patches × dim). */
  add(embedding: PointMatrix): void {
    const { patches: p, dim: d } = this;
    if (embedding.rows !== p || embedding.cols !== d) {
      throw new Error(`PaDiM: embedding is ${embedding.rows}x${embedding.cols}, expected ${p}x${d}`);
    }
    const x = embedding.data;
    for (let patch = 0; patch < p; patch++) {
      const row = patch * d;
      const block = patch * d * d;
      for (let i = 0; i < d; i++) {
        const xi = x[row + i];
        this.sum[row + i] += xi;
        const r = block + i * d;
        for (let j = 0; j <= i; j++) this.sumOuter[r + j] += xi * x[row + j];
      }
    }
    this.count++;
  }

  /** Per-patch means (patches×d) and Cholesky factors of Σ + εI (patches×d×d, lower). */
  finish(epsilon: number): { mean: Float32Array; choleskyFactors: Float32Array } {
    const { patches: p, dim: d, count: n } = this;
    if (n < 2) throw new Error(`PaDiM needs at least 2 training images for a covariance, got ${n}`);
    const mean = new Float32Array(p * d);
    const factors = new Float32Array(p * d * d);
    const mu = new Float64Array(d);
    const cov = new Float64Array(d * d);
    for (let patch = 0; patch < p; patch++) {
      const row = patch * d;
      const block = patch * d * d;
      for (let i = 0; i < d; i++) mu[i] = this.sum[row + i] / n;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j <= i; j++) {
          // Unbiased: (Σ x xᵀ − n μ μᵀ) / (n − 1).
          const c = (this.sumOuter[block + i * d + j] - n * mu[i] * mu[j]) / (n - 1);
          cov[i * d + j] = c;
          cov[j * d + i] = c;
        }
        cov[i * d + i] += epsilon;
      }
      const l = cholesky(cov, d);
      for (let i = 0; i < d; i++) mean[row + i] = mu[i];
      factors.set(l, block);
    }
    return { mean, choleskyFactors: factors };
  }
}
