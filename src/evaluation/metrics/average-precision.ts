import type { BinaryLabels } from './base.ts';
import { thresholdCounts } from './roc.ts';

/**
 * Average precision (AUPRC), equal to scikit-learn's `average_precision_score`
 * including ties: the step-wise sum over distinct thresholds
 * AP = sum_n (R_n - R_{n-1}) * P_n, no interpolation.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: BinaryLabels): number {
  const c = thresholdCounts('averagePrecision', scores, labels);
  let ap = 0;
  let tpPrev = 0;
  for (let k = 0; k < c.thresholds.length; k++) {
    const tp = c.tps[k];
    if (tp !== tpPrev) {
      const precision = tp / (tp + c.fps[k]);
      ap += ((tp - tpPrev) / c.positives) * precision;
      tpPrev = tp;
    }
  }
  return ap;
}
