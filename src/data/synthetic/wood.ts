import type { Rng } from '../../util/rng.ts';
import type { RgbImage } from '../types.ts';
import { type SyntheticCategory, centre, defineCategory, drawDefectField } from './category.ts';
import {
  type Field,
  type Rgb,
  blobField,
  jaggedPath,
  maxFields,
  mix,
  newImage,
  noiseField,
  paint,
  paintDefect,
  pointInside,
  smoothPath,
  strokeField,
} from './raster.ts';

/**
 * A planed wood board with vertical grain: growth rings (light early wood,
 * dark late wood) bent by low-frequency noise, fine fibre streaks along the
 * grain. Nominal variation: ring spacing and waviness, grain angle, colour,
 * lighting, camera noise. Defects: a scratch (lighter exposed wood), a crack
 * (dark, jagged, roughly along the grain), a liquid stain (darker, with a rim).
 */
const DEFECTS = ['scratch', 'crack', 'liquid'] as const;

export const wood: SyntheticCategory = defineCategory({
  name: 'wood',
  kind: 'texture',
  description: 'wood board with vertical grain; defects: scratch, crack, liquid stain',
  defects: DEFECTS,
  lighting: 0.1,
  noise: 0.01,
  draw(rng, size, defect) {
    const s = size / 256;
    const image = board(rng, size);
    if (defect !== null) {
      let field: Field;
      switch (defect) {
        case 'scratch': {
          field = drawDefectField(rng, size, (r) => {
            const start = pointInside(r, size, size, 50 * s);
            const heading = r.uniform(0, 2 * Math.PI);
            const path = smoothPath(r, start, heading, r.uniform(80, 150) * s, 0.012);
            const hw = r.uniform(1.2, 1.8) * s;
            // Tapered ends, like a real scratch.
            return strokeField(size, size, path, (t) => hw * Math.min(1, 4 * t, 4 * (1 - t)) + 0.3);
          });
          paintDefect(image, field, (o) => {
            // Torn fibres scatter light: brighter and paler than the surface.
            const lum = (o[0] + o[1] + o[2]) / 3;
            return mix(o, [lum * 1.5 + 0.18, lum * 1.45 + 0.16, lum * 1.35 + 0.14], 0.85);
          });
          break;
        }
        case 'crack': {
          field = drawDefectField(rng, size, (r) => {
            const start = pointInside(r, size, size, 50 * s);
            // Cracks run with the grain (vertical), give or take.
            const heading = (r.bool() ? 1 : -1) * Math.PI / 2 + r.normal(0, 0.25);
            const length = r.uniform(60, 130) * s;
            const main = jaggedPath(r, start, heading, length, 0.45, 3 * s);
            const hw = r.uniform(1.4, 2.4) * s;
            let f = strokeField(size, size, main, (t) => hw * (0.35 + 0.65 * Math.sin(Math.PI * t)) + 0.4);
            if (r.bool(0.6)) {
              const from = main[Math.floor(r.uniform(0.3, 0.7) * main.length)];
              const branch = jaggedPath(r, from, heading + r.uniform(0.5, 0.9) * (r.bool() ? 1 : -1), length * 0.35, 0.5, 3 * s);
              f = maxFields(f, strokeField(size, size, branch, (t) => hw * 0.6 * (1 - t) + 0.4));
            }
            return f;
          });
          paintDefect(image, field, (o) => [o[0] * 0.12 + 0.02, o[1] * 0.1 + 0.015, o[2] * 0.1 + 0.01]);
          break;
        }
        case 'liquid': {
          const blob = { roughness: 0.3, lobes: 2 };
          field = drawDefectField(rng, size, (r) =>
            blobField(size, size, r, {
              ...centre(r, size, 34 * s),
              rx: r.uniform(13, 24) * s,
              ry: r.uniform(10, 18) * s,
              angle: r.uniform(0, Math.PI),
              ...blob,
            }),
          );
          const tint: Rgb = rng.pick<Rgb>([
            [0.55, 0.42, 0.32], // water: darker, same hue
            [0.42, 0.26, 0.16], // oil / coffee: darker and warmer
            [0.5, 0.48, 0.52], // grey dirty water
          ]);
          // Darker rim where the liquid dried (field near 0.5 is the outline).
          paintDefect(image, field, (o, _x, _y, p) => {
            const rim = 1 - Math.min(1, (field[p] - 0.5) * 2.2);
            const k = 1 - 0.25 * rim;
            return [o[0] * tint[0] * 1.15 * k, o[1] * tint[1] * 1.15 * k, o[2] * tint[2] * 1.15 * k];
          });
          break;
        }
      }
      return { image, field };
    }
    return { image, field: null };
  },
});

function board(rng: Rng, size: number): RgbImage {
  const s = size / 256;
  const ringSpacing = rng.uniform(13, 20) * s;
  const angle = rng.normal(0, 0.04);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const offset = rng.uniform(0, 100);
  const waviness = rng.uniform(10, 22) * s;
  const shade = rng.normal(0, 0.03);
  const early: Rgb = [0.8 + shade, 0.62 + shade, 0.42 + shade * 0.7];
  const late: Rgb = [0.5 + shade, 0.31 + shade, 0.17 + shade * 0.6];
  // Rings bend slowly along the grain and a little across it.
  const bend = noiseField(size, size, rng, 1.5, 0.6, 3);
  const fibres = noiseField(size, size, rng, size / 3, 3, 2);
  const pores = noiseField(size, size, rng, size / 2, size / 16);
  const image = newImage(size, size);
  paint(image, (x, y, p) => {
    const u = cos * x + sin * y;
    const t = (u + waviness * bend[p] * 3) / ringSpacing + offset;
    const f = t - Math.floor(t);
    // Each ring darkens gradually into late wood, then jumps back to light early wood.
    const lateness = f < 0.45 ? 0 : ((f - 0.45) / 0.55) ** 2;
    const c = mix(early, late, Math.min(1, Math.max(0, 0.8 * lateness + 0.2 * fibres[p] + 0.1)));
    const k = 1 + 0.1 * fibres[p] - 0.15 * Math.max(0, pores[p] - 0.25);
    return [c[0] * k, c[1] * k, c[2] * k];
  });
  return image;
}
