import type { Rng } from '../../util/rng.ts';
import { perlinField } from '../perlin.ts';
import type { Mask, RgbImage } from '../types.ts';

/**
 * Drawing primitives for the synthetic dataset, on plain Float32Arrays.
 *
 * Shapes are "fields": one value per pixel, 0.5 on the shape's boundary, rising
 * to 1 inside over about a pixel (anti-aliasing) and 0 outside. A defect's mask
 * is exactly {field ≥ 0.5}; it is painted with an opacity that is 0 outside
 * the mask, so every pixel the defect touches is in its mask and no other.
 */

export type Rgb = [number, number, number];
export type Field = Float32Array;
export interface Point {
  x: number;
  y: number;
}

export function newImage(width: number, height: number): RgbImage {
  return { width, height, data: new Float32Array(width * height * 3) };
}

/** Fill every pixel from a colour function. */
export function paint(image: RgbImage, colour: (x: number, y: number, p: number) => Rgb): void {
  const { width, height, data } = image;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const c = colour(x, y, p);
      data[p * 3] = c[0];
      data[p * 3 + 1] = c[1];
      data[p * 3 + 2] = c[2];
    }
  }
}

/** Soft edge: 0.5 on the boundary, a one-pixel ramp across it (signed distance `inside`, px). */
export function edge(inside: number, softness = 1): number {
  const v = 0.5 + inside / softness;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

export interface BlobOptions {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Orientation of the rx axis, radians. */
  angle?: number;
  /** Relative boundary wobble (0 = ellipse; 0.3 = ragged). */
  roughness?: number;
  /** Angular frequency of the wobble (lobes around the outline). */
  lobes?: number;
}

/** An irregular ellipse: its radius wobbles with Perlin noise around the outline. */
export function blobField(width: number, height: number, rng: Rng, o: BlobOptions): Field {
  const field = new Float32Array(width * height);
  const noise = perlinField(rng);
  const rough = o.roughness ?? 0.2;
  const lobes = o.lobes ?? 1.5;
  const angle = o.angle ?? 0;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const reach = Math.max(o.rx, o.ry) * (1 + rough * 1.2) + 2;
  const seedX = rng.uniform(0, 100);
  const x0 = Math.max(0, Math.floor(o.cx - reach));
  const x1 = Math.min(width - 1, Math.ceil(o.cx + reach));
  const y0 = Math.max(0, Math.floor(o.cy - reach));
  const y1 = Math.min(height - 1, Math.ceil(o.cy + reach));
  const scale = Math.min(o.rx, o.ry);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - o.cx;
      const dy = y + 0.5 - o.cy;
      const u = (cos * dx + sin * dy) / o.rx;
      const v = (-sin * dx + cos * dy) / o.ry;
      const rho = Math.hypot(u, v);
      const theta = Math.atan2(v, u);
      // Noise on a circle, so the outline closes without a seam.
      const wobble = noise.at(seedX + lobes * Math.cos(theta), lobes * Math.sin(theta));
      field[y * width + x] = edge((1 + rough * wobble - rho) * scale);
    }
  }
  return field;
}

/** A stroke along a polyline with a (possibly varying) half width in px. */
export function strokeField(
  width: number,
  height: number,
  points: readonly Point[],
  halfWidth: number | ((t: number) => number),
): Field {
  const field = new Float32Array(width * height);
  const hw = typeof halfWidth === 'number' ? () => halfWidth : halfWidth;
  const n = points.length;
  for (let i = 0; i + 1 < n; i++) {
    const a = points[i];
    const b = points[i + 1];
    const ha = hw(i / Math.max(1, n - 1));
    const hb = hw((i + 1) / Math.max(1, n - 1));
    const reach = Math.max(ha, hb) + 2;
    const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - reach));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(a.x, b.x) + reach));
    const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - reach));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(a.y, b.y) + reach));
    const ex = b.x - a.x;
    const ey = b.y - a.y;
    const len2 = ex * ex + ey * ey || 1e-9;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5 - a.x;
        const py = y + 0.5 - a.y;
        const t = Math.min(1, Math.max(0, (px * ex + py * ey) / len2));
        const d = Math.hypot(px - t * ex, py - t * ey);
        const h = ha + (hb - ha) * t;
        const p = y * width + x;
        const v = edge(h - d);
        if (v > field[p]) field[p] = v;
      }
    }
  }
  return field;
}

/** A smooth wandering path (fibres, scratches): heading changes slowly. */
export function smoothPath(rng: Rng, start: Point, heading: number, length: number, curviness: number, step = 2): Point[] {
  const points: Point[] = [{ ...start }];
  let turn = 0;
  let { x, y } = start;
  for (let s = 0; s < length; s += step) {
    turn = 0.8 * turn + rng.normal(0, curviness);
    heading += turn;
    x += step * Math.cos(heading);
    y += step * Math.sin(heading);
    points.push({ x, y });
  }
  return points;
}

/** A jagged path (cracks): heading jitters around a main direction. */
export function jaggedPath(rng: Rng, start: Point, heading: number, length: number, jitter: number, step = 3): Point[] {
  const points: Point[] = [{ ...start }];
  let { x, y } = start;
  for (let s = 0; s < length; s += step) {
    const h = heading + rng.normal(0, jitter);
    x += step * Math.cos(h);
    y += step * Math.sin(h);
    points.push({ x, y });
  }
  return points;
}

export function maxFields(a: Field, b: Field): Field {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] > b[i] ? a[i] : b[i];
  return out;
}

/** Restrict a field to a region (another field): the result is inside both. */
export function intersectFields(a: Field, b: Field): Field {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] < b[i] ? a[i] : b[i];
  return out;
}

export function maskOf(field: Field, width: number, height: number): Mask {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = field[i] >= 0.5 ? 1 : 0;
  return { width, height, data };
}

export function maskArea(mask: Mask): number {
  let n = 0;
  for (const v of mask.data) n += v;
  return n;
}

/** Opacity of a field: 0 outside its mask, 0.5 → 1 across the boundary ramp inside it. */
export function opacity(v: number): number {
  return v < 0.5 ? 0 : Math.min(1, v * 2 - 0.5);
}

/**
 * Paint a defect: inside the field's mask blend the pixel towards `colour`
 * (which sees the current pixel), scaled by `strength`; outside, nothing changes.
 */
export function paintDefect(
  image: RgbImage,
  field: Field,
  colour: (orig: Rgb, x: number, y: number, p: number) => Rgb,
  strength = 1,
): void {
  const { width, data } = image;
  for (let p = 0; p < field.length; p++) {
    const a = opacity(field[p]) * strength;
    if (a <= 0) continue;
    const i = p * 3;
    const orig: Rgb = [data[i], data[i + 1], data[i + 2]];
    const c = colour(orig, p % width, Math.floor(p / width), p);
    data[i] = orig[0] + a * (c[0] - orig[0]);
    data[i + 1] = orig[1] + a * (c[1] - orig[1]);
    data[i + 2] = orig[2] + a * (c[2] - orig[2]);
  }
}

/** Lighting: a linear gradient of ±strength across the image in a random direction, plus a mild vignette. */
export function illuminate(image: RgbImage, rng: Rng, strength: number, vignette = 0.08): void {
  const { width, height, data } = image;
  const dir = rng.uniform(0, 2 * Math.PI);
  const slope = rng.uniform(0.3, 1) * strength;
  const gx = (Math.cos(dir) * slope) / width;
  const gy = (Math.sin(dir) * slope) / height;
  const level = 1 + rng.normal(0, strength / 3);
  const r2 = (width / 2) ** 2 + (height / 2) ** 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - width / 2;
      const dy = y + 0.5 - height / 2;
      const g = level * (1 + 2 * (gx * dx + gy * dy)) * (1 - vignette * ((dx * dx + dy * dy) / r2));
      const i = (y * width + x) * 3;
      data[i] *= g;
      data[i + 1] *= g;
      data[i + 2] *= g;
    }
  }
}

/** Camera noise (Gaussian, per channel), then clamp to [0,1]. */
export function sensorNoise(image: RgbImage, rng: Rng, sigma: number): void {
  const { data } = image;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] + rng.normal(0, sigma);
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

/** Per-pixel scalar field from a Perlin field sampled with separate x/y scales (periods per image). */
export function noiseField(width: number, height: number, rng: Rng, periodsX: number, periodsY: number, octaves = 1): Field {
  const out = new Float32Array(width * height);
  let amplitude = 1;
  let total = 0;
  for (let k = 0; k < octaves; k++) {
    const field = perlinField(rng);
    const ox = rng.uniform(0, 64);
    const oy = rng.uniform(0, 64);
    const sx = (periodsX * 2 ** k) / width;
    const sy = (periodsY * 2 ** k) / height;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[y * width + x] += amplitude * field.at(ox + x * sx, oy + y * sy);
    }
    total += amplitude;
    amplitude *= 0.5;
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scale(c: Rgb, k: number): Rgb {
  return [c[0] * k, c[1] * k, c[2] * k];
}

/** A point uniformly inside a box of the image, keeping `margin` px from the border. */
export function pointInside(rng: Rng, width: number, height: number, margin: number): Point {
  return { x: rng.uniform(margin, width - margin), y: rng.uniform(margin, height - margin) };
}
