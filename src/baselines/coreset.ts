import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import type { PointMatrix } from './types.ts';

/**
 * Greedy coreset subsampling (k-center greedy, as in PatchCore): start from a
 * seeded random point, then repeatedly add the point farthest from everything
 * chosen so far. The chosen set covers all points within `maxDistance`
 * (the coreset's radius), which can only shrink as more points are chosen.
 */

export interface CoresetResult {
  /** Indices of the chosen rows, in the order they were chosen. */
  indices: Int32Array;
  /** Largest Euclidean distance of any point to its nearest chosen point (0 when every point is chosen). */
  maxDistance: number;
}

export interface CoresetOptions {
  /** Called every so often with (chosen, target) for progress bars. */
  onProgress?: (chosen: number, target: number) => void;
}

/** Number of points a ratio keeps: at least one, at most all. */
export function coresetSize(count: number, ratio: number): number {
  if (!(ratio > 0 && ratio <= 1)) throw new Error(`coreset ratio must be in (0, 1], got ${ratio}`);
  return Math.min(count, Math.max(1, Math.round(count * ratio)));
}

export function greedyCoreset(points: PointMatrix, ratio: number, rng: Rng, opts: CoresetOptions = {}): CoresetResult {
  const { rows: n, cols: d, data } = points;
  if (n === 0) throw new Error('greedyCoreset: no points');
  const target = coresetSize(n, ratio);
  const start = rng.int(0, n - 1);
  if (target === n) {
    // Everything is kept: same start, then the rest in order (radius 0 by definition).
    const indices = new Int32Array(n);
    indices[0] = start;
    for (let i = 0, j = 1; i < n; i++) if (i !== start) indices[j++] = i;
    return { indices, maxDistance: 0 };
  }
  // Squared distance of every point to its nearest chosen point.
  const minSq = new Float64Array(n).fill(Infinity);
  const chosen = new Uint8Array(n);
  const indices = new Int32Array(target);
  let next = start;
  const reportEvery = Math.max(1, Math.floor(target / 100));
  const tail = d - (d % 4);
  for (let c = 0; c < target; c++) {
    indices[c] = next;
    chosen[next] = 1;
    const centre = next * d;
    let farthest = -1;
    let farthestSq = -1;
    // Hot loop (N·d per chosen point): four independent sums let the JIT pipeline them.
    for (let i = 0; i < n; i++) {
      let row = i * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k < tail; k += 4, row += 4) {
        const a0 = data[row] - data[centre + k];
        const a1 = data[row + 1] - data[centre + k + 1];
        const a2 = data[row + 2] - data[centre + k + 2];
        const a3 = data[row + 3] - data[centre + k + 3];
        s0 += a0 * a0;
        s1 += a1 * a1;
        s2 += a2 * a2;
        s3 += a3 * a3;
      }
      for (; k < d; k++, row++) {
        const a = data[row] - data[centre + k];
        s0 += a * a;
      }
      const sq = s0 + s1 + s2 + s3;
      let m = minSq[i];
      if (sq < m) {
        m = sq;
        minSq[i] = sq;
      }
      if (m > farthestSq) {
        farthestSq = m;
        farthest = i;
      }
    }
    // Chosen points sit at exactly 0, so they only win once everything is covered
    // (duplicates): then take the first unchosen row.
    if (farthestSq <= 0) farthest = chosen.indexOf(0);
    next = farthest;
    if (opts.onProgress && (c % reportEvery === 0 || c === target - 1)) opts.onProgress(c + 1, target);
  }
  let maxSq = 0;
  for (let i = 0; i < n; i++) if (minSq[i] > maxSq) maxSq = minSq[i];
  return { indices, maxDistance: Math.sqrt(maxSq) };
}

/**
 * Gaussian random projection to `dim` columns (entries N(0, 1/dim)), which keeps
 * pairwise distances approximately (Johnson–Lindenstrauss) so the coreset search
 * runs on short vectors. Returns the input unchanged when it is already short.
 */
export function randomProjection(points: PointMatrix, dim: number, rng: Rng, chunkRows = 4096): PointMatrix {
  if (dim >= points.cols) return points;
  const weights = new Float32Array(points.cols * dim);
  const scale = 1 / Math.sqrt(dim);
  for (let i = 0; i < weights.length; i++) weights[i] = rng.normal() * scale;
  const out = new Float32Array(points.rows * dim);
  const w = tf.tensor2d(weights, [points.cols, dim]);
  try {
    for (let r = 0; r < points.rows; r += chunkRows) {
      const rows = Math.min(chunkRows, points.rows - r);
      const block = tf.tidy(() => {
        const x = tf.tensor2d(points.data.subarray(r * points.cols, (r + rows) * points.cols), [rows, points.cols]);
        return tf.matMul(x, w);
      });
      out.set(block.dataSync(), r * dim);
      block.dispose();
    }
  } finally {
    w.dispose();
  }
  return { rows: points.rows, cols: dim, data: out };
}
