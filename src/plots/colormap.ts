/**
 * Colormaps as 256-entry RGB lookup tables for anomaly-map overlays.
 * inferno: perceptually uniform, luminance rises monotonically (the 9 control
 * points plotly.js bundles from the colormap package, interpolated linearly);
 * turbo: Google's improved jet (polynomial fit by its author), the usual look
 * of anomaly heatmaps; jet: the classic, for comparison with older papers.
 */

export type ColormapName = 'inferno' | 'turbo' | 'jet';
export const COLORMAP_NAMES: readonly ColormapName[] = ['inferno', 'turbo', 'jet'];

/** 256 × RGB bytes, entry i for value i / 255. */
export type ColormapLut = Uint8Array;

const INFERNO_STOPS: [number, [number, number, number]][] = [
  [0, [0, 0, 4]],
  [0.13, [31, 12, 72]],
  [0.25, [85, 15, 109]],
  [0.38, [136, 34, 106]],
  [0.5, [186, 54, 85]],
  [0.63, [227, 89, 51]],
  [0.75, [249, 140, 10]],
  [0.88, [249, 201, 50]],
  [1, [252, 255, 164]],
];

function infernoAt(t: number): [number, number, number] {
  let k = 1;
  while (k < INFERNO_STOPS.length - 1 && INFERNO_STOPS[k][0] < t) k++;
  const [t0, c0] = INFERNO_STOPS[k - 1];
  const [t1, c1] = INFERNO_STOPS[k];
  const f = (t - t0) / (t1 - t0);
  return [0, 1, 2].map((c) => (c0[c] + f * (c1[c] - c0[c])) / 255) as [number, number, number];
}

// Anton Mikhailov's polynomial approximation of turbo (Google AI blog, 2019).
function turboAt(t: number): [number, number, number] {
  const r = 0.13572138 + t * (4.6153926 + t * (-42.66032258 + t * (132.13108234 + t * (-152.94239396 + t * 59.28637943))));
  const g = 0.09140261 + t * (2.19418839 + t * (4.84296658 + t * (-14.18503333 + t * (4.27729857 + t * 2.82956604))));
  const b = 0.1066733 + t * (12.64194608 + t * (-60.58204836 + t * (110.36276771 + t * (-89.90310912 + t * 27.34824973))));
  return [r, g, b];
}

function jetAt(t: number): [number, number, number] {
  const ramp = (x: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - x)));
  return [ramp(3), ramp(2), ramp(1)];
}

const GENERATORS: Record<ColormapName, (t: number) => [number, number, number]> = { inferno: infernoAt, turbo: turboAt, jet: jetAt };
const cache = new Map<ColormapName, ColormapLut>();

/** The lookup table of a colormap (built once, shared: do not modify). */
export function colormapLut(name: ColormapName): ColormapLut {
  const known = cache.get(name);
  if (known) return known;
  const generator = GENERATORS[name];
  if (!generator) throw new Error(`unknown colormap "${name}"; use one of ${COLORMAP_NAMES.join(', ')}`);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const rgb = generator(i / 255);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(Math.min(1, Math.max(0, rgb[c])) * 255);
  }
  cache.set(name, lut);
  return lut;
}

/** The LUT index of a value in [0, 1] (clamped; NaN counts as 0). */
export function lutIndex(value: number): number {
  if (!(value > 0)) return 0;
  return value >= 1 ? 255 : Math.round(value * 255);
}

/** Relative luminance (Rec. 709 weights on sRGB bytes, 0..1): for checks that a map reads dark → bright. */
export function luminance(r: number, g: number, b: number): number {
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
