import type { Mask } from '../../data/types.ts';
import { checkMapAndMask, type ScoreMap } from './base.ts';
import { type ScoreCounterOptions, WeightedScoreCounter } from './score-counter.ts';

export interface PixelAurocResult {
  auroc: number;
  /**
   * Worst-case |reported - exact| AUROC. 0 while every distinct score was
   * counted apart; once binned, pairs of an anomalous and a nominal pixel in the
   * same bin count half, so the error is at most half their share of all pairs:
   * sum_b pos_b * neg_b / (2 * P * N). In practice the error is far smaller.
   */
  maxError: number;
  /** True when no binning happened: the AUROC equals the exact one (at float32 scores). */
  exact: boolean;
  pixels: number;
  anomalousPixels: number;
}

/**
 * Pixel AUROC over all pixels of all maps, streamed: `add` each map with its
 * mask, then `result()`. Memory stays bounded (see score-counter.ts) however many
 * pixels go in, and the result does not depend on how the pixels were chunked.
 * Mask pixels that are non-zero (1 or 255) count as anomalous.
 */
export class PixelAurocAccumulator {
  private readonly counter: WeightedScoreCounter;
  private maps = 0;
  private pixels = 0;
  private anomalousPixels = 0;

  constructor(opts: ScoreCounterOptions = {}) {
    this.counter = new WeightedScoreCounter(opts);
  }

  add(map: ArrayLike<number>, mask: ArrayLike<number>): void {
    checkMapAndMask('pixelAuroc', this.maps, map.length, mask.length);
    this.counter.add(map, mask, null, `pixelAuroc: map ${this.maps}`);
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) this.anomalousPixels++;
    this.pixels += map.length;
    this.maps++;
  }

  result(): number {
    return this.details().auroc;
  }

  details(): PixelAurocResult {
    const positives = this.anomalousPixels;
    const negatives = this.pixels - positives;
    if (positives === 0 || negatives === 0) {
      throw new Error(
        `pixelAuroc: only one class among ${this.pixels} pixels (${positives} anomalous); ` +
          'add maps whose masks contain both defect and defect-free pixels',
      );
    }
    const { channel0: neg, channel1: pos, exact } = this.counter.totals();
    let pairsWon = 0; // anomalous-above-nominal pairs, ties half
    let pairsTied = 0;
    let negBelow = 0;
    for (let k = 0; k < neg.length; k++) {
      pairsWon += pos[k] * (negBelow + 0.5 * neg[k]);
      pairsTied += pos[k] * neg[k];
      negBelow += neg[k];
    }
    const pairs = positives * negatives;
    return {
      auroc: pairsWon / pairs,
      maxError: exact ? 0 : pairsTied / (2 * pairs),
      exact,
      pixels: this.pixels,
      anomalousPixels: positives,
    };
  }
}

function pixelsOf(x: ArrayLike<number> | ScoreMap | Mask): ArrayLike<number> {
  return 'data' in x ? x.data : x;
}

/** Pixel AUROC of maps against same-sized masks (flat arrays or {width, height, data}). */
export function pixelAuroc(
  maps: ArrayLike<ArrayLike<number> | ScoreMap>,
  masks: ArrayLike<ArrayLike<number> | Mask>,
  opts: ScoreCounterOptions = {},
): number {
  if (maps.length !== masks.length) {
    throw new Error(`pixelAuroc: ${maps.length} maps but ${masks.length} masks; pass one mask per map`);
  }
  const acc = new PixelAurocAccumulator(opts);
  for (let i = 0; i < maps.length; i++) acc.add(pixelsOf(maps[i]), pixelsOf(masks[i]));
  return acc.result();
}
