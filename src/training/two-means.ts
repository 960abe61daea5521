/**
 * The 2-means rule of the classification target (METHOD §3): a batch's
 * deviation scores split into two clusters by 1-D k-means; the cluster with the
 * larger centroid is labelled 1 (anomalous).
 */

export interface TwoMeansResult {
  /** 1 for the cluster with the larger centroid, else 0. */
  labels: Uint8Array;
  /** [low, high] centroids. */
  centroids: [number, number];
  iterations: number;
}

/**
 * 1-D k-means with k = 2, initialised deterministically at the minimum and the
 * maximum and iterated until no assignment changes. A value exactly at the
 * midpoint goes to the low cluster. All-equal input: everything is 0.
 */
export function twoMeans(values: ArrayLike<number>): TwoMeansResult {
  const n = values.length;
  const labels = new Uint8Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new Error(`twoMeans: value ${i} is ${v}; values must be finite numbers`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (n === 0) return { labels, centroids: [NaN, NaN], iterations: 0 };
  if (lo === hi) return { labels, centroids: [lo, hi], iterations: 0 };
  // The minimum always stays in the low cluster and the maximum in the high one,
  // so neither cluster empties and lo < hi throughout.
  let iterations = 0;
  let changed = true;
  // 1-D k-means strictly lowers its objective until assignments settle; the
  // cap only guards against a floating-point cycle.
  while (changed && iterations < 1000) {
    iterations++;
    changed = iterations === 1;
    const mid = (lo + hi) / 2;
    let sumLo = 0;
    let sumHi = 0;
    let countHi = 0;
    for (let i = 0; i < n; i++) {
      const label = values[i] > mid ? 1 : 0;
      if (label !== labels[i]) {
        labels[i] = label;
        changed = true;
      }
      if (label === 1) {
        sumHi += values[i];
        countHi++;
      } else sumLo += values[i];
    }
    lo = sumLo / (n - countHi);
    hi = sumHi / countHi;
  }
  return { labels, centroids: [lo, hi], iterations };
}

/** The 2-means labels alone (1 = the larger-centroid cluster). */
export function twoMeansLabels(values: ArrayLike<number>): Uint8Array {
  return twoMeans(values).labels;
}
