import type { Rng } from '../util/rng.ts';
import { fractalPerlin2d } from './perlin.ts';
import type { RgbImage } from './types.ts';

/**
 * Seeded procedural textures: the anomaly source when no texture folder (e.g.
 * DTD) is given. Each kind mixes two or three random colours through a
 * pattern field in [0,1]; all draws come from the Rng passed in.
 */
export const PROCEDURAL_TEXTURE_KINDS = ['marble', 'clouds', 'stripes', 'checker', 'dots', 'cracks'] as const;
export type ProceduralTextureKind = (typeof PROCEDURAL_TEXTURE_KINDS)[number];

type Rgb = [number, number, number];

export function proceduralTexture(kind: ProceduralTextureKind, width: number, height: number, rng: Rng): RgbImage {
  const pattern = PATTERNS[kind](width, height, rng);
  const palette: Rgb[] = [randomColour(rng), randomColour(rng), randomColour(rng)];
  // Fine grain so flat regions still carry texture a CNN can see.
  const grain = fractalPerlin2d(width, height, width / 4, height / 4, 1, rng);
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const t = pattern[p];
    // Two-segment ramp through the three colours.
    const [c0, c1, w] = t < 0.5 ? [palette[0], palette[1], t * 2] : [palette[1], palette[2], t * 2 - 1];
    const g = 1 + 0.08 * grain[p];
    for (let c = 0; c < 3; c++) out[p * 3 + c] = clamp01((c0[c] * (1 - w) + c1[c] * w) * g);
  }
  return { width, height, data: out };
}

/** A texture of a random kind. */
export function randomProceduralTexture(width: number, height: number, rng: Rng): RgbImage {
  return proceduralTexture(rng.pick(PROCEDURAL_TEXTURE_KINDS), width, height, rng);
}

type PatternFn = (width: number, height: number, rng: Rng) => Float32Array;

const PATTERNS: Record<ProceduralTextureKind, PatternFn> = {
  // Veins: a sine of a turbulent phase.
  marble(width, height, rng) {
    const noise = fractalPerlin2d(width, height, 4, 4, 5, rng);
    const angle = rng.uniform(0, Math.PI);
    const freq = rng.uniform(3, 10) / Math.max(width, height);
    const turbulence = rng.uniform(3, 8);
    return mapPixels(width, height, (x, y, p) => {
      const phase = (x * Math.cos(angle) + y * Math.sin(angle)) * freq * 2 * Math.PI + turbulence * noise[p];
      return 0.5 + 0.5 * Math.sin(phase);
    });
  },
  clouds(width, height, rng) {
    const base = rng.uniform(1, 4);
    const noise = fractalPerlin2d(width, height, base, base, 6, rng, rng.uniform(0.45, 0.65));
    return mapPixels(width, height, (_x, _y, p) => clamp01(0.5 + noise[p]));
  },
  stripes(width, height, rng) {
    const noise = fractalPerlin2d(width, height, 3, 3, 3, rng);
    const angle = rng.uniform(0, Math.PI);
    const period = rng.uniform(6, 40);
    const wobble = rng.uniform(0, 2);
    const sharp = rng.bool();
    return mapPixels(width, height, (x, y, p) => {
      const s = Math.sin(((x * Math.cos(angle) + y * Math.sin(angle)) / period) * 2 * Math.PI + wobble * noise[p]);
      return sharp ? (s > 0 ? 1 : 0) : 0.5 + 0.5 * s;
    });
  },
  checker(width, height, rng) {
    const angle = rng.uniform(0, Math.PI / 2);
    const cell = rng.uniform(8, 48);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    return mapPixels(width, height, (x, y) => {
      const u = Math.floor((x * cos + y * sin) / cell);
      const v = Math.floor((-x * sin + y * cos) / cell);
      return (u + v) & 1 ? 1 : 0;
    });
  },
  dots(width, height, rng) {
    const out = new Float32Array(width * height);
    const count = rng.int(15, 80);
    const maxR = Math.max(3, Math.min(width, height) / rng.uniform(8, 20));
    for (let k = 0; k < count; k++) {
      const cx = rng.uniform(0, width);
      const cy = rng.uniform(0, height);
      const r = rng.uniform(0.3, 1) * maxR;
      const value = rng.bool(0.7) ? 1 : 0.5;
      const x0 = Math.max(0, Math.floor(cx - r - 1));
      const x1 = Math.min(width - 1, Math.ceil(cx + r + 1));
      const y0 = Math.max(0, Math.floor(cy - r - 1));
      const y1 = Math.min(height - 1, Math.ceil(cy + r + 1));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
          const a = clamp01(r - d + 0.5); // one-pixel anti-aliased edge
          const p = y * width + x;
          out[p] = Math.max(out[p], a * value);
        }
      }
    }
    return out;
  },
  // Dark jagged lines (random walks) on a cloudy ground.
  cracks(width, height, rng) {
    const ground = fractalPerlin2d(width, height, 3, 3, 4, rng);
    const out = mapPixels(width, height, (_x, _y, p) => clamp01(0.75 + 0.5 * ground[p]));
    const lines = rng.int(3, 9);
    for (let k = 0; k < lines; k++) {
      let x = rng.uniform(0, width);
      let y = rng.uniform(0, height);
      let heading = rng.uniform(0, 2 * Math.PI);
      const steps = rng.int(Math.floor(width / 3), width * 2);
      const halfWidth = rng.uniform(0.6, 2.2);
      for (let s = 0; s < steps; s++) {
        heading += rng.normal(0, 0.35);
        x += Math.cos(heading);
        y += Math.sin(heading);
        stamp(out, width, height, x, y, halfWidth);
      }
    }
    return out;
  },
};

function stamp(field: Float32Array, width: number, height: number, cx: number, cy: number, r: number): void {
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(width - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(height - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      const p = y * width + x;
      field[p] = Math.min(field[p], clamp01(d - r + 0.5) * field[p]);
    }
  }
}

function mapPixels(width: number, height: number, f: (x: number, y: number, p: number) => number): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = f(x, y, y * width + x);
  return out;
}

/** A random colour from HSV with moderate to full saturation and value. */
function randomColour(rng: Rng): Rgb {
  return hsvToRgb(rng.next(), rng.uniform(0.2, 1), rng.uniform(0.15, 1));
}

export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
