import type { Rng } from '../util/rng.ts';

/**
 * Balanced minibatches (METHOD §1.4): half drawn from the contaminated nominal
 * pool, half from {pseudo-anomalies of pool images} ∪ {few-shot anomalies}.
 * Each source is walked in a fresh seeded shuffle, without replacement until
 * it is used up, so every item is seen equally often.
 */

/** Endless shuffled pass over a list: reshuffles whenever it runs out. */
export class ShuffledCycle<T> {
  private order: T[] = [];
  private position = 0;

  constructor(
    private readonly items: readonly T[],
    private readonly rng: Rng,
  ) {
    if (items.length === 0) throw new Error('ShuffledCycle: no items');
  }

  next(): T {
    if (this.position >= this.order.length) {
      this.order = this.rng.shuffle(this.items);
      this.position = 0;
    }
    return this.order[this.position++];
  }
}

export interface BalancedBatchSources<T> {
  nominal: readonly T[];
  pseudo: readonly T[];
  fewShot: readonly T[];
}

export class BalancedBatchSampler<T> {
  private readonly nominal: ShuffledCycle<T>;
  private readonly union: ShuffledCycle<T>;
  private readonly pseudo: ShuffledCycle<T> | null;
  private readonly fewShot: ShuffledCycle<T> | null;

  /**
   * @param fewShotShare null: the anomalous half is drawn uniformly from pseudo ∪ few-shot;
   *   a number: that share of the anomalous half (rounded) comes from the few-shot set.
   */
  constructor(
    sources: BalancedBatchSources<T>,
    readonly batchSize: number,
    private readonly fewShotShare: number | null,
    rng: Rng,
  ) {
    if (batchSize < 2 || batchSize % 2 !== 0) throw new Error(`batch size must be even and ≥ 2, got ${batchSize}`);
    if (sources.nominal.length === 0) throw new Error('no nominal (pool) training items');
    if (sources.pseudo.length + sources.fewShot.length === 0) {
      throw new Error('no anomalous training items: use pseudo-anomaly variants (P > 0) or few-shot anomalies');
    }
    this.nominal = new ShuffledCycle(sources.nominal, rng.fork('nominal'));
    this.union = new ShuffledCycle([...sources.pseudo, ...sources.fewShot], rng.fork('union'));
    this.pseudo = sources.pseudo.length ? new ShuffledCycle(sources.pseudo, rng.fork('pseudo')) : null;
    this.fewShot = sources.fewShot.length ? new ShuffledCycle(sources.fewShot, rng.fork('fewshot')) : null;
  }

  /** The next batch: nominal half first, then the anomalous half. */
  next(): T[] {
    const half = this.batchSize / 2;
    const batch: T[] = [];
    for (let i = 0; i < half; i++) batch.push(this.nominal.next());
    if (this.fewShotShare === null || !this.pseudo || !this.fewShot) {
      for (let i = 0; i < half; i++) batch.push(this.union.next());
    } else {
      const fromFewShot = Math.round(this.fewShotShare * half);
      for (let i = 0; i < fromFewShot; i++) batch.push(this.fewShot.next());
      for (let i = fromFewShot; i < half; i++) batch.push(this.pseudo.next());
    }
    return batch;
  }
}
