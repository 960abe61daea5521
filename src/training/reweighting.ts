/**
 * Adaptive instance reweighting (METHOD §4, Eq. 5-6): the weights that minimise
 * sum_i w_i * l_i while staying within an alpha-divergence radius of uniform.
 * Closed form, alpha != 1: w_i ∝ max((1 - alpha) * l_i + lambda, 0)^(1 / (alpha - 1));
 * alpha = 1 (KL): w_i ∝ exp(-l_i / lambda); normalised to sum 1.
 * For alpha < 1 the exponent is negative, so a higher loss gets a lower weight
 * (the suspected contaminated samples are down-weighted); alpha > 1 zeroes every
 * sample with (alpha - 1) * l_i >= lambda.
 */

/** Equal weights 1/n. */
export function uniformWeights(n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`uniformWeights: n must be a non-negative integer, got ${n}`);
  return new Float64Array(n).fill(1 / n);
}

/**
 * The normalised weights for one minibatch. Computed in log space (log w minus
 * its maximum), so small lambdas and exponents far from 0 neither overflow nor
 * underflow to an all-zero batch.
 *
 * Degenerate bases, decided by the limit of the formula:
 * - alpha < 1 and some base (1 - alpha) * l_i + lambda <= 0 (only possible with
 *   negative losses): those samples get infinite weight, so they share the
 *   mass equally and every other sample gets 0.
 * - alpha > 1 and every base is <= 0 (every loss >= lambda / (alpha - 1)): the
 *   weights would be all zero. As lambda grows the first sample to get weight is
 *   the lowest-loss one, so the mass goes equally to the minimum-loss sample(s).
 */
export function alphaDivergenceWeights(losses: ArrayLike<number>, alpha: number, lambda: number): Float64Array {
  if (!Number.isFinite(alpha)) throw new Error(`alphaDivergenceWeights: alpha must be finite, got ${alpha}`);
  if (!(lambda > 0) || !Number.isFinite(lambda)) {
    throw new Error(`alphaDivergenceWeights: lambda must be a positive finite number, got ${lambda}`);
  }
  const n = losses.length;
  if (n === 0) return new Float64Array(0);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(losses[i])) {
      throw new Error(`alphaDivergenceWeights: loss ${i} is ${losses[i]}; losses must be finite numbers`);
    }
  }
  const logW = new Float64Array(n);
  if (alpha === 1) {
    for (let i = 0; i < n; i++) logW[i] = -losses[i] / lambda;
  } else {
    const exponent = 1 / (alpha - 1);
    for (let i = 0; i < n; i++) {
      const base = Math.max((1 - alpha) * losses[i] + lambda, 0);
      // log(0) * exponent: +Infinity for alpha < 1, -Infinity for alpha > 1.
      logW[i] = base === 0 ? (exponent < 0 ? Infinity : -Infinity) : exponent * Math.log(base);
    }
  }
  let maxLog = -Infinity;
  for (let i = 0; i < n; i++) if (logW[i] > maxLog) maxLog = logW[i];
  const weights = new Float64Array(n);
  if (maxLog === Infinity) {
    for (let i = 0; i < n; i++) weights[i] = logW[i] === Infinity ? 1 : 0;
  } else if (maxLog === -Infinity) {
    let minLoss = Infinity;
    for (let i = 0; i < n; i++) minLoss = Math.min(minLoss, losses[i]);
    for (let i = 0; i < n; i++) weights[i] = losses[i] === minLoss ? 1 : 0;
  } else {
    for (let i = 0; i < n; i++) weights[i] = Math.exp(logW[i] - maxLog);
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i];
  for (let i = 0; i < n; i++) weights[i] /= total;
  return weights;
}

/** Where the reweighting stands at a training step. */
export interface ReweightPhase {
  /** True during burn-in: use uniform weights. */
  uniform: boolean;
  /** The lambda to use after burn-in. */
  lambda: number;
}

/**
 * Burn-in and ADL's optional lambda schedule. Steps before `burnInSteps` are
 * burn-in (uniform weights, whether or not the schedule is enabled: METHOD §4).
 * With the schedule enabled, lambda then falls linearly from 10·lambda at the
 * end of burn-in to lambda at 3× burn-in and stays there; disabled, it is
 * lambda throughout.
 */
export function lambdaSchedule(step: number, burnInSteps: number, lambda: number, enabled: boolean): ReweightPhase {
  if (!(step >= 0) || !(burnInSteps >= 0)) {
    throw new Error(`lambdaSchedule: step (${step}) and burnInSteps (${burnInSteps}) must be >= 0`);
  }
  if (step < burnInSteps) return { uniform: true, lambda };
  if (!enabled || step >= 3 * burnInSteps) return { uniform: false, lambda };
  const progress = (step - burnInSteps) / (2 * burnInSteps); // 0 at end of burn-in, 1 at 3× burn-in
  return { uniform: false, lambda: lambda * (10 - 9 * progress) };
}

/** The weights for a step: uniform during burn-in, else alpha-divergence with the scheduled lambda. */
export function stepWeights(
  losses: ArrayLike<number>,
  phase: ReweightPhase,
  alpha: number,
): Float64Array {
  return phase.uniform ? uniformWeights(losses.length) : alphaDivergenceWeights(losses, alpha, phase.lambda);
}
