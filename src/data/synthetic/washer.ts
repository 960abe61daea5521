import { perlinField } from '../perlin.ts';
import { type SyntheticCategory, defineCategory, drawDefectField } from './category.ts';
import {
  type Field,
  type Rgb,
  blobField,
  edge,
  intersectFields,
  newImage,
  noiseField,
  paint,
  paintDefect,
  smoothPath,
  strokeField,
} from './raster.ts';

/**
 * A flat steel washer on a dark mat, photographed from above. Nominal
 * variation: position (±8 px at 256²), rotation (the turned grooves and the
 * brushing pattern turn with it), size (±2%), light direction and strength,
 * mat texture, camera noise. Defects: a missing piece broken out of the rim
 * (the mat shows through), contamination (a dark or rusty particle on the
 * metal), a scratch across the metal.
 */
const DEFECTS = ['missing_piece', 'contamination', 'scratch'] as const;

export const washer: SyntheticCategory = defineCategory({
  name: 'washer',
  kind: 'object',
  description: 'steel washer on a dark mat; defects: missing piece, contamination, scratch',
  defects: DEFECTS,
  lighting: 0.1,
  noise: 0.012,
  draw(rng, size, defect) {
    const s = size / 256;
    const cx = size / 2 + clampedNormal(rng, 4, 8) * s;
    const cy = size / 2 + clampedNormal(rng, 4, 8) * s;
    const outer = 80 * s * (1 + clampedNormal(rng, 0.01, 0.02));
    const inner = 36 * s * (1 + clampedNormal(rng, 0.01, 0.02));
    const rotation = rng.uniform(0, 2 * Math.PI);
    const light = Math.PI / 4 + rng.normal(0, 0.3);
    const brightness = rng.normal(0, 0.03);
    const metal: Rgb = [0.66, 0.67, 0.69].map((v) => v + brightness + rng.normal(0, 0.006)) as Rgb;
    const mat: Rgb = [0.15, 0.16, 0.18];

    // Coverage of the washer ring (1 inside, soft one-pixel edges).
    const ring = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        ring[y * size + x] = Math.min(edge(outer - d), edge(d - inner));
      }
    }
    // A missing piece changes the object's shape, so it is cut before rendering.
    let field: Field | null = null;
    let present = ring;
    if (defect === 'missing_piece') {
      field = drawDefectField(rng, size, (r) => {
        const a = r.uniform(0, 2 * Math.PI);
        const rad = outer + r.uniform(-4, 4) * s;
        const bite = blobField(size, size, r, {
          cx: cx + rad * Math.cos(a),
          cy: cy + rad * Math.sin(a),
          rx: r.uniform(15, 24) * s,
          ry: r.uniform(11, 17) * s,
          angle: a + r.normal(0, 0.3),
          roughness: 0.35,
          lobes: 3,
        });
        return intersectFields(bite, ring);
      });
      present = new Float32Array(ring.length);
      for (let p = 0; p < ring.length; p++) present[p] = field[p] >= 0.5 ? 0 : ring[p];
    }

    const matNoise = noiseField(size, size, rng, size / 6, size / 6, 2);
    const grooves = rng.uniform(1.6, 2.2) * s;
    const brushing = perlinField(rng);
    const image = newImage(size, size);
    const shadowDx = -Math.cos(light) * 3 * s;
    const shadowDy = -Math.sin(light) * 3 * s;
    paint(image, (x, y, p) => {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const d = Math.hypot(dx, dy);
      const theta = Math.atan2(dy, dx);
      // Mat, darker in the washer's soft shadow (cast away from the light).
      const sd = Math.hypot(dx - shadowDx, dy - shadowDy);
      const shadow = sd < outer + 4 * s && sd > inner - 4 * s ? 0.75 : 1;
      const m = (1 + 0.12 * matNoise[p]) * shadow;
      const background: Rgb = [mat[0] * m, mat[1] * m, mat[2] * m];
      const cover = present[p];
      if (cover <= 0) return background;
      // Metal: turned grooves (concentric), brushing that turns with the part,
      // anisotropic highlight towards the light, bright bevels at both edges.
      const groove = 1 + 0.04 * Math.sin((2 * Math.PI * d) / grooves);
      // Sampled on circles (seamless in angle), finer across the radius than along it.
      const turned = theta - rotation;
      const polar = brushing.at(2 * Math.cos(turned), 2 * Math.sin(turned) + (0.4 * d) / s);
      const sheen = 0.78 + 0.3 * Math.cos(2 * (theta - light)) * (0.6 + 0.4 * Math.cos(theta - light));
      const bevel = Math.max(0, 1 - Math.min(outer - d, d - inner) / (3 * s));
      const facing = Math.cos(theta - light) * (d > (outer + inner) / 2 ? 1 : -1);
      const k = groove * sheen * (1 + 0.08 * polar) * (1 + 0.35 * bevel * facing);
      const steel: Rgb = [metal[0] * k, metal[1] * k, metal[2] * k];
      return [
        background[0] + cover * (steel[0] - background[0]),
        background[1] + cover * (steel[1] - background[1]),
        background[2] + cover * (steel[2] - background[2]),
      ];
    });

    if (defect === 'contamination') {
      const colour = rng.pick<Rgb>([
        [0.08, 0.07, 0.06], // dirt
        [0.45, 0.22, 0.08], // rust flake
        [0.12, 0.18, 0.4], // blue plastic chip
      ]);
      const grain = noiseField(size, size, rng, size / 4, size / 4);
      field = drawDefectField(rng, size, (r) => {
        const a = r.uniform(0, 2 * Math.PI);
        const rad = r.uniform(inner + 10 * s, outer - 10 * s);
        const particle = blobField(size, size, r, {
          cx: cx + rad * Math.cos(a),
          cy: cy + rad * Math.sin(a),
          rx: r.uniform(8, 13) * s,
          ry: r.uniform(6, 10) * s,
          angle: r.uniform(0, Math.PI),
          roughness: 0.4,
          lobes: 2.5,
        });
        return intersectFields(particle, ring);
      });
      paintDefect(image, field, (_o, _x, _y, p) => {
        const k = 1 + 0.35 * grain[p];
        return [colour[0] * k, colour[1] * k, colour[2] * k];
      });
    } else if (defect === 'scratch') {
      field = drawDefectField(rng, size, (r) => {
        const a = r.uniform(0, 2 * Math.PI);
        const rad = r.uniform(inner + 6 * s, outer - 6 * s);
        const start = { x: cx + rad * Math.cos(a), y: cy + rad * Math.sin(a) };
        const path = smoothPath(r, start, r.uniform(0, 2 * Math.PI), r.uniform(50, 90) * s, 0.01);
        const hw = r.uniform(1.3, 2) * s;
        return intersectFields(strokeField(size, size, path, (t) => hw * Math.min(1, 5 * t, 5 * (1 - t)) + 0.4), ring);
      });
      const bright = rng.bool();
      // A groove: dark where it shades, bright where its wall catches the light.
      paintDefect(image, field, (o) => (bright ? [0.97, 0.97, 0.95] : [o[0] * 0.25, o[1] * 0.25, o[2] * 0.27]));
    }
    return { image, field };
  },
});

function clampedNormal(rng: { normal(mean?: number, std?: number): number }, std: number, limit: number): number {
  return Math.max(-limit, Math.min(limit, rng.normal(0, std)));
}
