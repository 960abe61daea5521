import { type SyntheticCategory, defineCategory, drawDefectField } from './category.ts';
import {
  type Field,
  type Rgb,
  blobField,
  edge,
  intersectFields,
  jaggedPath,
  newImage,
  noiseField,
  paint,
  paintDefect,
  strokeField,
} from './raster.ts';

/**
 * An oblong white tablet with a score line and fine red speckles, on a black
 * tray, lit from the upper left. Nominal variation: position (±6 px at 256²),
 * rotation (±5°), size, tablet tint, the speckle pattern, light direction,
 * camera noise. Defects: a crack (dark hairline), a stain (a discoloured
 * patch), a missing piece chipped off the edge (the tray shows through).
 */
const DEFECTS = ['crack', 'stain', 'missing_piece'] as const;

export const pill: SyntheticCategory = defineCategory({
  name: 'pill',
  kind: 'object',
  description: 'white scored tablet with red speckles on a black tray; defects: crack, stain, missing piece',
  defects: DEFECTS,
  lighting: 0.08,
  noise: 0.01,
  draw(rng, size, defect) {
    const s = size / 256;
    const cx = size / 2 + clamp(rng.normal(0, 3), 6) * s;
    const cy = size / 2 + clamp(rng.normal(0, 3), 6) * s;
    const angle = clamp(rng.normal(0, 0.04), 0.09);
    const radius = 44 * s * (1 + clamp(rng.normal(0, 0.01), 0.025));
    const halfSpan = 48 * s * (1 + clamp(rng.normal(0, 0.01), 0.025));
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const lightAngle = (-3 * Math.PI) / 4 + rng.normal(0, 0.15);
    const light = normalise([Math.cos(lightAngle) * 0.55, Math.sin(lightAngle) * 0.55, 0.85]);
    const tint = rng.normal(0, 0.015);
    const body: Rgb = [0.93 + tint, 0.91 + tint, 0.85 + tint * 1.5];

    // Local frame: u along the tablet, v across; signed distance to the capsule outline.
    const local = (x: number, y: number) => {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      return { u: cos * dx + sin * dy, v: -sin * dx + cos * dy };
    };
    const shape = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const { u, v } = local(x, y);
        const along = Math.max(-halfSpan, Math.min(halfSpan, u));
        shape[y * size + x] = edge(radius - Math.hypot(u - along, v));
      }
    }

    let field: Field | null = null;
    let present = shape;
    if (defect === 'missing_piece') {
      field = drawDefectField(rng, size, (r) => {
        // A chip bitten out of the outline at a random point of it.
        const t = r.uniform(-1, 1);
        const side = r.bool() ? 1 : -1;
        const onCap = Math.abs(t) > 0.6;
        const a = onCap ? (t > 0 ? 0 : Math.PI) + r.uniform(-1, 1) : (side * Math.PI) / 2;
        const baseU = onCap ? Math.sign(t) * halfSpan : t * halfSpan;
        const pu = baseU + radius * Math.cos(a);
        const pv = onCap ? radius * Math.sin(a) : side * radius;
        const bite = blobField(size, size, r, {
          cx: cx + cos * pu - sin * pv,
          cy: cy + sin * pu + cos * pv,
          rx: r.uniform(14, 22) * s,
          ry: r.uniform(10, 15) * s,
          angle: angle + a + r.normal(0, 0.3),
          roughness: 0.35,
          lobes: 3,
        });
        return intersectFields(bite, shape);
      });
      present = new Float32Array(shape.length);
      for (let p = 0; p < shape.length; p++) present[p] = field[p] >= 0.5 ? 0 : shape[p];
    }

    // Speckles: tiny red-brown dots in the tablet mass (normal for this product).
    const speckles = new Float32Array(size * size);
    const count = rng.int(25, 50);
    for (let k = 0; k < count; k++) {
      const u = rng.uniform(-halfSpan - radius * 0.7, halfSpan + radius * 0.7);
      const v = rng.uniform(-radius * 0.8, radius * 0.8);
      const px = cx + cos * u - sin * v;
      const py = cy + sin * u + cos * v;
      const r = rng.uniform(0.7, 1.5) * s;
      for (let y = Math.floor(py - r - 1); y <= Math.ceil(py + r + 1); y++) {
        for (let x = Math.floor(px - r - 1); x <= Math.ceil(px + r + 1); x++) {
          if (x < 0 || y < 0 || x >= size || y >= size) continue;
          const p = y * size + x;
          speckles[p] = Math.max(speckles[p], edge(r - Math.hypot(x + 0.5 - px, y + 0.5 - py)));
        }
      }
    }
    const speckleColour: Rgb = [0.72, 0.3, 0.24];
    const powder = noiseField(size, size, rng, size / 5, size / 5);
    const trayNoise = noiseField(size, size, rng, size / 8, size / 8, 2);
    const image = newImage(size, size);
    paint(image, (x, y, p) => {
      const { u, v } = local(x, y);
      // Soft shadow of the tablet on the tray, offset away from the light.
      const su = u + 4 * s * light[0] / light[2];
      const sv = v + 4 * s * light[1] / light[2];
      const sAlong = Math.max(-halfSpan, Math.min(halfSpan, su));
      const shadow = 1 - 0.4 * edge(radius + 3 * s - Math.hypot(su - sAlong, sv), 4 * s);
      const t = 0.07 * (1 + 0.2 * trayNoise[p]) * shadow;
      const tray: Rgb = [t, t, t * 1.08];
      const cover = present[p];
      if (cover <= 0) return tray;
      // Dome: the surface normal tilts outwards towards the outline.
      const along = Math.max(-halfSpan, Math.min(halfSpan, u));
      const du = u - along;
      const q = Math.min(0.999, Math.hypot(du, v) / radius);
      const tilt = q * 0.85;
      const len = Math.hypot(du, v) || 1;
      const n = [(du / len) * tilt, (v / len) * tilt, Math.sqrt(1 - tilt * tilt)];
      const nx = cos * n[0] - sin * n[1];
      const ny = sin * n[0] + cos * n[1];
      const lambert = Math.max(0, nx * light[0] + ny * light[1] + n[2] * light[2]);
      let k = (0.45 + 0.55 * lambert) * (1 + 0.03 * powder[p]);
      // Score line across the middle: a shallow groove.
      k *= 1 - 0.3 * edge(1.1 * s - Math.abs(u)) * (1 - q * q);
      const base: Rgb = [body[0] * k, body[1] * k, body[2] * k];
      const sp = speckles[p] * (q < 0.92 ? 1 : 0);
      const pillColour: Rgb = [
        base[0] + sp * (speckleColour[0] * k - base[0]),
        base[1] + sp * (speckleColour[1] * k - base[1]),
        base[2] + sp * (speckleColour[2] * k - base[2]),
      ];
      return [
        tray[0] + cover * (pillColour[0] - tray[0]),
        tray[1] + cover * (pillColour[1] - tray[1]),
        tray[2] + cover * (pillColour[2] - tray[2]),
      ];
    });

    // Defects on the surface stay on the tablet (intersected with its inner part).
    const inner = new Float32Array(size * size);
    for (let p = 0; p < inner.length; p++) inner[p] = shape[p] >= 1 ? 1 : shape[p] * 0.9;
    const onTablet = (cxLocal: number, cyLocal: number) => ({
      x: cx + cos * cxLocal - sin * cyLocal,
      y: cy + sin * cxLocal + cos * cyLocal,
    });
    if (defect === 'crack') {
      field = drawDefectField(rng, size, (r) => {
        const start = onTablet(r.uniform(-halfSpan - radius * 0.5, halfSpan + radius * 0.5), r.uniform(-radius * 0.6, radius * 0.6));
        const heading = r.uniform(0, 2 * Math.PI);
        const path = jaggedPath(r, start, heading, r.uniform(50, 95) * s, 0.5, 3 * s);
        const hw = r.uniform(1.1, 1.8) * s;
        return intersectFields(strokeField(size, size, path, (t) => hw * (0.4 + 0.6 * Math.sin(Math.PI * t)) + 0.4), inner);
      });
      paintDefect(image, field, (o) => [o[0] * 0.3, o[1] * 0.28, o[2] * 0.27]);
    } else if (defect === 'stain') {
      const stainColour = rng.pick<Rgb>([
        [0.8, 0.6, 0.25], // yellow-brown
        [0.85, 0.45, 0.55], // pink
        [0.45, 0.55, 0.8], // blue-grey
      ]);
      field = drawDefectField(rng, size, (r) => {
        const c = onTablet(r.uniform(-halfSpan, halfSpan), r.uniform(-radius * 0.5, radius * 0.5));
        const blob = blobField(size, size, r, {
          cx: c.x,
          cy: c.y,
          rx: r.uniform(10, 17) * s,
          ry: r.uniform(7, 12) * s,
          angle: r.uniform(0, Math.PI),
          roughness: 0.35,
          lobes: 2,
        });
        return intersectFields(blob, inner);
      });
      paintDefect(image, field, (o) => [o[0] * stainColour[0], o[1] * stainColour[1], o[2] * stainColour[2]], 0.9);
    }
    return { image, field };
  },
});

function clamp(v: number, limit: number): number {
  return Math.max(-limit, Math.min(limit, v));
}

function normalise(v: number[]): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}
