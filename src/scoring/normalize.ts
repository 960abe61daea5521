/**
 * Cue normalisation (METHOD §5): a fixed monotone map into [0, 1) that keeps the
 * order of scores. It uses only a constant per cue, never a statistic of the
 * test set, so an image's normalised cue does not depend on the other images.
 */

/**
 * n(s) = s / (s + c) for s >= 0 and c > 0: 0 at s = 0, 1/2 at s = c, towards 1
 * as s grows (+Infinity maps to 1). Strictly increasing, so order is kept.
 * Negative or NaN s throws: the deviation cue is |·|-pooled and never negative.
 */
export function normalizeCue(s: number, c: number): number {
  if (!(c > 0) || !Number.isFinite(c)) throw new Error(`normalizeCue: scale c must be positive and finite, got ${c}`);
  if (!(s >= 0)) throw new Error(`normalizeCue: cue value must be >= 0, got ${s}`);
  if (s === Infinity) return 1;
  return s / (s + c);
}
