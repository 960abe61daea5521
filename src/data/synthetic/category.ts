import type { Rng } from '../../util/rng.ts';
import type { Mask, RgbImage } from '../types.ts';
import { type Field, illuminate, maskArea, maskOf, pointInside, sensorNoise } from './raster.ts';

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

/** What a category draws itself: the picture, and for a defect image the defect's field. */
export interface DrawnSample {
  image: RgbImage;
  field: Field | null;
}

/** A category as `defineCategory` takes it: its description, its picture, and its finish. */
export interface CategorySpec<D extends string> {
  readonly name: string;
  readonly kind: 'texture' | 'object';
  readonly description: string;
  readonly defects: readonly D[];
  /** Strength of the uneven lighting laid over the finished picture (`illuminate`). */
  readonly lighting: number;
  /** Sigma of the camera noise added last (`sensorNoise`). */
  readonly noise: number;
  /** The picture, nominal (defect null) or with the given (known) defect painted in. */
  draw(rng: Rng, size: number, defect: D | null): DrawnSample;
}

/**
 * The scaffolding every category shares: an unknown defect is refused, the
 * category draws its picture (and defect field), then lighting and camera
 * noise are laid over it in that order from the same `rng`, and the defect's
 * field becomes the returned mask.
 */
export function defineCategory<D extends string>(spec: CategorySpec<D>): SyntheticCategory {
  const known = (defect: string): defect is D => (spec.defects as readonly string[]).includes(defect);
  return {
    name: spec.name,
    kind: spec.kind,
    description: spec.description,
    defects: spec.defects,
    render(rng, size, defect) {
      if (defect !== null && !known(defect)) throw unknownDefect(spec.name, defect, spec.defects);
      const { image, field } = spec.draw(rng, size, defect);
      illuminate(image, rng, spec.lighting);
      sensorNoise(image, rng, spec.noise);
      return { image, mask: field ? maskOf(field, size, size) : null };
    },
  };
}

/** A random centre at least `margin` from the border, for a blob's `cx`/`cy`. */
export function centre(rng: Rng, size: number, margin: number): { cx: number; cy: number } {
  const p = pointInside(rng, size, size, margin);
  return { cx: p.x, cy: p.y };
}
