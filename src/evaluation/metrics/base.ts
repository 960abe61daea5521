/**
 * The small base every metric shares: input checks with errors that say what is
 * wrong, and the types for pixel maps. Metrics take plain arrays (ArrayLike or
 * typed arrays); nothing here touches tensors.
 */

/** A per-pixel anomaly map, row-major, the same layout as `Mask`. */
export interface ScoreMap {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

/** Binary labels: 1 anomalous (positive), 0 nominal. */
export type BinaryLabels = ArrayLike<number>;

export interface ClassCounts {
  positives: number;
  negatives: number;
}

/**
 * Checks scores against labels for a binary ranking metric and counts the
 * classes. Throws on a length mismatch, an empty input, a NaN score, a label
 * other than 0/1, or a single class (AUROC and AP are undefined then).
 */
export function checkBinaryInputs(metric: string, scores: ArrayLike<number>, labels: BinaryLabels): ClassCounts {
  if (scores.length !== labels.length) {
    throw new Error(`${metric}: ${scores.length} scores but ${labels.length} labels; pass one label per score`);
  }
  if (scores.length === 0) throw new Error(`${metric}: no scores given`);
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`${metric}: score ${i} is NaN; fix the model output before evaluating`);
    const y = labels[i];
    if (y === 1) positives++;
    else if (y !== 0) throw new Error(`${metric}: label ${i} is ${y}; labels must be 0 (nominal) or 1 (anomalous)`);
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error(
      `${metric}: only one class present (${positives} anomalous, ${negatives} nominal); ` +
        'the metric needs both nominal and anomalous samples',
    );
  }
  return { positives, negatives };
}

/** Checks that a map and its mask describe the same pixels. */
export function checkMapAndMask(metric: string, index: number, mapLength: number, maskLength: number): void {
  if (mapLength !== maskLength) {
    throw new Error(
      `${metric}: map ${index} has ${mapLength} pixels but its mask has ${maskLength}; resize the mask to the map size`,
    );
  }
}
