import { type BinaryLabels, checkBinaryInputs } from './base.ts';

/**
 * Cumulative true/false positive counts at every distinct score, highest score
 * first (scikit-learn's `_binary_clf_curve`): predicting "anomalous" for
 * score >= thresholds[k] gives tps[k] true and fps[k] false positives. Tied
 * scores share one threshold, so ties are handled the way sklearn does.
 */
export interface ThresholdCounts {
  thresholds: Float64Array;
  tps: Float64Array;
  fps: Float64Array;
  positives: number;
  negatives: number;
}

export function thresholdCounts(metric: string, scores: ArrayLike<number>, labels: BinaryLabels): ThresholdCounts {
  const { positives, negatives } = checkBinaryInputs(metric, scores, labels);
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Descending by score; comparisons (not subtraction) keep +-Infinity sortable
  // and make -0 tie with +0, as in numpy.
  order.sort((a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    return sa > sb ? -1 : sa < sb ? 1 : a - b;
  });
  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    const isLastOfTie = k === n - 1 || scores[order[k + 1]] !== scores[i];
    if (isLastOfTie) {
      thresholds.push(scores[i] + 0);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return {
    thresholds: Float64Array.from(thresholds),
    tps: Float64Array.from(tps),
    fps: Float64Array.from(fps),
    positives,
    negatives,
  };
}

export interface RocCurve {
  /** False positive rate per threshold, starting at (0, 0) like sklearn's roc_curve. */
  fpr: Float64Array;
  tpr: Float64Array;
  /** thresholds[0] is +Infinity (nothing predicted anomalous), then the distinct scores, descending. */
  thresholds: Float64Array;
}

/** The ROC curve at every distinct score (no intermediate points dropped). */
export function rocCurve(scores: ArrayLike<number>, labels: BinaryLabels): RocCurve {
  const c = thresholdCounts('rocCurve', scores, labels);
  const m = c.thresholds.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  thresholds[0] = Infinity;
  for (let k = 0; k < c.thresholds.length; k++) {
    fpr[k + 1] = c.fps[k] / c.negatives;
    tpr[k + 1] = c.tps[k] / c.positives;
    thresholds[k + 1] = c.thresholds[k];
  }
  return { fpr, tpr, thresholds };
}
