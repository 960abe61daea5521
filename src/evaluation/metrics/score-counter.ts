/**
 * Streaming per-score sums for pixel metrics over millions of pixels (500 maps
 * of 256² are 33M pixels) in bounded memory. Each pixel adds a weight to one of
 * two channels (e.g. nominal / anomalous) at its score; the metrics then walk
 * the scores in order.
 *
 * Two regimes, chosen by the data, not by the caller:
 * - exact: one entry per distinct float32 score in an open-addressing hash table,
 *   while there are at most `exactDistinctLimit` distinct scores (default 2^18,
 *   ~10 MB). Quantised maps (8- or 16-bit, or any map with few levels) stay here,
 *   so their metrics are exact.
 * - binned: past that limit the entries are folded into a histogram over the top
 *   `histogramBits` bits (default 20, 16 MB) of the order-preserving float32 bit
 *   pattern. A bin spans a relative score width of 2^-(histogramBits-9) (2^-11 by
 *   default: scores in [0.5, 1) fall in bins 2.4e-4 wide), at any magnitude, with
 *   no min/max to know in advance. Scores within one bin count as tied; the
 *   metric reports the worst-case error that causes (see pixel-auroc.ts).
 *   Maps whose scores crowd a narrow range far from zero (e.g. all in [1000, 1001])
 *   get coarse bins: shift them towards zero first.
 *
 * Scores are compared at float32 precision. Both regimes depend only on the
 * multiset of (score, channel, weight) added, so chunked adds equal one add.
 */

export interface ScoreCounterOptions {
  /** Distinct float32 scores counted exactly before switching to bins (default 2^18). */
  exactDistinctLimit?: number;
  /** Bits of the float32 order key kept per bin once binned (default 20, 12..26). */
  histogramBits?: number;
}

/** Totals per distinct score (exact) or per non-empty bin, in ascending score order. */
export interface ScoreTotals {
  /** Weight sums of channel 0 (e.g. nominal pixels). */
  channel0: Float64Array;
  /** Weight sums of channel 1 (e.g. anomalous pixels). */
  channel1: Float64Array;
  /** True when every entry is one distinct score (no binning happened). */
  exact: boolean;
}

const DEFAULT_EXACT_LIMIT = 1 << 18;
const DEFAULT_HISTOGRAM_BITS = 20;
const INITIAL_TABLE_BITS = 12;

/**
 * Monotone map from float32 bits to uint32: a < b as floats iff key(a) < key(b).
 * -0 is folded into +0 first so the two tie. Never 0 for a non-NaN float
 * (0 would need bits 0xFFFFFFFF, a NaN), so 0 marks an empty hash slot.
 */
function orderKey(bits: number): number {
  if (bits === 0x80000000) bits = 0;
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

export class WeightedScoreCounter {
  private readonly exactLimit: number;
  private readonly histogramBits: number;
  // Exact regime: hash table keyed by order key.
  private tableBits = INITIAL_TABLE_BITS;
  private keys: Uint32Array | null = new Uint32Array(1 << INITIAL_TABLE_BITS);
  private sums0: Float64Array = new Float64Array(1 << INITIAL_TABLE_BITS);
  private sums1: Float64Array = new Float64Array(1 << INITIAL_TABLE_BITS);
  private distinct = 0;
  // Binned regime (allocated on the switch).
  private bins0: Float64Array | null = null;
  private bins1: Float64Array | null = null;
  private scratch: Float32Array = new Float32Array(0);

  constructor(opts: ScoreCounterOptions = {}) {
    this.exactLimit = opts.exactDistinctLimit ?? DEFAULT_EXACT_LIMIT;
    this.histogramBits = opts.histogramBits ?? DEFAULT_HISTOGRAM_BITS;
    if (!Number.isInteger(this.exactLimit) || this.exactLimit < 1) {
      throw new Error(`exactDistinctLimit must be a positive integer, got ${opts.exactDistinctLimit}`);
    }
    if (!Number.isInteger(this.histogramBits) || this.histogramBits < 12 || this.histogramBits > 26) {
      throw new Error(`histogramBits must be an integer in 12..26, got ${opts.histogramBits}`);
    }
  }

  /** Whether the counter is still exact (every distinct score kept apart). */
  get isExact(): boolean {
    return this.keys !== null;
  }

  /**
   * Adds every score: channel[i] == 0 puts weight[i] (or 1) into channel 0,
   * anything else into channel 1. Throws on a NaN score, naming `what`.
   */
  add(
    scores: ArrayLike<number>,
    channel: ArrayLike<number>,
    weight: ArrayLike<number> | null,
    what: string,
  ): void {
    const n = scores.length;
    const bits = this.floatBits(scores);
    for (let i = 0; i < n; i++) {
      const b = bits[i];
      // NaN: exponent all ones and a non-zero mantissa.
      if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) {
        throw new Error(`${what}: pixel ${i} has a NaN score; fix the map before evaluating`);
      }
      const key = orderKey(b);
      const w = weight === null ? 1 : weight[i];
      if (this.keys !== null) this.addExact(key, channel[i] !== 0, w);
      else this.addBinned(key, channel[i] !== 0, w);
    }
  }

  /** The totals in ascending score order, empty entries left out. */
  totals(): ScoreTotals {
    if (this.keys !== null) {
      const keys = this.keys;
      const slots: number[] = [];
      for (let s = 0; s < keys.length; s++) if (keys[s] !== 0) slots.push(s);
      slots.sort((a, b) => keys[a] - keys[b]);
      const channel0 = new Float64Array(slots.length);
      const channel1 = new Float64Array(slots.length);
      slots.forEach((s, k) => {
        channel0[k] = this.sums0[s];
        channel1[k] = this.sums1[s];
      });
      return { channel0, channel1, exact: true };
    }
    const b0 = this.bins0!;
    const b1 = this.bins1!;
    let used = 0;
    for (let j = 0; j < b0.length; j++) if (b0[j] !== 0 || b1[j] !== 0) used++;
    const channel0 = new Float64Array(used);
    const channel1 = new Float64Array(used);
    let k = 0;
    for (let j = 0; j < b0.length; j++) {
      if (b0[j] !== 0 || b1[j] !== 0) {
        channel0[k] = b0[j];
        channel1[k] = b1[j];
        k++;
      }
    }
    return { channel0, channel1, exact: false };
  }

  /** The float32 bit patterns of the scores, without copying a Float32Array. */
  private floatBits(scores: ArrayLike<number>): Uint32Array {
    if (scores instanceof Float32Array) return new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
    if (this.scratch.length < scores.length) this.scratch = new Float32Array(scores.length);
    const f = this.scratch.subarray(0, scores.length);
    for (let i = 0; i < scores.length; i++) f[i] = scores[i];
    return new Uint32Array(f.buffer, 0, scores.length);
  }

  private addExact(key: number, toChannel1: boolean, w: number): void {
    const keys = this.keys!;
    const mask = keys.length - 1;
    let s = Math.imul(key, 0x9e3779b1) >>> (32 - this.tableBits);
    while (keys[s] !== 0 && keys[s] !== key) s = (s + 1) & mask;
    if (keys[s] === 0) {
      if (this.distinct + 1 > this.exactLimit) {
        this.switchToBins();
        this.addBinned(key, toChannel1, w);
        return;
      }
      if (2 * (this.distinct + 1) > keys.length) {
        this.growTable();
        this.addExact(key, toChannel1, w);
        return;
      }
      keys[s] = key;
      this.distinct++;
    }
    if (toChannel1) this.sums1[s] += w;
    else this.sums0[s] += w;
  }

  private addBinned(key: number, toChannel1: boolean, w: number): void {
    const bin = key >>> (32 - this.histogramBits);
    if (toChannel1) this.bins1![bin] += w;
    else this.bins0![bin] += w;
  }

  private growTable(): void {
    const oldKeys = this.keys!;
    const old0 = this.sums0;
    const old1 = this.sums1;
    this.tableBits++;
    const size = 1 << this.tableBits;
    const keys = new Uint32Array(size);
    this.sums0 = new Float64Array(size);
    this.sums1 = new Float64Array(size);
    const mask = size - 1;
    for (let o = 0; o < oldKeys.length; o++) {
      const key = oldKeys[o];
      if (key === 0) continue;
      let s = Math.imul(key, 0x9e3779b1) >>> (32 - this.tableBits);
      while (keys[s] !== 0) s = (s + 1) & mask;
      keys[s] = key;
      this.sums0[s] = old0[o];
      this.sums1[s] = old1[o];
    }
    this.keys = keys;
  }

  private switchToBins(): void {
    const keys = this.keys!;
    this.bins0 = new Float64Array(1 << this.histogramBits);
    this.bins1 = new Float64Array(1 << this.histogramBits);
    const shift = 32 - this.histogramBits;
    for (let s = 0; s < keys.length; s++) {
      if (keys[s] === 0) continue;
      const bin = keys[s] >>> shift;
      this.bins0[bin] += this.sums0[s];
      this.bins1[bin] += this.sums1[s];
    }
    this.keys = null;
    this.sums0 = new Float64Array(0);
    this.sums1 = new Float64Array(0);
  }
}
