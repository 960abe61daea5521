import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import { DataSpecSchema } from './spec.ts';

/**
 * The manifest: which file went where in one contaminated few-shot experiment
 * (METHOD §1.3). Written next to every result; the trainer and evaluator read
 * their images from it. No timestamps inside: the same inputs give the same bytes.
 */

export const MANIFEST_ROLES = ['nominal', 'contamination', 'fewshot', 'test'] as const;
export type ManifestRole = (typeof MANIFEST_ROLES)[number];

const binary = z.union([z.literal(0), z.literal(1)]);

export const ManifestItemSchema = z.strictObject({
  /** Unique; a contaminating image drawn again (with replacement) gets `#2`, `#3`, ... */
  id: z.string().min(1),
  path: z.string().min(1),
  role: z.enum(MANIFEST_ROLES),
  /** True label: 0 nominal, 1 anomalous. */
  label: binary,
  /** The label the learner sees: 0 for nominal and contamination, 1 for few-shot; absent for test. */
  trainLabel: binary.optional(),
  defect: z.string(),
  /** Null for nominal images and anomalies without a mask (those are left out of pixel metrics). */
  maskPath: z.string().nullable(),
  /** Contamination only: seed of its Gaussian noise (see applyContaminationNoise). */
  noiseSeed: z.number().int().nonnegative().optional(),
});
export type ManifestItem = z.infer<typeof ManifestItemSchema>;

export const ProtocolParamsSchema = z.strictObject({
  /** Contamination ratio r: anomalies make up r of the contaminated training pool. */
  ratio: z.number().min(0).lt(1, 'must be below 1'),
  /** k few-shot real anomalies. */
  shots: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative(),
  /** Std of the contamination noise on the [0,1] scale. */
  noiseStd: z.number().nonnegative().default(0.1),
  /** Allow drawing contaminating anomalies more than once when too few exist. */
  withReplacement: z.boolean().default(false),
});
export type ProtocolParams = z.infer<typeof ProtocolParamsSchema>;
export type ProtocolParamsInput = z.input<typeof ProtocolParamsSchema>;

export const ManifestCountsSchema = z.strictObject({
  nominal: z.number().int().nonnegative(),
  contamination: z.number().int().nonnegative(),
  fewshot: z.number().int().nonnegative(),
  test: z.number().int().nonnegative(),
  testNominal: z.number().int().nonnegative(),
  testAnomalous: z.number().int().nonnegative(),
  /** Contaminating items that repeat an image already drawn (only with replacement). */
  contaminationRepeats: z.number().int().nonnegative(),
});
export type ManifestCounts = z.infer<typeof ManifestCountsSchema>;

export const ManifestSchema = z
  .strictObject({
    version: z.literal(1),
    createdBy: z.literal('multicue'),
    dataSpec: DataSpecSchema,
    params: ProtocolParamsSchema,
    counts: ManifestCountsSchema,
    /** Problems the protocol ran into (sampling with replacement, empty test classes). */
    warnings: z.array(z.string()),
    items: z.array(ManifestItemSchema),
  })
  .superRefine((manifest, ctx) => {
    const ids = new Set<string>();
    manifest.items.forEach((item, index) => {
      const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: ['items', index, key], message });
      if (ids.has(item.id)) issue('id', `duplicate id "${item.id}"`);
      ids.add(item.id);
      const expectedTrainLabel = { nominal: 0, contamination: 0, fewshot: 1, test: undefined }[item.role];
      if (item.trainLabel !== expectedTrainLabel) {
        issue('trainLabel', `must be ${expectedTrainLabel ?? 'absent'} for role "${item.role}"`);
      }
      if ((item.role === 'contamination') !== (item.noiseSeed !== undefined)) {
        issue('noiseSeed', item.role === 'contamination' ? 'required for contamination items' : 'only contamination items have one');
      }
    });
    const roleCount = (role: ManifestRole) => manifest.items.filter((i) => i.role === role).length;
    for (const role of MANIFEST_ROLES) {
      if (manifest.counts[role] !== roleCount(role)) {
        ctx.addIssue({ code: 'custom', path: ['counts', role], message: `says ${manifest.counts[role]} but ${roleCount(role)} items have role "${role}"` });
      }
    }
  });
export type Manifest = z.infer<typeof ManifestSchema>;

/** The manifest's exact bytes: stable key order from construction, 2-space JSON. */
export function manifestJson(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

/** Write atomically (readers never see half a manifest). */
export function writeManifest(path: string, manifest: Manifest): void {
  writeFileAtomicSync(resolve(path), manifestJson(manifest));
}

/** Read and validate a manifest; errors name the file and the bad key (e.g. items[3].role). */
export function readManifest(path: string): Manifest {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw new InputError('manifest file not found or unreadable', abs, 'check the path, or write one with `multicue split ... --out <file>`');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`manifest is not valid JSON (${(err as Error).message})`, abs, 'regenerate it with `multicue split`');
  }
  const result = ManifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => `${formatKey(issue.path)}: ${issue.message}`);
    const more = result.error.issues.length > 5 ? `; and ${result.error.issues.length - 5} more` : '';
    throw new InputError(
      `invalid manifest: ${problems.join('; ')}${more}`,
      abs,
      'fix that key, or regenerate the manifest with `multicue split` (same seed gives the same manifest)',
    );
  }
  return result.data;
}

/** ['items', 3, 'role'] → items[3].role */
function formatKey(path: PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}
