import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../../src/util/paths.ts';
import { Rng } from '../../src/util/rng.ts';
import { auroc } from '../../src/evaluation/metrics/auroc.ts';
import { averagePrecision } from '../../src/evaluation/metrics/average-precision.ts';
import { rocCurve } from '../../src/evaluation/metrics/roc.ts';

interface MetricCase {
  labels: number[];
  scores: number[];
  auroc: number;
  average_precision: number;
}
const vectors = JSON.parse(readFileSync(sharedPath('testvectors', 'metrics.json'), 'utf8')) as { cases: MetricCase[] };

/** Pairwise definition: P(anomalous > nominal) + 0.5 P(tie). */
function bruteAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let won = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) won += 1;
      else if (scores[i] === scores[j]) won += 0.5;
    }
  }
  return won / pairs;
}

/** AP from its definition: at each distinct threshold, recall gain times precision. */
function bruteAveragePrecision(scores: number[], labels: number[]): number {
  const positives = labels.filter((y) => y === 1).length;
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  let ap = 0;
  let prevRecall = 0;
  for (const t of thresholds) {
    let tp = 0;
    let predicted = 0;
    scores.forEach((s, i) => {
      if (s >= t) {
        predicted++;
        tp += labels[i];
      }
    });
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / predicted);
    prevRecall = recall;
  }
  return ap;
}

function randomCase(rng: Rng, n: number, levels: number): { scores: number[]; labels: number[] } {
  const labels = Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  labels[0] = 0;
  labels[1] = 1;
  // Coarse rounding makes many ties, the case sklearn handles specially.
  const scores = labels.map((y) => Math.round((rng.normal() + y) * levels) / levels);
  return { scores, labels };
}

test('AUROC and AP match every scikit-learn test vector to 1e-9 (ties included)', () => {
  assert.ok(vectors.cases.length >= 3);
  for (const [k, c] of vectors.cases.entries()) {
    assert.ok(Math.abs(auroc(c.scores, c.labels) - c.auroc) < 1e-9, `case ${k} auroc ${auroc(c.scores, c.labels)} vs ${c.auroc}`);
    const ap = averagePrecision(c.scores, c.labels);
    assert.ok(Math.abs(ap - c.average_precision) < 1e-9, `case ${k} AP ${ap} vs ${c.average_precision}`);
    // Typed arrays give the same numbers.
    assert.equal(auroc(Float64Array.from(c.scores), Uint8Array.from(c.labels)), auroc(c.scores, c.labels));
  }
});

test('AUROC equals the pairwise definition and AP its step-wise definition on tied random data', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 20; trial++) {
    const { scores, labels } = randomCase(rng, 30 + trial * 7, 1 + (trial % 4));
    assert.ok(Math.abs(auroc(scores, labels) - bruteAuroc(scores, labels)) < 1e-12);
    assert.ok(Math.abs(averagePrecision(scores, labels) - bruteAveragePrecision(scores, labels)) < 1e-12);
  }
});

test('AUROC and AP are invariant to strictly increasing transforms and flip under negation', () => {
  const rng = new Rng(5);
  const { scores, labels } = randomCase(rng, 300, 3);
  const a = auroc(scores, labels);
  const ap = averagePrecision(scores, labels);
  for (const f of [(x: number) => Math.exp(3 * x), (x: number) => 2 * x - 7, (x: number) => Math.atan(x), (x: number) => x ** 3]) {
    const t = scores.map(f);
    assert.ok(Math.abs(auroc(t, labels) - a) < 1e-12);
    assert.ok(Math.abs(averagePrecision(t, labels) - ap) < 1e-12);
  }
  assert.ok(Math.abs(auroc(scores.map((x) => -x), labels) - (1 - a)) < 1e-12);
});

test('perfect, inverted and constant scores give 1, 0 and 0.5', () => {
  const labels = [0, 0, 1, 1, 0, 1];
  assert.equal(auroc([0.1, 0.2, 0.9, 0.8, 0.3, 0.7], labels), 1);
  assert.equal(averagePrecision([0.1, 0.2, 0.9, 0.8, 0.3, 0.7], labels), 1);
  assert.equal(auroc([0.9, 0.8, 0.1, 0.2, 0.7, 0.3], labels), 0);
  assert.equal(auroc([1, 1, 1, 1, 1, 1], labels), 0.5);
  // AP of a constant score is the anomaly share, as in sklearn.
  assert.equal(averagePrecision([1, 1, 1, 1, 1, 1], labels), 0.5);
  // -0 and +0 tie.
  assert.equal(auroc([-0, 0], [0, 1]), 0.5);
});

test('degenerate inputs throw clear errors', () => {
  assert.throws(() => auroc([0.1, 0.2], [1, 1]), /only one class/);
  assert.throws(() => averagePrecision([0.1, 0.2], [0, 0]), /only one class/);
  assert.throws(() => auroc([0.1, NaN], [0, 1]), /NaN/);
  assert.throws(() => auroc([0.1, 0.2, 0.3], [0, 1]), /3 scores but 2 labels/);
  assert.throws(() => auroc([0.1, 0.2], [0, 2]), /labels must be 0/);
  assert.throws(() => auroc([], []), /no scores/);
});

test('the ROC curve starts at (0, 0), ends at (1, 1) and its trapezoid is the AUROC', () => {
  const { scores, labels } = randomCase(new Rng(3), 200, 2);
  const { fpr, tpr, thresholds } = rocCurve(scores, labels);
  assert.equal(fpr[0], 0);
  assert.equal(tpr[0], 0);
  assert.equal(thresholds[0], Infinity);
  assert.equal(fpr[fpr.length - 1], 1);
  assert.equal(tpr[tpr.length - 1], 1);
  let area = 0;
  for (let k = 1; k < fpr.length; k++) {
    assert.ok(fpr[k] >= fpr[k - 1] && tpr[k] >= tpr[k - 1] && thresholds[k] < thresholds[k - 1]);
    area += (fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) * 0.5;
  }
  assert.ok(Math.abs(area - auroc(scores, labels)) < 1e-12);
});
