import type { BinaryLabels } from './base.ts';
import { thresholdCounts } from './roc.ts';

/**
 * Area under the ROC curve, equal to scikit-learn's `roc_auc_score` including
 * ties: the trapezoid over distinct thresholds, i.e. the probability that a
 * random anomalous sample outscores a random nominal one, ties counting half.
 * Summed in integer pair counts, so it is exact up to 2^53 pairs.
 */
export function auroc(scores: ArrayLike<number>, labels: BinaryLabels): number {
  const c = thresholdCounts('auroc', scores, labels);
  let area = 0; // in units of (true positive, false positive) pairs
  let tpPrev = 0;
  let fpPrev = 0;
  for (let k = 0; k < c.thresholds.length; k++) {
    area += (c.fps[k] - fpPrev) * (c.tps[k] + tpPrev) * 0.5;
    tpPrev = c.tps[k];
    fpPrev = c.fps[k];
  }
  return area / (c.positives * c.negatives);
}
