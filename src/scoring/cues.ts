/**
 * The three per-image cues of the tri-signal score (METHOD §5), from the
 * network's outputs as plain numbers: deviation s_d = φ(x) (already a number),
 * uncertainty s_u = normalised binary entropy of p(x), segmentation s_s = mean of
 * the top ρ of the anomaly map's pixels, optionally mean-filtered first (ADL).
 */
import { topFractionMean } from './top-fraction.ts';

/**
 * Binary entropy of p divided by log 2: in [0, 1], 1 at p = 0.5, 0 at p = 0 or 1
 * (0·log 0 taken as 0). High when the classifier is unsure.
 */
export function binaryEntropyCue(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`binaryEntropyCue: p must be a probability in [0, 1], got ${p}`);
  const a = p > 0 ? -p * Math.log(p) : 0;
  const b = p < 1 ? -(1 - p) * Math.log1p(-p) : 0;
  return Math.min(1, Math.max(0, (a + b) / Math.LN2));
}

/**
 * How the box filter treats the window where it leaves the map:
 * 'shrink' averages only the in-map pixels (no border darkening);
 * 'zeros' pads with zeros and always divides by size² (PyTorch's
 * avg_pool2d(k, stride 1, padding k//2), which ADL/DRAEM use).
 */
export type BoxEdge = 'shrink' | 'zeros';

/**
 * size×size mean filter, same output size, via an integral image (O(w·h) for
 * any size). size must be odd; 1 returns a copy.
 */
export function boxFilter2d(
  map: ArrayLike<number>,
  width: number,
  height: number,
  size: number,
  edge: BoxEdge = 'shrink',
): Float32Array {
  if (map.length !== width * height) {
    throw new Error(`boxFilter2d: map has ${map.length} values, expected ${width}×${height} = ${width * height}`);
  }
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
    throw new Error(`boxFilter2d: size must be a positive odd integer, got ${size}`);
  }
  const stride = width + 1;
  // integral[(y)*(w+1) + x] = sum of map over rows < y and columns < x.
  const integral = new Float64Array((height + 1) * stride);
  for (let y = 0; y < height; y++) {
    let rowSum = 0;
    for (let x = 0; x < width; x++) {
      rowSum += map[y * width + x];
      integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + rowSum;
    }
  }
  const r = (size - 1) / 2;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height, y + r + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width, x + r + 1);
      const sum = integral[y1 * stride + x1] - integral[y0 * stride + x1] - integral[y1 * stride + x0] + integral[y0 * stride + x0];
      const count = edge === 'zeros' ? size * size : (y1 - y0) * (x1 - x0);
      out[y * width + x] = sum / count;
    }
  }
  return out;
}

/** ADL's smoothing window for the segmentation map. */
export const ADL_SMOOTH_SIZE = 21;

export interface SegmentationCueOptions {
  /** ρ: fraction of pixels averaged (default 0.01, METHOD §5). */
  topFraction?: number;
  /** Odd mean-filter size applied first; 0 or 1 = no smoothing (default 0; ADL uses 21). */
  smoothSize?: number;
  /** Edge handling of the filter (default 'shrink'). */
  edge?: BoxEdge;
}

/** s_s: mean of the top ρ fraction of the (optionally smoothed) anomaly map. */
export function segmentationCue(
  map: ArrayLike<number>,
  width: number,
  height: number,
  opts: SegmentationCueOptions = {},
): number {
  if (map.length !== width * height) {
    throw new Error(`segmentationCue: map has ${map.length} values, expected ${width}×${height} = ${width * height}`);
  }
  const size = opts.smoothSize ?? 0;
  const smoothed = size > 1 ? boxFilter2d(map, width, height, size, opts.edge ?? 'shrink') : map;
  return topFractionMean(smoothed, opts.topFraction ?? 0.01);
}
