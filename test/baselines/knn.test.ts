import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MemoryBank, nearestNeighbors } from '../../src/baselines/knn.ts';
import type { PointMatrix } from '../../src/baselines/types.ts';
import { initBackend } from '../../src/engine/backend.ts';
import { Rng } from '../../src/util/rng.ts';

function randomPoints(rng: Rng, rows: number, cols: number, offset = 0, spread = 1): PointMatrix {
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => offset + rng.normal(0, spread)) };
}

/** Exact k nearest neighbours in float64, by brute force (ties broken by index). */
function bruteForce(queries: PointMatrix, bank: PointMatrix, k: number): { distances: number[][]; indices: number[][] } {
  const distances: number[][] = [];
  const indices: number[][] = [];
  for (let q = 0; q < queries.rows; q++) {
    const all = Array.from({ length: bank.rows }, (_, b) => {
      let sq = 0;
      for (let c = 0; c < bank.cols; c++) sq += (queries.data[q * queries.cols + c] - bank.data[b * bank.cols + c]) ** 2;
      return { d: Math.sqrt(sq), b };
    }).sort((x, y) => x.d - y.d || x.b - y.b);
    distances.push(all.slice(0, k).map((e) => e.d));
    indices.push(all.slice(0, k).map((e) => e.b));
  }
  return { distances, indices };
}

function assertMatchesBruteForce(queries: PointMatrix, bank: PointMatrix, k: number, opts: { queryChunk?: number; bankChunk?: number }) {
  const got = nearestNeighbors(queries, bank, k, opts);
  const want = bruteForce(queries, bank, k);
  assert.equal(got.k, Math.min(k, bank.rows));
  for (let q = 0; q < queries.rows; q++) {
    for (let j = 0; j < got.k; j++) {
      const d = got.distances[q * got.k + j];
      const scale = 1 + want.distances[q][j];
      assert.ok(Math.abs(d - want.distances[q][j]) < 2e-3 * scale, `query ${q} rank ${j}: ${d} vs ${want.distances[q][j]}`);
      // Indices may swap only between (near-)equal distances.
      const idx = got.indices[q * got.k + j];
      if (idx !== want.indices[q][j]) {
        const dIdx = Math.sqrt(Array.from({ length: bank.cols }, (_, c) => (queries.data[q * bank.cols + c] - bank.data[idx * bank.cols + c]) ** 2).reduce((a, b) => a + b, 0));
        assert.ok(Math.abs(dIdx - want.distances[q][j]) < 2e-3 * scale, `query ${q} rank ${j}: index ${idx} vs ${want.indices[q][j]}`);
      }
    }
  }
}

test('kNN search matches brute force (k = 1 and k = 5, chunked queries and bank)', async () => {
  await initBackend();
  const rng = new Rng(1);
  const bank = randomPoints(rng, 700, 24);
  const queries = randomPoints(rng, 150, 24, 0, 1.3);
  const before = tf.memory().numTensors;
  assertMatchesBruteForce(queries, bank, 1, {});
  assertMatchesBruteForce(queries, bank, 5, {});
  assertMatchesBruteForce(queries, bank, 5, { queryChunk: 37, bankChunk: 128 }); // several blocks to merge
  assertMatchesBruteForce(queries, bank, 3, { bankChunk: 2 }); // blocks smaller than k
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
});

test('kNN stays exact far from the origin (centring avoids float32 cancellation)', async () => {
  await initBackend();
  const rng = new Rng(2);
  const bank = randomPoints(rng, 300, 64, 50, 0.05);
  const queries: PointMatrix = { rows: 40, cols: 64, data: bank.data.slice(0, 40 * 64) };
  const result = nearestNeighbors(queries, bank, 2);
  for (let q = 0; q < 40; q++) {
    assert.equal(result.indices[q * 2], q, 'a bank point is its own nearest neighbour');
    assert.ok(result.distances[q * 2] < 1e-3, `self-distance ${result.distances[q * 2]}`);
  }
  assertMatchesBruteForce(randomPoints(rng, 30, 64, 50, 0.05), bank, 3, {});
});

test('a memory bank caps k at its size and refuses wrong widths and use after dispose', async () => {
  await initBackend();
  const rng = new Rng(3);
  const bank = new MemoryBank(randomPoints(rng, 4, 3));
  const result = bank.search(randomPoints(rng, 2, 3), 10);
  assert.equal(result.k, 4);
  assert.equal(new Set(result.indices.slice(0, 4)).size, 4);
  assert.throws(() => bank.search(randomPoints(rng, 2, 5)), /columns/);
  bank.dispose();
  assert.throws(() => bank.search(randomPoints(rng, 2, 3)), /dispose/);
});
