import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { twoMeans, twoMeansLabels } from '../../src/training/two-means.ts';

test('clearly bimodal values: the high mode is labelled 1, exactly', () => {
  const rng = new Rng(4);
  const truth: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < 48; i++) {
    const y = rng.next() < 0.3 ? 1 : 0;
    truth.push(y);
    values.push(y ? rng.normal(8, 0.7) : Math.abs(rng.normal(0.5, 0.3)));
  }
  assert.deepEqual(Array.from(twoMeansLabels(values)), truth);
  const r = twoMeans(Float32Array.from(values));
  assert.ok(r.centroids[0] < 2 && r.centroids[1] > 6);
});

test('the result is a k-means fixed point: each value sits with its nearer centroid', () => {
  const rng = new Rng(12);
  for (let trial = 0; trial < 20; trial++) {
    const values = Array.from({ length: 30 }, () => rng.normal() * (1 + trial));
    const { labels, centroids } = twoMeans(values);
    const [lo, hi] = centroids;
    const meanOf = (c: number) => {
      const sel = values.filter((_, i) => labels[i] === c);
      return sel.reduce((a, b) => a + b, 0) / sel.length;
    };
    assert.ok(Math.abs(meanOf(0) - lo) < 1e-9 && Math.abs(meanOf(1) - hi) < 1e-9);
    assert.ok(lo < hi);
    values.forEach((v, i) => assert.equal(labels[i], v > (lo + hi) / 2 ? 1 : 0));
  }
});

test('edge cases: empty, single, all equal, two values, order independence, NaN', () => {
  assert.equal(twoMeansLabels([]).length, 0);
  assert.deepEqual(Array.from(twoMeansLabels([3])), [0]);
  assert.deepEqual(Array.from(twoMeansLabels([2, 2, 2])), [0, 0, 0]);
  assert.deepEqual(Array.from(twoMeansLabels([5, 1])), [1, 0]);
  assert.deepEqual(Array.from(twoMeansLabels([0, 0, 0, 10])), [0, 0, 0, 1]);
  assert.deepEqual(Array.from(twoMeansLabels([10, 10, 10, 0])), [1, 1, 1, 0]);
  const values = [0.1, 5, 0.3, 4.2, 0.2, 9];
  const reversed = [...values].reverse();
  assert.deepEqual(Array.from(twoMeansLabels(reversed)).reverse(), Array.from(twoMeansLabels(values)));
  assert.throws(() => twoMeansLabels([1, NaN]), /value 1/);
});
