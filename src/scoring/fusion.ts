/**
 * Cue fusion (METHOD §5, Eq. 10): S = exp(sum_j w_j · log(n_j + eps)), a weighted
 * geometric mean of the normalised cues, with sum_j w_j = 1. The deviation cue
 * is normalised by n_d = φ / (φ + c_d); the uncertainty and segmentation cues
 * already lie in [0, 1] and enter as they are. Only config constants enter the
 * fusion, never a statistic of the images being scored, so each image's score
 * is the same whether it is scored alone or in a batch.
 */
import { z } from 'zod';
import { normalizeCue } from './normalize.ts';

/** The three raw cues of one image. */
export interface CueValues {
  /** s_d = φ(x) >= 0. */
  deviation: number;
  /** s_u in [0, 1]: normalised binary entropy of p(x). */
  uncertainty: number;
  /** s_s in [0, 1]: top-fraction mean of the segmentation map. */
  segmentation: number;
}

/** The raw cues of one image plus their fused score. */
export interface CueScores extends CueValues {
  fused: number;
}

export interface CueWeights {
  deviation: number;
  uncertainty: number;
  segmentation: number;
}

export interface FusionConfig {
  /** (w_d, w_u, w_s), non-negative, summing to 1. */
  weights: CueWeights;
  /** c_d in n_d = φ / (φ + c_d): the deviation that maps to 0.5. */
  deviationScale: number;
  /** Keeps log(n + eps) finite when a cue is 0. */
  eps: number;
}

/** METHOD §5 defaults (ours): weights (0.5, 0.2, 0.3), c_d = 1, eps = 1e-6. */
export const DEFAULT_FUSION_CONFIG: FusionConfig = {
  weights: { deviation: 0.5, uncertainty: 0.2, segmentation: 0.3 },
  deviationScale: 1,
  eps: 1e-6,
};

const WEIGHT_SUM_TOLERANCE = 1e-6;

const weight = z.number().finite().nonnegative();
export const fusionConfigSchema = z.object({
  weights: z
    .object({ deviation: weight, uncertainty: weight, segmentation: weight })
    .strict()
    .refine((w) => Math.abs(w.deviation + w.uncertainty + w.segmentation - 1) <= WEIGHT_SUM_TOLERANCE, {
      message: 'fusion weights (deviation, uncertainty, segmentation) must sum to 1',
    }),
  deviationScale: z.number().finite().positive(),
  eps: z.number().finite().positive(),
});

/** Fusion settings given in part; missing fields take the defaults. */
export type FusionConfigInput = Partial<FusionConfig>;

/** Fills defaults and validates; the error names every bad field and its value. */
export function resolveFusionConfig(input: FusionConfigInput = {}): FusionConfig {
  const merged = { ...DEFAULT_FUSION_CONFIG, ...input };
  const parsed = fusionConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.join('.') || 'config';
      return `${path}: ${issue.message}`;
    });
    throw new Error(`invalid fusion config ${JSON.stringify(merged)}:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

function checkCues(cues: CueValues, index: number | null): void {
  const where = index === null ? '' : ` (image ${index})`;
  if (!(cues.deviation >= 0)) throw new Error(`fuseCues: deviation cue must be >= 0, got ${cues.deviation}${where}`);
  for (const name of ['uncertainty', 'segmentation'] as const) {
    const v = cues[name];
    if (!(v >= 0 && v <= 1)) throw new Error(`fuseCues: ${name} cue must lie in [0, 1], got ${v}${where}`);
  }
}

function fuseValidated(cues: CueValues, config: FusionConfig): number {
  const w = config.weights;
  const nd = normalizeCue(cues.deviation, config.deviationScale);
  const logSum =
    w.deviation * Math.log(nd + config.eps) +
    w.uncertainty * Math.log(cues.uncertainty + config.eps) +
    w.segmentation * Math.log(cues.segmentation + config.eps);
  return Math.exp(logSum);
}

/** The fused score of one image's cues. */
export function fuseCues(cues: CueValues, config: FusionConfigInput = {}): number {
  const resolved = resolveFusionConfig(config);
  checkCues(cues, null);
  return fuseValidated(cues, resolved);
}

/** Fuses every image's cues (config validated once); returns the cues with `fused` added. */
export function fuseAll(perImageCues: readonly CueValues[], config: FusionConfigInput = {}): CueScores[] {
  const resolved = resolveFusionConfig(config);
  return perImageCues.map((cues, i) => {
    checkCues(cues, i);
    return {
      deviation: cues.deviation,
      uncertainty: cues.uncertainty,
      segmentation: cues.segmentation,
      fused: fuseValidated(cues, resolved),
    };
  });
}
