/**
 * Anomaly maps as pictures: a colormapped map, the map blended over its input
 * image, and the map binarised at a threshold (METHOD §7, Fig. 2). Maps are
 * row-major floats in [0, 1], the size of the image they belong to.
 */
import type { GrayImage } from '../data/image.ts';
import { resizeRgbBilinear } from '../data/pseudo-anomaly.ts';
import type { Mask, RgbImage } from '../data/types.ts';
import { colormapLut, lutIndex, type ColormapName } from './colormap.ts';

export const DEFAULT_COLORMAP: ColormapName = 'turbo';

/** A map given as a bare array (image-sized) or as a GrayImage of any size. */
export type MapInput = Float32Array | GrayImage;

/** The map as a GrayImage of the given size (bilinear when it has another size). */
export function mapAtSize(map: MapInput, width: number, height: number): GrayImage {
  if (map instanceof Float32Array) {
    if (map.length !== width * height) {
      throw new Error(`anomaly map has ${map.length} values but the image is ${width}x${height}; pass a GrayImage to have it resized`);
    }
    return { width, height, data: map };
  }
  if (map.width === width && map.height === height) return map;
  const rgb = resizeRgbBilinear({ width: map.width, height: map.height, data: grayToRgb(map.data) }, width, height);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rgb.data[i * 3];
  return { width, height, data };
}

function grayToRgb(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length * 3);
  for (let i = 0; i < data.length; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = data[i];
  return out;
}

/** Min-max scale a map into [0, 1] (a constant map becomes all 0). Fixed bounds keep several images comparable. */
export function normalizeMap(data: ArrayLike<number>, bounds?: { min: number; max: number }): Float32Array {
  let min = bounds?.min ?? Infinity;
  let max = bounds?.max ?? -Infinity;
  if (!bounds) {
    for (let i = 0; i < data.length; i++) {
      if (data[i] < min) min = data[i];
      if (data[i] > max) max = data[i];
    }
  }
  const out = new Float32Array(data.length);
  const range = max - min;
  if (!(range > 0)) return out;
  for (let i = 0; i < data.length; i++) out[i] = Math.min(1, Math.max(0, (data[i] - min) / range));
  return out;
}

/** A map in [0, 1] drawn with a colormap. */
export function colorizeMap(map: GrayImage, colormap: ColormapName = DEFAULT_COLORMAP): RgbImage {
  const lut = colormapLut(colormap);
  const out = new Float32Array(map.width * map.height * 3);
  for (let p = 0; p < map.data.length; p++) {
    const k = lutIndex(map.data[p]) * 3;
    out[p * 3] = lut[k] / 255;
    out[p * 3 + 1] = lut[k + 1] / 255;
    out[p * 3 + 2] = lut[k + 2] / 255;
  }
  return { width: map.width, height: map.height, data: out };
}

/**
 * The colormapped map blended over the image: (1 − alpha)·image + alpha·colour.
 * Keeps the image's size; the map must be image-sized (or a GrayImage, resized).
 */
export function heatmapOverlay(image: RgbImage, map: MapInput, alpha = 0.5, colormap: ColormapName = DEFAULT_COLORMAP): RgbImage {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`overlay alpha must lie in [0, 1], got ${alpha}`);
  const colour = colorizeMap(mapAtSize(map, image.width, image.height), colormap);
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - alpha) * image.data[i] + alpha * colour.data[i];
  return { width: image.width, height: image.height, data: out };
}

/** The map binarised: 1 where value >= threshold. */
export function binarizeMap(map: GrayImage, threshold: number): Mask {
  const data = new Uint8Array(map.data.length);
  for (let i = 0; i < data.length; i++) data[i] = map.data[i] >= threshold ? 1 : 0;
  return { width: map.width, height: map.height, data };
}
