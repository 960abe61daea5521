// Evaluation metrics (METHOD §7): one metric per file over a small shared base.
export { checkBinaryInputs, type BinaryLabels, type ClassCounts, type ScoreMap } from './base.ts';
export { rocCurve, thresholdCounts, type RocCurve, type ThresholdCounts } from './roc.ts';
export { auroc } from './auroc.ts';
export { averagePrecision } from './average-precision.ts';
export { f1Max, type F1Max } from './f1-max.ts';
export { WeightedScoreCounter, type ScoreCounterOptions, type ScoreTotals } from './score-counter.ts';
export { PixelAurocAccumulator, pixelAuroc, type PixelAurocResult } from './pixel-auroc.ts';
export {
  AuproAccumulator,
  aupro,
  connectedComponents8,
  trapezoidUpTo,
  type AuproOptions,
  type ConnectedComponents,
  type ProCurve,
} from './aupro.ts';
