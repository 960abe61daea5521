/**
 * Per-image min-max normalisation into [0, 1]. A constant map (e.g. a zero
 * gradient) becomes all zeros: it says nothing about where the anomaly is.
 */
export function minMaxNormalize(map: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(map.length);
  const range = hi - lo;
  if (!(range > 0) || !Number.isFinite(range)) return out;
  for (let i = 0; i < map.length; i++) out[i] = (map[i] - lo) / range;
  return out;
}
