/**
 * Top-fraction pooling: the mean of the highest scores. Used by the segmentation
 * cue (top ρ of pixels, METHOD §5) and matches the deviation head's top-κ pooling.
 */

/**
 * How many of n values the top `fraction` keeps: ceil(fraction·n), at least 1.
 * A relative 1e-12 slack absorbs float error, so 0.1 of 30 is 3, not 4.
 */
export function topFractionCount(n: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`topFraction: fraction must be in (0, 1], got ${fraction}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`topFraction: need at least one value, got ${n}`);
  return Math.min(n, Math.max(1, Math.ceil(fraction * n * (1 - 1e-12))));
}

/** Mean of the top ceil(fraction·n) values (at least one). */
export function topFractionMean(values: ArrayLike<number>, fraction: number): number {
  const k = topFractionCount(values.length, fraction);
  const sorted = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) throw new Error(`topFractionMean: value ${i} is NaN`);
    sorted[i] = values[i];
  }
  sorted.sort();
  let sum = 0;
  for (let i = sorted.length - k; i < sorted.length; i++) sum += sorted[i];
  return sum / k;
}
