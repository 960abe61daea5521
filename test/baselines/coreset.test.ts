import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greedyCoreset, randomProjection, coresetSize } from '../../src/baselines/coreset.ts';
import type { PointMatrix } from '../../src/baselines/types.ts';
import { initBackend } from '../../src/engine/backend.ts';
import { Rng } from '../../src/util/rng.ts';

/** Clustered cloud: a few Gaussian blobs plus uniform background points. */
function pointCloud(rng: Rng, rows: number, cols: number): PointMatrix {
  const centres = Array.from({ length: 5 }, () => Array.from({ length: cols }, () => rng.uniform(-5, 5)));
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const background = rng.bool(0.2);
    const centre = rng.pick(centres);
    for (let c = 0; c < cols; c++) data[r * cols + c] = background ? rng.uniform(-6, 6) : centre[c] + rng.normal(0, 0.5);
  }
  return { rows, cols, data };
}

/** Largest distance of any point to its nearest chosen point, by brute force. */
function bruteForceRadius(points: PointMatrix, chosen: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < points.rows; i++) {
    let best = Infinity;
    for (let j = 0; j < chosen.length; j++) {
      let sq = 0;
      for (let c = 0; c < points.cols; c++) {
        const diff = points.data[i * points.cols + c] - points.data[chosen[j] * points.cols + c];
        sq += diff * diff;
      }
      best = Math.min(best, sq);
    }
    worst = Math.max(worst, best);
  }
  return Math.sqrt(worst);
}

test('coreset radius is reported exactly, never grows with the ratio, and is 0 at ratio 1', () => {
  for (const seed of [1, 2, 3]) {
    const points = pointCloud(new Rng(seed), 600, 8);
    let previous = Infinity;
    for (const ratio of [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 0.9, 1]) {
      const result = greedyCoreset(points, ratio, new Rng(seed + 100));
      assert.equal(result.indices.length, coresetSize(points.rows, ratio));
      assert.equal(new Set(result.indices).size, result.indices.length, 'indices are distinct');
      assert.ok(Math.abs(result.maxDistance - bruteForceRadius(points, result.indices)) < 1e-4, `radius at ratio ${ratio}`);
      assert.ok(result.maxDistance <= previous + 1e-9, `radius grew at ratio ${ratio}: ${result.maxDistance} > ${previous}`);
      previous = result.maxDistance;
    }
    assert.equal(previous, 0);
  }
});

test('k-center greedy covers far better than a random subset of the same size', () => {
  const points = pointCloud(new Rng(7), 800, 6);
  const greedy = greedyCoreset(points, 0.05, new Rng(0));
  const rng = new Rng(0);
  const random = rng.sample(
    Array.from({ length: points.rows }, (_, i) => i),
    greedy.indices.length,
  );
  assert.ok(greedy.maxDistance < bruteForceRadius(points, random));
  // k-center greedy is a 2-approximation: its radius is at most twice any k-subset's.
  assert.ok(greedy.maxDistance <= 2 * bruteForceRadius(points, random));
});

test('coreset is deterministic for a seed and handles duplicate points', () => {
  const points = pointCloud(new Rng(9), 300, 4);
  assert.deepEqual(greedyCoreset(points, 0.1, new Rng(5)).indices, greedyCoreset(points, 0.1, new Rng(5)).indices);
  // Ten copies of three points: asking for 20 rows must still give 20 distinct rows at radius 0.
  const base = [0, 0, 1, 1, 5, 5];
  const dup: PointMatrix = { rows: 30, cols: 2, data: Float32Array.from({ length: 60 }, (_, i) => base[i % 6]) };
  const result = greedyCoreset(dup, 20 / 30, new Rng(1));
  assert.equal(new Set(result.indices).size, 20);
  assert.equal(result.maxDistance, 0);
  assert.throws(() => greedyCoreset(dup, 0, new Rng(1)), /ratio/);
});

test('random projection keeps pairwise distances roughly (Johnson-Lindenstrauss)', async () => {
  await initBackend();
  const points = pointCloud(new Rng(11), 200, 512);
  const projected = randomProjection(points, 128, new Rng(3));
  assert.equal(projected.cols, 128);
  const rng = new Rng(4);
  const ratios: number[] = [];
  for (let t = 0; t < 300; t++) {
    const i = rng.int(0, 199);
    const j = rng.int(0, 199);
    if (i === j) continue;
    const dist = (m: PointMatrix) => {
      let sq = 0;
      for (let c = 0; c < m.cols; c++) sq += (m.data[i * m.cols + c] - m.data[j * m.cols + c]) ** 2;
      return Math.sqrt(sq);
    };
    ratios.push(dist(projected) / dist(points));
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  assert.ok(Math.abs(mean - 1) < 0.05, `mean distance ratio ${mean}`);
  assert.ok(Math.min(...ratios) > 0.7 && Math.max(...ratios) < 1.3);
  // Narrow inputs are left alone.
  assert.equal(randomProjection({ rows: 1, cols: 4, data: new Float32Array(4) }, 128, new Rng(1)).cols, 4);
});
