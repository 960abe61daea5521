import { Rng } from '../util/rng.ts';
import type { RgbImage } from './types.ts';

/**
 * The corruption applied to contaminating anomalies (METHOD §1.2): additive
 * zero-mean Gaussian noise of standard deviation `std` on the [0,1] scale,
 * clamped to [0,1]. The manifest stores a seed per contaminating item, so the
 * same item always gets the same noise, in every epoch and every run.
 */
export function applyContaminationNoise(image: RgbImage, std: number, seed: number): RgbImage {
  if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`noise std must be a finite number >= 0 (got ${std})`);
  const out = new Float32Array(image.data.length);
  if (std === 0) {
    out.set(image.data);
  } else {
    const rng = new Rng(seed);
    for (let i = 0; i < out.length; i++) {
      const v = image.data[i] + rng.normal(0, std);
      out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { width: image.width, height: image.height, data: out };
}
