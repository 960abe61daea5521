import type { Rng } from '../util/rng.ts';
import { drawPerlinMask, type PerlinMaskOptions } from './perlin.ts';
import type { Mask, RgbImage } from './types.ts';

/**
 * Pseudo-anomalies (METHOD §1.4, Eq. 1): a Perlin-shaped region of a training
 * image is replaced by a colour-jittered anomaly-source texture, blended with
 * opacity β ~ U(0, 0.8):
 *
 *   I_a = (1−M)⊙I + (1−β)(M⊙A) + β(M⊙I)
 *
 * Pixels outside M are copied, so they are bit-identical to the input.
 */

export interface ColorJitterOptions {
  /** Brightness factor drawn in [1−b, 1+b] (default 0.4). */
  brightness?: number;
  /** Contrast factor in [1−c, 1+c] around the image's mean grey (default 0.4). */
  contrast?: number;
  /** Saturation factor in [1−s, 1+s] (0 = grey, default 0.5). */
  saturation?: number;
  /** Hue rotation in [−h, h] turns (default 0.15, i.e. ±54°). */
  hue?: number;
}

export interface PseudoAnomalyOptions {
  /** Largest opacity: β ~ U(betaMin, betaMax) (METHOD: 0 and 0.8). */
  betaMax?: number;
  betaMin?: number;
  /** A fixed β instead of a draw (figures, tests). */
  beta?: number;
  /** A given mask instead of a Perlin draw (same size as the image). */
  mask?: Mask;
  /** Options of the Perlin mask draw. */
  perlin?: PerlinMaskOptions;
  /** Colour jitter of the source; false leaves the source as it is. */
  jitter?: ColorJitterOptions | false;
}

export interface PseudoAnomaly {
  image: RgbImage;
  mask: Mask;
  beta: number;
  /** The source after resizing and jitter (A in Eq. 1), for figures. */
  anomaly: RgbImage;
}

export function makePseudoAnomaly(
  image: RgbImage,
  source: RgbImage,
  rng: Rng,
  opts: PseudoAnomalyOptions = {},
): PseudoAnomaly {
  const { width, height } = image;
  if (image.data.length !== width * height * 3) {
    throw new Error(`makePseudoAnomaly: image data has ${image.data.length} values, expected ${width}×${height}×3`);
  }
  const mask = opts.mask ?? drawPerlinMask(width, height, rng.fork('mask'), opts.perlin).mask;
  if (mask.width !== width || mask.height !== height) {
    throw new Error(`makePseudoAnomaly: mask is ${mask.width}×${mask.height} but the image is ${width}×${height}`);
  }
  const betaMin = opts.betaMin ?? 0;
  const betaMax = opts.betaMax ?? 0.8;
  if (!(betaMin >= 0 && betaMax <= 1 && betaMin <= betaMax)) {
    throw new Error(`makePseudoAnomaly: need 0 <= betaMin <= betaMax <= 1 (got ${betaMin}, ${betaMax})`);
  }
  // Draw β even when fixed so a fixed β does not shift the jitter stream.
  const drawnBeta = rng.uniform(betaMin, betaMax);
  const beta = opts.beta ?? drawnBeta;
  if (!(beta >= 0 && beta <= 1)) throw new Error(`makePseudoAnomaly: beta must lie in [0, 1] (got ${beta})`);
  const resized = resizeRgbBilinear(source, width, height);
  const anomaly = opts.jitter === false ? resized : colorJitter(resized, rng.fork('jitter'), opts.jitter ?? {});
  return { image: blendInMask(image, anomaly, mask, beta), mask, beta, anomaly };
}

/** Eq. 1 for a given mask and β. Outside the mask the input values are copied unchanged. */
export function blendInMask(image: RgbImage, anomaly: RgbImage, mask: Mask, beta: number): RgbImage {
  const out = new Float32Array(image.data);
  const a = anomaly.data;
  const keep = 1 - beta;
  for (let p = 0; p < mask.data.length; p++) {
    if (!mask.data[p]) continue;
    for (let c = p * 3; c < p * 3 + 3; c++) out[c] = keep * a[c] + beta * image.data[c];
  }
  return { width: image.width, height: image.height, data: out };
}

/**
 * Seeded colour jitter in the spirit of torchvision's ColorJitter: brightness,
 * contrast, saturation, then a hue rotation (about the grey axis), clamped to [0,1].
 */
export function colorJitter(image: RgbImage, rng: Rng, opts: ColorJitterOptions = {}): RgbImage {
  const b = 1 + rng.uniform(-1, 1) * (opts.brightness ?? 0.4);
  const c = 1 + rng.uniform(-1, 1) * (opts.contrast ?? 0.4);
  const s = 1 + rng.uniform(-1, 1) * (opts.saturation ?? 0.5);
  const h = rng.uniform(-1, 1) * (opts.hue ?? 0.15) * 2 * Math.PI;
  const src = image.data;
  const n = image.width * image.height;
  let meanGrey = 0;
  for (let p = 0; p < n; p++) meanGrey += luma(src[p * 3], src[p * 3 + 1], src[p * 3 + 2]);
  meanGrey = (meanGrey / n) * b;
  const rot = hueRotation(h);
  const out = new Float32Array(src.length);
  for (let p = 0; p < n; p++) {
    const i = p * 3;
    let r = src[i] * b;
    let g = src[i + 1] * b;
    let bl = src[i + 2] * b;
    r = (r - meanGrey) * c + meanGrey;
    g = (g - meanGrey) * c + meanGrey;
    bl = (bl - meanGrey) * c + meanGrey;
    const y = luma(r, g, bl);
    r = y + (r - y) * s;
    g = y + (g - y) * s;
    bl = y + (bl - y) * s;
    out[i] = clamp01(rot[0] * r + rot[1] * g + rot[2] * bl);
    out[i + 1] = clamp01(rot[3] * r + rot[4] * g + rot[5] * bl);
    out[i + 2] = clamp01(rot[6] * r + rot[7] * g + rot[8] * bl);
  }
  return { width: image.width, height: image.height, data: out };
}

function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** 3×3 matrix rotating colours by `angle` radians about the grey diagonal (keeps greys grey). */
function hueRotation(angle: number): number[] {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const k = (1 - cos) / 3;
  const r = Math.sqrt(1 / 3) * sin;
  return [cos + k, k - r, k + r, k + r, cos + k, k - r, k - r, k + r, cos + k];
}

/** Bilinear resize (pixel-centre aligned); returns the input itself when the size already matches. */
export function resizeRgbBilinear(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return image;
  const src = image.data;
  const out = new Float32Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const top = src[(y0 * image.width + x0) * 3 + c] * (1 - wx) + src[(y0 * image.width + x1) * 3 + c] * wx;
        const bottom = src[(y1 * image.width + x0) * 3 + c] * (1 - wx) + src[(y1 * image.width + x1) * 3 + c] * wx;
        out[(y * width + x) * 3 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return { width, height, data: out };
}
