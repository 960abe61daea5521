import type { Mask } from '../../data/types.ts';
import { checkMapAndMask, type ScoreMap } from './base.ts';
import { type ScoreCounterOptions, WeightedScoreCounter } from './score-counter.ts';

/**
 * AUPRO: area under the per-region-overlap (PRO) curve against the false
 * positive rate, up to FPR `maxFpr` (default 0.3), divided by `maxFpr`. Follows
 * MVTec AD's reference evaluation code (`compute_pro` + `trapezoid`):
 * - regions are the 8-connected components of each ground-truth mask;
 * - at a threshold t, PRO(t) = mean over all regions of the fraction of the
 *   region's pixels scoring >= t, FPR(t) = share of defect-free pixels >= t;
 * - one curve point per distinct score, plus (0, 0) and (1, 1);
 * - the area is the trapezoid, cut at maxFpr by linear interpolation.
 * Pixels are streamed through a WeightedScoreCounter, so memory is bounded and
 * the curve is exact while the maps hold at most its exact limit of distinct scores.
 */
export interface AuproOptions extends ScoreCounterOptions {
  /** Integration limit on the false positive rate, in (0, 1]. */
  maxFpr?: number;
}

export interface ProCurve {
  fpr: Float64Array;
  pro: Float64Array;
}

export interface ConnectedComponents {
  /** 0 for background, 1..count for each region. */
  labels: Int32Array;
  count: number;
  /** sizes[r] = pixels of region r (sizes[0] unused). */
  sizes: Int32Array;
}

/** 8-connected components of the non-zero pixels of a mask (scipy.ndimage.label with a 3×3 structure). */
export function connectedComponents8(mask: ArrayLike<number>, width: number, height: number): ConnectedComponents {
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const sizes: number[] = [0];
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    count++;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const p = stack[--top];
      size++;
      const px = p % width;
      const py = (p - px) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const y = py + dy;
        if (y < 0 || y >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const x = px + dx;
          if (x < 0 || x >= width) continue;
          const q = y * width + x;
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes: Int32Array.from(sizes) };
}

/** MVTec's `trapezoid(x, y, x_max)`: area under y(x) for x <= xMax, interpolating at xMax. */
export function trapezoidUpTo(x: ArrayLike<number>, y: ArrayLike<number>, xMax: number): number {
  let inX = false;
  for (let i = 0; i < x.length; i++) if (x[i] === xMax) inX = true;
  let correction = 0;
  if (!inX) {
    // First index with x > xMax (bisect_right); the curve spans [0, 1] so it exists.
    let ins = 0;
    while (ins < x.length && x[ins] <= xMax) ins++;
    if (ins === 0 || ins === x.length) throw new Error(`trapezoidUpTo: xMax ${xMax} outside the curve's range`);
    const yAt = y[ins - 1] + ((y[ins] - y[ins - 1]) * (xMax - x[ins - 1])) / (x[ins] - x[ins - 1]);
    correction = 0.5 * (yAt + y[ins - 1]) * (xMax - x[ins - 1]);
  }
  let area = 0;
  let prev = -1;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > xMax) continue;
    if (prev >= 0) area += 0.5 * (y[i] + y[prev]) * (x[i] - x[prev]);
    prev = i;
  }
  return area + correction;
}

/** Streams maps and masks, then gives the PRO curve and its normalised area. */
export class AuproAccumulator {
  private readonly counter: WeightedScoreCounter;
  private readonly maxFpr: number;
  private maps = 0;
  private regions = 0;
  private defectFreePixels = 0;

  constructor(opts: AuproOptions = {}) {
    this.maxFpr = opts.maxFpr ?? 0.3;
    if (!(this.maxFpr > 0 && this.maxFpr <= 1)) throw new Error(`aupro: maxFpr must be in (0, 1], got ${opts.maxFpr}`);
    this.counter = new WeightedScoreCounter(opts);
  }

  add(map: ScoreMap, mask: Mask | ScoreMap): void {
    const index = this.maps;
    if (map.width !== mask.width || map.height !== mask.height) {
      throw new Error(
        `aupro: map ${index} is ${map.width}×${map.height} but its mask is ${mask.width}×${mask.height}; ` +
          'resize the mask to the map size',
      );
    }
    checkMapAndMask('aupro', index, map.data.length, mask.data.length);
    checkMapAndMask('aupro', index, map.width * map.height, map.data.length);
    const cc = connectedComponents8(mask.data, mask.width, mask.height);
    // Defect-free pixels count 1 towards the FPR; region pixels 1/size towards PRO.
    const weight = new Float64Array(cc.labels.length);
    for (let i = 0; i < weight.length; i++) {
      const r = cc.labels[i];
      weight[i] = r === 0 ? 1 : 1 / cc.sizes[r];
      if (r === 0) this.defectFreePixels++;
    }
    this.counter.add(map.data, cc.labels, weight, `aupro: map ${index}`);
    this.regions += cc.count;
    this.maps++;
  }

  /** The PRO curve from (0, 0) through every distinct score, highest first, to (1, 1). */
  curve(): ProCurve {
    if (this.regions === 0) throw new Error('aupro: no defect region in any mask; add maps of anomalous images');
    if (this.defectFreePixels === 0) throw new Error('aupro: every pixel is defective; the FPR is undefined');
    const { channel0: fp, channel1: pro } = this.counter.totals();
    const m = fp.length;
    const fpr = new Float64Array(m + 2);
    const proCurve = new Float64Array(m + 2);
    let fpSum = 0;
    let proSum = 0;
    for (let k = 0; k < m; k++) {
      const j = m - 1 - k; // descending scores
      fpSum += fp[j];
      proSum += pro[j];
      fpr[k + 1] = Math.min(1, fpSum / this.defectFreePixels);
      proCurve[k + 1] = Math.min(1, proSum / this.regions);
    }
    fpr[m + 1] = 1;
    proCurve[m + 1] = 1;
    return { fpr, pro: proCurve };
  }

  result(): number {
    const { fpr, pro } = this.curve();
    return trapezoidUpTo(fpr, pro, this.maxFpr) / this.maxFpr;
  }
}

/** AUPRO of maps against their masks (same width and height each). */
export function aupro(maps: ArrayLike<ScoreMap>, masks: ArrayLike<Mask | ScoreMap>, opts: AuproOptions = {}): number {
  if (maps.length !== masks.length) {
    throw new Error(`aupro: ${maps.length} maps but ${masks.length} masks; pass one mask per map`);
  }
  const acc = new AuproAccumulator(opts);
  for (let i = 0; i < maps.length; i++) acc.add(maps[i], masks[i]);
  return acc.result();
}
