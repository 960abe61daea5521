import { z } from 'zod';
import { InputError } from '../util/errors.ts';

/**
 * Every hyper-parameter of the MultiCue detector in one typed, validated config.
 * Defaults are METHOD.md's (the paper's or the ADL recipe's); the ones marked
 * (ours) in METHOD are ours and meant to be swept.
 */

const positive = z.number().positive();
const fraction = z.number().gt(0).lte(1);
const positiveInt = z.number().int().positive();

export const ModelConfigSchema = z
  .object({
    /** Fraction of patches whose |score| is averaged into φ (METHOD §2, Eq. 2). */
    kappa: fraction.default(0.1),
    /**
     * Hidden width of the deviation head (0: METHOD's 1×1 conv C→1; > 0, ours: 1×1
     * conv C→hidden, ReLU, 1×1 conv hidden→1). More capacity for a frozen encoder.
     */
    deviationHidden: z.number().int().min(0).default(0),
    /** 'full' decodes up to input size; 'lite' stops after `liteUpsampleBlocks` blocks and resizes bilinearly. */
    segmentationHead: z.enum(['full', 'lite']).default('full'),
    /** Upsampling blocks the lite head keeps (1: output at stride 4 for a stride-8 grid). */
    liteUpsampleBlocks: z.number().int().min(0).default(1),
    /** Width of the segmentation decoder (METHOD: 64). */
    segmentationChannels: positiveInt.default(64),
    /**
     * 1×1 projection of the features to this many channels before the decoder
     * (0: none, METHOD's head). A CPU speed switch: see segmentation-head.ts.
     */
    segmentationProjection: z.number().int().min(0).default(0),
    /**
     * Pooling before the classifier: 'mean' (METHOD: global average pool) or
     * 'mean+max' (ours: average and max pools concatenated). Over a frozen
     * encoder, a small defect barely moves the average of the deepest tap, so
     * p(x) stays near chance; the max pool keeps a local response.
     */
    uncertaintyPooling: z.enum(['mean', 'mean+max']).default('mean'),
    /** Train only the heads over a frozen encoder (default on CPU, ours). Fine-tuning is not implemented yet. */
    freezeEncoder: z.literal(true).default(true),
  })
  .strict();

export const LossConfigSchema = z
  .object({
    /** Soft-deviation margin m (ADL 10; DevNet used 5). */
    margin: positive.default(10),
    /** Reference scores drawn from N(0,1) per step for μ_R, σ_R. */
    referenceCount: z.number().int().min(2).default(5000),
    /** Fraction of all iterations that are burn-in (uniform weights, q = y, t = y). */
    burnInFraction: z.number().min(0).max(1).default(0.06),
    /** After burn-in, probability per batch that the classifier target is y OR 2-means(φ). */
    clusterProbability: z.number().min(0).max(1).default(0.6),
    /** Focal segmentation loss exponent γ. */
    focalGamma: z.number().min(0).default(2),
    /** Focal loss label smoothing. */
    focalSmoothing: z.number().min(0).lt(0.5).default(1e-5),
  })
  .strict();

export const ReweightingConfigSchema = z
  .object({
    /** α of the α-divergence (α = 1: KL). */
    alpha: z.number().default(0.1),
    /** λ, the divergence radius' multiplier. */
    lambda: positive.default(0.1),
    /** ADL's λ schedule: 10λ at the end of burn-in down to λ at 3× burn-in. */
    lambdaSchedule: z.boolean().default(false),
  })
  .strict();

export const OptimizerConfigSchema = z
  .object({
    learningRate: positive.default(2e-4),
    /** L2 weight decay added to the gradient (PyTorch Adam's weight_decay). */
    weightDecay: z.number().min(0).default(1e-5),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: positive.default(1e-8),
    /** Step decay: lr × decayFactor every decayEveryEpochs epochs. */
    decayFactor: z.number().gt(0).lte(1).default(0.1),
    decayEveryEpochs: positiveInt.default(10),
    /** Global gradient-norm clip. */
    clipNorm: positive.default(1.0),
  })
  .strict();

export const ScheduleConfigSchema = z
  .object({
    /** Half nominal (pool), half anomalous (pseudo ∪ few-shot). Must be even. */
    batchSize: z
      .number()
      .int()
      .min(2)
      .refine((n) => n % 2 === 0, { message: 'batchSize must be even (half nominal, half anomalous)' })
      .default(48),
    stepsPerEpoch: positiveInt.default(20),
    epochs: positiveInt.default(25),
    /**
     * Images per forward/backward pass; gradients of the passes are summed into
     * one step (null: the whole batch at once). Instance weights, 2-means
     * targets and the segmentation loss's normalisation still use the whole
     * batch; only batch norm sees the smaller groups. Bounds memory: the full
     * decoder at 256² with batch 48 exceeds the wasm backend's 4 GB heap; 4 works.
     */
    microBatchSize: z.number().int().positive().nullable().default(null),
    /**
     * Share of the anomalous half drawn from the few-shot real anomalies (ours).
     * null: draw uniformly from {pseudo-anomalies} ∪ {few-shot}, as METHOD states.
     */
    fewShotShare: z.number().min(0).max(1).nullable().default(null),
  })
  .strict();

export const CacheConfigSchema = z
  .object({
    /** Fixed seeded pseudo-anomaly variants per pool image (P). */
    pseudoVariants: z.number().int().min(0).default(4),
    /** Images per backbone forward pass during extraction. */
    extractBatchSize: positiveInt.default(8),
  })
  .strict();

export const FusionWeightsSchema = z
  .object({
    deviation: z.number().min(0).default(0.5),
    uncertainty: z.number().min(0).default(0.2),
    segmentation: z.number().min(0).default(0.3),
  })
  .strict()
  .refine((w) => Math.abs(w.deviation + w.uncertainty + w.segmentation - 1) < 1e-6, {
    message: 'fusion weights must sum to 1',
  });

export const ScoringConfigSchema = z
  .object({
    /** Fraction of the highest pixels of S(x) averaged into the segmentation cue (ours). */
    rho: fraction.default(0.01),
    /** Smooth S with a boxFilterSize² mean filter before the top-ρ mean (ADL). */
    boxFilter: z.boolean().default(false),
    boxFilterSize: z
      .number()
      .int()
      .positive()
      .refine((n) => n % 2 === 1, { message: 'boxFilterSize must be odd' })
      .default(21),
    /** Box filter at the border: 'zeros' pads and divides by size² (ADL's avg_pool2d); 'shrink' averages in-map pixels. */
    boxFilterEdge: z.enum(['zeros', 'shrink']).default('zeros'),
    fusionWeights: FusionWeightsSchema.prefault({}),
    /** c_d in n(s) = s/(s + c_d) for the deviation cue (ours). */
    deviationScale: positive.default(1),
    /** ε inside the fused geometric mean's logs. */
    fusionEpsilon: positive.default(1e-6),
  })
  .strict();

export const LocalizationConfigSchema = z
  .object({
    /** Gaussian σ in pixels at 256×256 input; scales linearly with input size (ours). */
    sigmaAt256: z.number().min(0).default(4),
    /** Feature term: |g_feat ⊙ A| (METHOD's first choice) or |g_feat|. */
    featureTerm: z.enum(['grad-times-activation', 'grad']).default('grad-times-activation'),
    /** Images per gradient pass (memory vs speed). */
    batchSize: positiveInt.default(4),
  })
  .strict();

export const MultiCueConfigSchema = z
  .object({
    model: ModelConfigSchema.prefault({}),
    loss: LossConfigSchema.prefault({}),
    reweighting: ReweightingConfigSchema.prefault({}),
    optimizer: OptimizerConfigSchema.prefault({}),
    schedule: ScheduleConfigSchema.prefault({}),
    cache: CacheConfigSchema.prefault({}),
    scoring: ScoringConfigSchema.prefault({}),
    localization: LocalizationConfigSchema.prefault({}),
  })
  .strict();

export type MultiCueConfig = z.infer<typeof MultiCueConfigSchema>;
export type ModelConfig = MultiCueConfig['model'];
export type LossConfig = MultiCueConfig['loss'];
export type ReweightingConfig = MultiCueConfig['reweighting'];
export type OptimizerConfig = MultiCueConfig['optimizer'];
export type ScheduleConfig = MultiCueConfig['schedule'];
export type CacheConfig = MultiCueConfig['cache'];
export type ScoringConfig = MultiCueConfig['scoring'];
export type LocalizationConfig = MultiCueConfig['localization'];

/** A partial config as users write it (every field optional, nested). */
export type MultiCueConfigInput = z.input<typeof MultiCueConfigSchema>;

/**
 * Validate a (partial) config and fill in the defaults. Errors name the bad
 * field and, when given, the file it came from.
 */
export function parseConfig(input: unknown = {}, source?: string): MultiCueConfig {
  const result = MultiCueConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(config)'}: ${issue.message}`)
    .join('; ');
  throw new InputError(
    `invalid multicue config: ${problems}`,
    source,
    'fix the named field(s); `defaultConfig()` shows every field with its default',
  );
}

/** The config with every default (METHOD.md's values). */
export function defaultConfig(): MultiCueConfig {
  return parseConfig({});
}
