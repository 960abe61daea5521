/**
 * A sweep config: which datasets, contamination ratios, shots, seeds, methods,
 * α/λ pairs and fusion weights to run, plus the experiment fields every cell
 * shares. Validated strictly before any work: an unknown key or an impossible
 * value is refused with the key's path (e.g. `ratios.2: ...`).
 *
 * Relative paths inside a config file (out, datasets[].root, base.featureCache,
 * base.anomalySource, base.backbone.weights) resolve from the config file's
 * folder, so a config works from any working directory; `--out` on the command
 * line resolves from the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { DataSpecSchema, type DataSpec } from '../data/spec.ts';
import { ExperimentSchema, METHODS } from '../pipeline/experiment.ts';
import { InputError } from '../util/errors.ts';

const WEIGHT_SUM_TOLERANCE = 1e-6;

const fusionWeightVector = z
  .tuple([z.number().min(0), z.number().min(0), z.number().min(0)])
  .refine((w) => Math.abs(w[0] + w[1] + w[2] - 1) <= WEIGHT_SUM_TOLERANCE, {
    message: 'fusion weights [w_d, w_u, w_s] must sum to 1',
  });

/**
 * The experiment fields a sweep applies to every cell: every Experiment field
 * except the ones the sweep sets per cell (data, protocol, method), so a field
 * the Experiment schema gains later is settable here too. Of the protocol only
 * the noise and the replacement rule are shared.
 */
const BaseSchema = ExperimentSchema.omit({ data: true, protocol: true, method: true })
  .partial()
  .extend({
    protocol: z
      .strictObject({
        noiseStd: z.number().nonnegative().optional(),
        withReplacement: z.boolean().optional(),
      })
      .optional(),
  });

export const SweepConfigSchema = z
  .strictObject({
    /** Free text shown by `--dry-run` and in sweep.json. */
    description: z.string().optional(),
    /** Shell commands that create the data (e.g. `multicue synth ...`): recorded, shown in RESULTS.md, never run. */
    setup: z.array(z.string().min(1)).default([]),
    /** Output folder: runs/<category>/<cell>/, results.json, image-scores.json, failures.json, features/. */
    out: z.string().min(1, 'must name the output folder'),
    /** One data spec per category (format mvtec | visa | folder, as `multicue train --data`). */
    datasets: z.array(DataSpecSchema).min(1, 'give at least one dataset'),
    /** Contamination ratios r (fractions: 0.1 = 10%). */
    ratios: z.array(z.number().min(0).lt(1, 'a ratio is a fraction below 1 (0.1 = 10%)')).min(1).default([0.05, 0.1, 0.15, 0.2]),
    /** Few-shot real anomalies k (multicue; ADL forces 0; baselines use the largest k's test set). */
    shots: z.array(z.number().int().nonnegative()).min(1).default([0, 1, 2, 5, 10]),
    seeds: z.array(z.number().int().nonnegative()).min(1).default([0]),
    methods: z.array(z.enum(METHODS)).min(1).default(['multicue']),
    /** [α, λ] pairs of the instance reweighting (multicue and ADL). */
    alphaLambda: z.array(z.tuple([z.number().finite(), z.number().positive()])).min(1).default([[0.1, 0.1]]),
    /** [w_d, w_u, w_s] fusion weights (multicue only): re-score the trained model, no retraining. */
    fusionWeights: z.array(fusionWeightVector).min(1).default([[0.5, 0.2, 0.3]]),
    base: BaseSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const unique = (key: string, values: unknown[]) => {
      const seen = new Set<string>();
      values.forEach((value, index) => {
        const text = JSON.stringify(value);
        if (seen.has(text)) ctx.addIssue({ code: 'custom', path: [key, index], message: `duplicate value ${text}` });
        seen.add(text);
      });
    };
    unique('ratios', config.ratios);
    unique('shots', config.shots);
    unique('seeds', config.seeds);
    unique('methods', config.methods);
    unique('alphaLambda', config.alphaLambda);
    unique('fusionWeights', config.fusionWeights);
    const categories = new Map<string, number>();
    config.datasets.forEach((spec, index) => {
      const category = specCategory(spec);
      const first = categories.get(category);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', index, 'category'],
          message: `category "${category}" is already used by datasets.${first} (run directories are per category: give each dataset its own category)`,
        });
      } else categories.set(category, index);
    });
  });

export type SweepConfig = z.infer<typeof SweepConfigSchema>;
export type SweepConfigInput = z.input<typeof SweepConfigSchema>;

/** Keys a sweep sets per cell: setting them in base would be silently overridden, so they are refused. */
const SWEEP_OWNED_BASE_KEYS: ReadonlyArray<{ path: string[]; use: string }> = [
  { path: ['config', 'reweighting', 'alpha'], use: 'alphaLambda' },
  { path: ['config', 'reweighting', 'lambda'], use: 'alphaLambda' },
  { path: ['config', 'scoring', 'fusionWeights'], use: 'fusionWeights' },
];

/** A data spec's category (a folder spec without one is named after its root folder). */
export function specCategory(spec: { root: string; category?: string }): string {
  return spec.category ?? (basename(spec.root.replace(/[\\/]+$/, '')) || 'dataset');
}

export interface ParseSweepOptions {
  /** Named in errors (the config file). */
  source?: string;
  /** Folder that relative paths resolve from (default: the working directory). */
  baseDir?: string;
  /** Replaces `out` (resolved from the working directory). */
  out?: string;
}

/** Validate a sweep config and resolve its relative paths; throws InputError naming every bad key. */
export function parseSweepConfig(input: unknown, opts: ParseSweepOptions = {}): SweepConfig {
  const raw = input && typeof input === 'object' && !Array.isArray(input) ? { ...(input as Record<string, unknown>) } : input;
  if (opts.out !== undefined && raw && typeof raw === 'object') (raw as Record<string, unknown>).out = resolve(opts.out);
  const problems: string[] = [];
  const base = (raw as { base?: unknown } | null)?.base;
  for (const { path, use } of SWEEP_OWNED_BASE_KEYS) {
    if (valueAt(base, path) !== undefined) problems.push(`base.${path.join('.')}: set by the sweep; list the values in "${use}" instead`);
  }
  const result = SweepConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length ? `${issue.path.join('.')}.` : '';
        problems.push(`${issue.keys.map((k) => `${where}${k}`).join(', ')}: unknown key`);
      } else {
        problems.push(`${issue.path.join('.') || '(sweep config)'}: ${issue.message}`);
      }
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new InputError(
      `invalid sweep config: ${problems.join('; ')}`,
      opts.source,
      'fix the named key(s); the keys are description, setup, out, datasets, ratios, shots, seeds, methods, alphaLambda, fusionWeights, base',
    );
  }
  // Keep only the base fields the user gave: a missing one takes the experiment's default per cell
  // (featureCache: the sweep's own <out>/features), not the default of a lone `multicue train`.
  const given = base && typeof base === 'object' ? (base as Record<string, unknown>) : {};
  const parsedBase = Object.fromEntries(Object.entries(result.data.base).filter(([key]) => given[key] !== undefined));
  return resolveSweepPaths({ ...result.data, base: parsedBase }, opts.baseDir ?? process.cwd());
}

function valueAt(value: unknown, path: string[]): unknown {
  let node = value;
  for (const key of path) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function resolveSweepPaths(config: SweepConfig, baseDir: string): SweepConfig {
  const abs = (p: string) => resolve(baseDir, p);
  const base = { ...config.base };
  if (typeof base.featureCache === 'string') base.featureCache = abs(base.featureCache);
  if (typeof base.anomalySource === 'string') base.anomalySource = abs(base.anomalySource);
  if (base.backbone?.weights) base.backbone = { ...base.backbone, weights: abs(base.backbone.weights) };
  return {
    ...config,
    out: abs(config.out),
    datasets: config.datasets.map((d): DataSpec => ({ ...d, root: abs(d.root) })),
    base,
  };
}

/** Read and validate a sweep config file; relative paths resolve from the file's folder. */
export function readSweepConfigFile(path: string, opts: { out?: string } = {}): SweepConfig {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw new InputError('sweep config not found or unreadable', abs, 'check the CONFIG.json path');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`sweep config is not valid JSON (${(err as Error).message})`, abs, 'fix the JSON syntax');
  }
  return parseSweepConfig(raw, { source: abs, baseDir: dirname(abs), out: opts.out });
}

/**
 * Checks that need the file system, done before any work: every dataset root
 * and every named folder or file exists. Throws InputError naming the key.
 */
export function checkSweepInputs(config: SweepConfig, source?: string): void {
  const problems: string[] = [];
  config.datasets.forEach((d, i) => {
    if (!existsSync(d.root)) problems.push(`datasets.${i}.root: folder not found: ${d.root}`);
  });
  if (config.base.anomalySource && !existsSync(config.base.anomalySource)) {
    problems.push(`base.anomalySource: folder not found: ${config.base.anomalySource}`);
  }
  if (config.base.backbone?.weights && !existsSync(config.base.backbone.weights)) {
    problems.push(`base.backbone.weights: file not found: ${config.base.backbone.weights}`);
  }
  if (problems.length > 0) {
    const setup = config.setup.length ? `; if the data is made by the config's setup command(s), run them first: ${config.setup.join(' && ')}` : '';
    throw new InputError(`sweep config names missing inputs: ${problems.join('; ')}`, source, `fix the path(s); relative paths resolve from the config file's folder${setup}`);
  }
}
