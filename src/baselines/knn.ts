import * as tf from '@tensorflow/tfjs';
import type { PointMatrix } from './types.ts';

/**
 * Exact k-nearest-neighbour search of query rows against a memory bank, on
 * tfjs matMul in chunks: ‖a−b‖² = ‖a‖² − 2a·b + ‖b‖². The bank is stored
 * pre-transposed ([dim, rows]) because matMul(a, b, false, true) is ~10× slower
 * on the wasm backend. Both sides are centred on the bank's mean first: distances
 * do not change, and float32 loses far less to cancellation when norms are small.
 */

export interface NeighborResult {
  /** Euclidean distances, queries×k, nearest first. */
  distances: Float32Array;
  /** Bank row indices, queries×k, matching `distances`. */
  indices: Int32Array;
  k: number;
}

export interface KnnOptions {
  /** Query rows per matMul (bounds memory at queryChunk × bankChunk floats). */
  queryChunk?: number;
  /** Bank rows per matMul. */
  bankChunk?: number;
}

export class MemoryBank {
  readonly rows: number;
  readonly cols: number;
  private readonly mean: Float32Array;
  /** Centred bank, transposed, split into column blocks: [cols, blockRows] each. */
  private readonly blocksT: tf.Tensor2D[];
  /** ‖b‖² of each centred row, per block: [1, blockRows]. */
  private readonly blockSqNorms: tf.Tensor2D[];
  private readonly blockStarts: number[];
  private readonly queryChunk: number;
  private disposed = false;

  constructor(
    readonly points: PointMatrix,
    opts: KnnOptions = {},
  ) {
    const { rows, cols, data } = points;
    if (rows === 0) throw new Error('MemoryBank: empty bank');
    this.rows = rows;
    this.cols = cols;
    this.queryChunk = opts.queryChunk ?? 1024;
    const bankChunk = opts.bankChunk ?? 16384;
    const mean = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data[r * cols + c];
    this.mean = Float32Array.from(mean, (v) => v / rows);
    this.blocksT = [];
    this.blockSqNorms = [];
    this.blockStarts = [];
    for (let start = 0; start < rows; start += bankChunk) {
      const blockRows = Math.min(bankChunk, rows - start);
      const [bt, sq] = tf.tidy(() => {
        const block = tf.sub(tf.tensor2d(data.subarray(start * cols, (start + blockRows) * cols), [blockRows, cols]), tf.tensor1d(this.mean));
        return [tf.keep(block.transpose() as tf.Tensor2D), tf.keep(tf.sum(tf.square(block), 1).reshape([1, blockRows]) as tf.Tensor2D)];
      });
      this.blocksT.push(bt);
      this.blockSqNorms.push(sq);
      this.blockStarts.push(start);
    }
  }

  /** The k nearest bank rows of each query row (k is capped at the bank size). */
  search(queries: PointMatrix, k = 1): NeighborResult {
    if (this.disposed) throw new Error('MemoryBank: used after dispose()');
    if (queries.cols !== this.cols) throw new Error(`knn: queries have ${queries.cols} columns, bank has ${this.cols}`);
    const kk = Math.min(k, this.rows);
    const n = queries.rows;
    const distances = new Float32Array(n * kk);
    const indices = new Int32Array(n * kk);
    for (let q0 = 0; q0 < n; q0 += this.queryChunk) {
      const qn = Math.min(this.queryChunk, n - q0);
      const candidates = this.blocksT.map((bt, b) => {
        const blockK = Math.min(kk, bt.shape[1]);
        const [negSq, idx] = tf.tidy(() => {
          const q = tf.sub(tf.tensor2d(queries.data.subarray(q0 * this.cols, (q0 + qn) * this.cols), [qn, this.cols]), tf.tensor1d(this.mean));
          const qSq = tf.sum(tf.square(q), 1, true);
          const sq = tf.add(tf.sub(qSq, tf.mul(2, tf.matMul(q, bt))), this.blockSqNorms[b]);
          const top = tf.topk(tf.neg(sq), blockK, true);
          return [top.values, top.indices];
        });
        const result = { negSq: negSq.dataSync() as Float32Array, idx: idx.dataSync() as Int32Array, k: blockK, start: this.blockStarts[b] };
        negSq.dispose();
        idx.dispose();
        return result;
      });
      for (let i = 0; i < qn; i++) {
        const merged = mergeCandidates(candidates, i, kk);
        for (let j = 0; j < kk; j++) {
          distances[(q0 + i) * kk + j] = Math.sqrt(Math.max(0, merged[j].sq));
          indices[(q0 + i) * kk + j] = merged[j].index;
        }
      }
    }
    return { distances, indices, k: kk };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.blocksT, ...this.blockSqNorms]) t.dispose();
  }
}

function mergeCandidates(
  blocks: { negSq: Float32Array; idx: Int32Array; k: number; start: number }[],
  row: number,
  k: number,
): { sq: number; index: number }[] {
  const all: { sq: number; index: number }[] = [];
  for (const b of blocks) {
    for (let j = 0; j < b.k; j++) all.push({ sq: -b.negSq[row * b.k + j], index: b.start + b.idx[row * b.k + j] });
  }
  if (blocks.length > 1) all.sort((a, b) => a.sq - b.sq || a.index - b.index);
  return all.slice(0, k);
}

/** One-off search (builds and disposes a bank). */
export function nearestNeighbors(queries: PointMatrix, bank: PointMatrix, k = 1, opts: KnnOptions = {}): NeighborResult {
  const memory = new MemoryBank(bank, opts);
  try {
    return memory.search(queries, k);
  } finally {
    memory.dispose();
  }
}
