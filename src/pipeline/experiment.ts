import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSpecSchema, parseDataSpec } from '../data/spec.ts';
import { ProtocolParamsSchema } from '../data/manifest.ts';
import { RESIZE_MODES, type ResizeMode } from '../data/types.ts';
import { MultiCueConfigSchema, type MultiCueConfig } from '../training/config.ts';
import { InputError } from '../util/errors.ts';

/**
 * One experiment cell, fully specified: the data, the contamination protocol,
 * the image geometry, the backbone, the method and its config. `multicue train`
 * builds one from its flags; a sweep builds many. Recorded with every run.
 */

export const METHODS = ['multicue', 'adl', 'patchcore', 'padim'] as const;
export type Method = (typeof METHODS)[number];

export const ExperimentSchema = z.strictObject({
  data: DataSpecSchema,
  protocol: ProtocolParamsSchema,
  geometry: z
    .strictObject({
      size: z.number().int().min(32).default(256),
      resize: z.enum(RESIZE_MODES as unknown as [ResizeMode, ...ResizeMode[]]).default('center-crop'),
    })
    .prefault({}),
  backbone: z
    .strictObject({
      /** Registry name: auto | resnet18 | mobilenetv2 | mobilenetv2-0.35 | nsfwjs-mobilenetv2. */
      name: z.string().default('auto'),
      /** A weight file instead of the cache. */
      weights: z.string().nullable().default(null),
    })
    .prefault({}),
  method: z.enum(METHODS).default('multicue'),
  /** The detector's hyper-parameters (METHOD defaults for every missing key). */
  config: MultiCueConfigSchema.prefault({}),
  /** Folder of texture images for pseudo-anomalies (e.g. DTD); null: procedural textures. */
  anomalySource: z.string().nullable().default(null),
  /** On-disk feature cache shared by runs and sweeps; null keeps features in memory. */
  featureCache: z.string().nullable().default('.cache/features'),
  /**
   * Test images that get gradient maps (METHOD §6): 'all', 'none', or at most N
   * (every anomalous image with a mask first, then nominal ones, in manifest order).
   */
  gradientMaps: z.union([z.literal('all'), z.literal('none'), z.number().int().nonnegative()]).default('all'),
  /**
   * The map reported as the detector's pixel_auroc and AUPRO: the gradient map
   * (METHOD §6), the segmentation output S(x), or their product. All three are
   * always reported beside it.
   */
  mainMap: z.enum(['grad', 'seg', 'product']).default('product'),
  /** PatchCore settings (e.g. { coresetRatio: 0.01 }); validated by the baseline itself. */
  patchcore: z.record(z.string(), z.unknown()).default({}),
  /** PaDiM settings; validated by the baseline itself. */
  padim: z.record(z.string(), z.unknown()).default({}),
});
export type Experiment = z.infer<typeof ExperimentSchema>;
export type ExperimentInput = z.input<typeof ExperimentSchema>;

export function parseExperiment(input: unknown, source?: string): Experiment {
  const result = ExperimentSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(experiment)'}: ${i.message}`).join('; ');
  throw new InputError(`invalid experiment: ${problems}`, source, 'fix the named key(s)');
}

/** Read an experiment JSON file; a relative data root is resolved from the file's folder. */
export function readExperimentFile(path: string): Experiment {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`cannot read experiment JSON (${(err as Error).message})`, path, 'check the file exists and is valid JSON');
  }
  if (raw.data) raw.data = parseDataSpec(raw.data, { kind: 'file', path }, dirname(path));
  return parseExperiment(raw, path);
}

/**
 * The method presets. ADL (the method without few-shot anomalies and without the
 * uncertainty and segmentation cues) trains the same network on pseudo-anomalies
 * only and scores with the deviation cue alone.
 */
export function applyMethodPreset(experiment: Experiment): Experiment {
  if (experiment.method !== 'adl') return experiment;
  const config: MultiCueConfig = {
    ...experiment.config,
    scoring: { ...experiment.config.scoring, fusionWeights: { deviation: 1, uncertainty: 0, segmentation: 0 } },
  };
  return { ...experiment, protocol: { ...experiment.protocol, shots: 0 }, config };
}

/** A short readable id of a cell (folder names, logs). */
export function cellName(e: Experiment): string {
  const pct = (r: number) => `${Math.round(r * 1000) / 10}`;
  const parts = [e.method, `r${pct(e.protocol.ratio)}`, `k${e.protocol.shots}`, `s${e.protocol.seed}`];
  if (e.method === 'multicue' || e.method === 'adl') {
    parts.push(`a${e.config.reweighting.alpha}`, `l${e.config.reweighting.lambda}`);
  }
  return parts.join('-');
}
