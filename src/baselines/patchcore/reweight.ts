/**
 * PatchCore's image score (Roth et al., CVPR 2022, Eq. 7). The raw score s* is
 * the largest patch-to-memory distance. It is scaled by how isolated the
 * winning memory entry m* is: with N_b(m*) = m* and its nearest memory
 * neighbours (b entries in all) and d_j the distances from the test patch to them,
 *
 *   s = (1 − exp(d_{m*}) / Σ_j exp(d_j)) · s*   (= (1 − softmax(d)[m*]) · s*).
 *
 * If m* sits in a dense region, the test patch is about as far from all of
 * N_b(m*), the softmax is flat and the weight is near 1 − 1/b; if m* is an
 * isolated (rare) memory entry the other neighbours are much farther, the
 * softmax concentrates on them and the weight rises towards 1 — rare nominal
 * patterns are trusted less than common ones. Computed stably (max subtracted).
 * `distancesToSupport[0]` must be the distance to m*. With a one-entry support
 * (a memory bank of one) the weight would be 0, so s* is returned unweighted.
 */
export function reweightedImageScore(maxPatchScore: number, distancesToSupport: ArrayLike<number>): number {
  const n = distancesToSupport.length;
  if (n === 0) throw new Error('reweightedImageScore: needs at least the nearest memory entry');
  if (n === 1) return maxPatchScore;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, distancesToSupport[i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(distancesToSupport[i] - max);
  const softmaxNearest = Math.exp(distancesToSupport[0] - max) / sum;
  return (1 - softmaxNearest) * maxPatchScore;
}
