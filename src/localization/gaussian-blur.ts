/**
 * Gaussian smoothing of single-channel maps (anomaly maps, cue maps), as plain
 * functions on arrays. Separable: one 1-D pass along rows, one along columns.
 * Defaults follow anomalib's GaussianBlur2d: kernel radius int(4σ + 0.5), i.e.
 * a 33-tap kernel at σ = 4, and reflect padding (the edge pixel is not repeated),
 * so borders are not darkened as zero padding would.
 */

/** Normalised 1-D Gaussian kernel of length 2·radius + 1. */
export function gaussianKernel1d(sigma: number, radius = Math.trunc(4 * sigma + 0.5)): Float64Array {
  if (!(sigma > 0)) throw new Error(`gaussian sigma must be > 0, got ${sigma}`);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

/** Reflect an index into [0, n) without repeating the edge (…2 1 | 0 1 2 … n−1 | n−2 …). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - m;
  return m;
}

/**
 * Blur a row-major width×height map with a Gaussian of standard deviation
 * `sigma` pixels. σ ≤ 0 returns a copy. Returns a new array.
 */
export function gaussianBlur(map: ArrayLike<number>, width: number, height: number, sigma: number): Float32Array {
  if (map.length !== width * height) throw new Error(`gaussianBlur: expected ${width * height} values, got ${map.length}`);
  if (!(sigma > 0)) return Float32Array.from(map);
  const kernel = gaussianKernel1d(sigma);
  const radius = (kernel.length - 1) / 2;
  const horizontal = new Float64Array(width * height);
  // Precomputed reflected offsets per axis keep the inner loops branch-free.
  const columnsAt = (n: number) => {
    const table = new Int32Array(n * kernel.length);
    for (let x = 0; x < n; x++) for (let k = -radius; k <= radius; k++) table[x * kernel.length + k + radius] = reflectIndex(x + k, n);
    return table;
  };
  const xs = columnsAt(width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      const t = x * kernel.length;
      for (let k = 0; k < kernel.length; k++) sum += kernel[k] * map[row + xs[t + k]];
      horizontal[row + x] = sum;
    }
  }
  const ys = columnsAt(height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const t = y * kernel.length;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = 0; k < kernel.length; k++) sum += kernel[k] * horizontal[ys[t + k] * width + x];
      out[y * width + x] = sum;
    }
  }
  return out;
}
