import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { f1Max } from '../../src/evaluation/metrics/f1-max.ts';

/** F1 of the rule "anomalous when score >= t", from the confusion counts. */
function f1At(scores: number[], labels: number[], t: number): { f1: number; precision: number; recall: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  scores.forEach((s, i) => {
    if (s >= t && labels[i] === 1) tp++;
    else if (s >= t) fp++;
    else if (labels[i] === 1) fn++;
  });
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp / (tp + fn);
  return { f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn), precision, recall };
}

test('F1-max equals the brute-force best over every threshold, and its threshold achieves it', () => {
  const rng = new Rng(21);
  for (let trial = 0; trial < 25; trial++) {
    const n = 20 + trial * 5;
    const labels = Array.from({ length: n }, () => (rng.next() < 0.25 ? 1 : 0));
    labels[0] = 1;
    labels[1] = 0;
    const scores = labels.map((y) => Math.round((rng.normal() + 1.5 * y) * 4) / 4);
    let best = 0;
    for (const t of new Set(scores)) best = Math.max(best, f1At(scores, labels, t).f1);
    const got = f1Max(scores, labels);
    assert.ok(Math.abs(got.f1 - best) < 1e-12, `trial ${trial}: ${got.f1} vs ${best}`);
    const at = f1At(scores, labels, got.threshold);
    assert.ok(Math.abs(at.f1 - got.f1) < 1e-12);
    assert.ok(Math.abs(at.precision - got.precision) < 1e-12);
    assert.ok(Math.abs(at.recall - got.recall) < 1e-12);
  }
});

test('separable scores give F1 1 at the lowest anomalous score; one class throws', () => {
  const r = f1Max(new Float32Array([0.1, 0.4, 0.35, 0.8, 0.9]), [0, 0, 0, 1, 1]);
  assert.deepEqual(r, { f1: 1, threshold: Math.fround(0.8), precision: 1, recall: 1 });
  assert.throws(() => f1Max([1, 2], [1, 1]), /only one class/);
});
