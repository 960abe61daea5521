import { z } from 'zod';

/** PatchCore's hyper-parameters in one place, validated early (errors name the bad value). */
export const PatchCoreConfigSchema = z.object({
  /** Fraction of training patches kept in the memory bank (k-center greedy coreset). */
  coresetRatio: z.number().gt(0).lte(1).default(0.1),
  /** Random-projection width for the coreset distance search; 0 searches on the full features. */
  projectionDim: z.number().int().min(0).default(128),
  /** b: memory entries in the image-score reweighting (m* and its b−1 nearest neighbours). */
  numNeighbors: z.number().int().min(1).default(9),
  /** Gaussian σ (pixels of the output map) for smoothing; 0 turns smoothing off. */
  sigma: z.number().min(0).default(4),
  /** Seeds the coreset start and the projection. */
  seed: z.number().int().default(0),
});

export type PatchCoreConfig = z.infer<typeof PatchCoreConfigSchema>;
export type PatchCoreOptions = z.input<typeof PatchCoreConfigSchema>;

export function parsePatchCoreConfig(options: PatchCoreOptions = {}): PatchCoreConfig {
  const parsed = PatchCoreConfigSchema.safeParse(options);
  if (!parsed.success) throw new Error(`invalid PatchCore config:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
