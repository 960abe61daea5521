import { z } from 'zod';

/** PaDiM's hyper-parameters in one place, validated early (errors name the bad value). */
export const PadimConfigSchema = z.object({
  /** d: randomly selected channels of the concatenated stride-8/16/32 features (the paper: 100 for ResNet-18). */
  featureDim: z.number().int().min(1).default(100),
  /** ε in Σ + ε·I, keeping each patch's covariance invertible. */
  epsilon: z.number().gt(0).default(0.01),
  /** Gaussian σ (pixels of the output map) for smoothing; 0 turns smoothing off. */
  sigma: z.number().min(0).default(4),
  /** Seeds the channel selection. */
  seed: z.number().int().default(0),
});

export type PadimConfig = z.infer<typeof PadimConfigSchema>;
export type PadimOptions = z.input<typeof PadimConfigSchema>;

export function parsePadimConfig(options: PadimOptions = {}): PadimConfig {
  const parsed = PadimConfigSchema.safeParse(options);
  if (!parsed.success) throw new Error(`invalid PaDiM config:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
