import type { Rng } from '../../util/rng.ts';
import type { Mask, RgbImage } from '../types.ts';
import { type Field, maskArea, maskOf } from './raster.ts';

/** One generated picture: a defect image carries its exact pixel mask, a nominal one none. */
export interface SyntheticSample {
  image: RgbImage;
  mask: Mask | null;
}

/** A category of the embedded synthetic dataset (a texture or an object). */
export interface SyntheticCategory {
  readonly name: string;
  readonly kind: 'texture' | 'object';
  readonly description: string;
  /** Defect kinds, as written to test/<defect>/. */
  readonly defects: readonly string[];
  /** A nominal image (defect null) or one with the given defect; all draws come from `rng`. */
  render(rng: Rng, size: number, defect: string | null): SyntheticSample;
}

/** Real defects cover roughly 0.3–5% of the image; shapes outside this band are redrawn. */
export const DEFECT_AREA = { min: 0.003, max: 0.05 };

/**
 * Draw a defect's field until its mask covers an area in [min, max] of the
 * image (shapes clipped by the border or the object can come out too small).
 */
export function drawDefectField(
  rng: Rng,
  size: number,
  draw: (rng: Rng) => Field,
  area: { min: number; max: number } = DEFECT_AREA,
): Field {
  let best: { field: Field; miss: number; fraction: number } | null = null;
  for (let attempt = 0; attempt < 50; attempt++) {
    const field = draw(rng);
    const fraction = maskArea(maskOf(field, size, size)) / (size * size);
    if (fraction >= area.min && fraction <= area.max) return field;
    const miss = fraction < area.min ? area.min / Math.max(fraction, 1e-9) : fraction / area.max;
    if (!best || miss < best.miss) best = { field, miss, fraction };
  }
  // Rare with the shapes' parameter ranges: keep the closest, but never an empty mask.
  if (!best || best.fraction === 0) throw new Error('synthetic defect: 50 draws gave no defect pixels');
  return best.field;
}

export function unknownDefect(category: string, defect: string, known: readonly string[]): Error {
  return new Error(`synthetic ${category}: unknown defect "${defect}" (known: ${known.join(', ')})`);
}
