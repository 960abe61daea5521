import type { Rng } from '../../util/rng.ts';
import type { RgbImage } from '../types.ts';
import { type SyntheticCategory, centre, defineCategory, drawDefectField } from './category.ts';
import {
  type Field,
  type Rgb,
  blobField,
  newImage,
  noiseField,
  paint,
  paintDefect,
  pointInside,
  smoothPath,
  strokeField,
} from './raster.ts';

/**
 * A woven carpet: a 2/2 twill of warp and weft threads (about 32 across at
 * 256²), each thread with its own tone and fibre streaks. Nominal variation:
 * thread pitch, a slight rotation and shift of the weave, colour, mottling,
 * lighting and camera noise. Defects: a hole (dark backing shows), a stain
 * (dye soaked into the threads, texture still visible), a foreign thread.
 */
const DEFECTS = ['hole', 'stain', 'thread'] as const;

export const carpet: SyntheticCategory = defineCategory({
  name: 'carpet',
  kind: 'texture',
  description: 'woven twill carpet; defects: hole, stain, foreign thread',
  defects: DEFECTS,
  lighting: 0.08,
  noise: 0.012,
  draw(rng, size, defect) {
    const s = size / 256;
    const image = weave(rng, size);
    if (defect !== null) {
      const fibre = noiseField(size, size, rng, size / 3, size / 3);
      let field: Field;
      switch (defect) {
        case 'hole': {
          field = drawDefectField(rng, size, (r) =>
            blobField(size, size, r, {
              ...centre(r, size, 24 * s),
              rx: r.uniform(9, 15) * s,
              ry: r.uniform(8, 14) * s,
              angle: r.uniform(0, Math.PI),
              roughness: 0.3,
              lobes: 2,
            }),
          );
          const backing: Rgb = [0.09, 0.075, 0.07];
          paintDefect(image, field, (_o, _x, _y, p) => {
            const k = 0.7 + 0.6 * Math.abs(fibre[p]);
            return [backing[0] * k, backing[1] * k, backing[2] * k];
          });
          break;
        }
        case 'stain': {
          field = drawDefectField(rng, size, (r) =>
            blobField(size, size, r, {
              ...centre(r, size, 30 * s),
              rx: r.uniform(12, 22) * s,
              ry: r.uniform(8, 15) * s,
              angle: r.uniform(0, Math.PI),
              roughness: 0.35,
              lobes: 2.5,
            }),
          );
          const dye = rng.pick<Rgb>([
            [0.8, 0.22, 0.2], // wine
            [0.42, 0.27, 0.14], // coffee
            [0.22, 0.3, 0.72], // ink
            [0.3, 0.55, 0.22], // grass
          ]);
          const depth = rng.uniform(0.75, 0.95);
          paintDefect(
            image,
            field,
            (o) => {
              // Dye keeps the threads' light and dark pattern: scale it by their brightness.
              const lum = (o[0] + o[1] + o[2]) / 3 / 0.55;
              return [dye[0] * lum, dye[1] * lum, dye[2] * lum];
            },
            depth,
          );
          break;
        }
        case 'thread': {
          const colour = rng.pick<Rgb>([
            [0.78, 0.12, 0.1],
            [0.12, 0.22, 0.72],
            [0.06, 0.06, 0.07],
            [0.88, 0.78, 0.15],
          ]);
          field = drawDefectField(rng, size, (r) => {
            const start = pointInside(r, size, size, 40 * s);
            const path = smoothPath(r, start, r.uniform(0, 2 * Math.PI), r.uniform(70, 140) * s, 0.05);
            const hw = r.uniform(1.3, 1.9) * s;
            return strokeField(size, size, path, hw);
          });
          paintDefect(image, field, (_o, _x, _y, p) => {
            const k = 0.85 + 0.25 * fibre[p];
            return [colour[0] * k, colour[1] * k, colour[2] * k];
          });
          break;
        }
      }
      return { image, field };
    }
    return { image, field: null };
  },
});

function weave(rng: Rng, size: number): RgbImage {
  const s = size / 256;
  const pitch = rng.uniform(7.6, 8.4) * s;
  const angle = rng.normal(0, 0.015);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const ox = rng.uniform(8, 12) * pitch;
  const oy = rng.uniform(8, 12) * pitch;
  const tint = rng.normal(0, 0.025);
  const warp: Rgb = [0.62 + tint, 0.56 + tint, 0.5 + tint * 0.5];
  const weft: Rgb = [0.5 + tint, 0.45 + tint, 0.41 + tint * 0.5];
  // One tone per thread index (threads differ slightly in dye uptake).
  const tones = Float32Array.from({ length: 512 }, () => 1 + rng.normal(0, 0.05));
  const fibreAcross = noiseField(size, size, rng, size / 2.5, size / 12);
  const fibreAlong = noiseField(size, size, rng, size / 12, size / 2.5);
  const mottle = noiseField(size, size, rng, 3, 3, 3);
  const image = newImage(size, size);
  paint(image, (x, y, p) => {
    const u = cos * x + sin * y + ox;
    const v = -sin * x + cos * y + oy;
    const i = Math.floor(u / pitch);
    const j = Math.floor(v / pitch);
    const fu = u / pitch - i;
    const fv = v / pitch - j;
    const warpOnTop = (((i + j) % 4) + 4) % 4 < 2;
    // Round thread: bright on its crown, dark in the gaps between threads.
    const across = warpOnTop ? fu : fv;
    const along = warpOnTop ? fv : fu;
    const crown = Math.sin(Math.PI * across) ** 0.6;
    const dip = 0.88 + 0.12 * Math.sin(Math.PI * along);
    const tone = warpOnTop ? tones[i & 511] : tones[(j + 256) & 511];
    const fibre = warpOnTop ? fibreAcross[p] : fibreAlong[p];
    const k = (0.3 + 0.7 * crown) * dip * tone * (1 + 0.14 * fibre) * (1 + 0.08 * mottle[p]);
    const base = warpOnTop ? warp : weft;
    return [base[0] * k, base[1] * k, base[2] * k];
  });
  return image;
}
