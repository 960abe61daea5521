import type { BinaryLabels } from './base.ts';
import { thresholdCounts } from './roc.ts';

export interface F1Max {
  /** The best F1 over all thresholds. */
  f1: number;
  /** Predict anomalous when score >= threshold (a score present in the input). */
  threshold: number;
  precision: number;
  recall: number;
}

/**
 * The best F1 over every distinct score used as threshold (anomalib's F1Max).
 * Among equal F1 values the highest threshold wins (the fewest alarms).
 */
export function f1Max(scores: ArrayLike<number>, labels: BinaryLabels): F1Max {
  const c = thresholdCounts('f1Max', scores, labels);
  let best: F1Max = { f1: -1, threshold: Infinity, precision: 0, recall: 0 };
  for (let k = 0; k < c.thresholds.length; k++) {
    const tp = c.tps[k];
    const precision = tp / (tp + c.fps[k]);
    const recall = tp / c.positives;
    const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (f1 > best.f1) best = { f1, threshold: c.thresholds[k], precision, recall };
  }
  return best;
}
