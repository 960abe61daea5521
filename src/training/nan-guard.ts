/**
 * Training stops at the first non-finite loss or gradient: the error names the
 * step, the batch's items (the ones whose own loss went non-finite first) and
 * the last checkpoint that is still good.
 */
export class NonFiniteLossError extends Error {
  /** `step` and `epoch` count from 1, like the progress output. */
  constructor(
    readonly step: number,
    readonly epoch: number,
    readonly quantity: string,
    readonly itemIds: readonly string[],
    readonly suspectIds: readonly string[],
    readonly lastGoodCheckpoint: string | null,
  ) {
    const suspects = suspectIds.length ? ` Items with a non-finite loss of their own: ${suspectIds.join(', ')}.` : '';
    const checkpoint = lastGoodCheckpoint
      ? ` The last good checkpoint is kept at ${lastGoodCheckpoint}.`
      : ' No checkpoint had been written yet.';
    super(
      `Training stopped: non-finite ${quantity} at step ${step} (epoch ${epoch}).${suspects}` +
        ` Batch items: ${itemIds.join(', ')}.${checkpoint}` +
        ' Check those images/features for NaN or Inf values, or lower the learning rate.',
    );
    this.name = 'NonFiniteLossError';
  }
}

/** Indices of the entries that are NaN or ±Inf. */
export function nonFiniteIndices(values: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) out.push(i);
  return out;
}

export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
