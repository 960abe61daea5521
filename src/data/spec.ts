import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../util/errors.ts';

/**
 * Where a dataset lives and how it is laid out. Validated once at the edge
 * (CLI options or a JSON file); loaders trust it afterwards.
 */

const rootField = z.string().min(1, 'must name the dataset folder');
const categoryField = z.string().min(1, 'must not be empty');

export const MvtecSpecSchema = z.strictObject({
  format: z.literal('mvtec'),
  /** Folder holding one folder per category (`<root>/<category>/train/good`). */
  root: rootField,
  category: categoryField,
});

export const VisaSpecSchema = z.strictObject({
  format: z.literal('visa'),
  /** VisA root: the CSV's paths are relative to it. */
  root: rootField,
  category: categoryField,
  /** The 1-class split CSV (object,split,label,image,mask); default `split_csv/1cls.csv` under root. */
  splitCsv: z.string().min(1).optional(),
});

export const FolderSpecSchema = z.strictObject({
  format: z.literal('folder'),
  root: rootField,
  /** Default: the root folder's name. */
  category: categoryField.optional(),
  /** Folders or globs (relative to root) with nominal images. */
  nominal: z.array(z.string().min(1)).min(1, 'give at least one folder or glob of nominal images'),
  /** Folders or globs with anomalous images; the defect class is the first folder of the path under root. */
  anomalous: z.array(z.string().min(1)).min(1, 'give at least one folder or glob of anomalous images'),
  /** File-name glob of the images inside those folders (default: every image extension). */
  images: z.string().min(1).optional(),
  /**
   * Folder of the masks relative to root; may use {dir} (the image's folder
   * relative to root) and {defect}. Default: beside the image.
   */
  maskDir: z.string().min(1).optional(),
  /** Mask file name; placeholders {stem}, {name}, {ext}. E.g. `{stem}.png`. */
  maskPattern: z.string().min(1).default('{stem}_mask.png'),
  /** Folders or globs with nominal test images; without them a seeded fraction of `nominal` is held out. */
  testNominal: z.array(z.string().min(1)).optional(),
  testFraction: z.number().min(0).lt(1, 'must be below 1 (some nominal images must stay for training)').default(0.2),
  /** Seed of the nominal hold-out. */
  seed: z.number().int().nonnegative().default(0),
});

export const DataSpecSchema = z.discriminatedUnion('format', [MvtecSpecSchema, VisaSpecSchema, FolderSpecSchema]);

export type MvtecSpec = z.infer<typeof MvtecSpecSchema>;
export type VisaSpec = z.infer<typeof VisaSpecSchema>;
export type FolderSpec = z.infer<typeof FolderSpecSchema>;
export type DataSpec = z.infer<typeof DataSpecSchema>;
/** What a user may write: defaults not yet applied. */
export type DataSpecInput = z.input<typeof DataSpecSchema>;

const FORMATS = ['mvtec', 'visa', 'folder'] as const;

/** The CLI option of each spec key, so errors speak the user's language. */
const OPTION_OF_KEY: Record<string, string> = {
  format: '--format',
  root: '--root',
  category: '--category',
  splitCsv: '--split-csv',
  nominal: '--nominal',
  anomalous: '--anomalous',
  images: '--images',
  maskDir: '--mask-dir',
  maskPattern: '--mask-pattern',
  testNominal: '--test-nominal',
  testFraction: '--test-fraction',
  seed: '--split-seed',
};

const KEYS_OF_FORMAT: Record<(typeof FORMATS)[number], string[]> = {
  mvtec: Object.keys(MvtecSpecSchema.shape),
  visa: Object.keys(VisaSpecSchema.shape),
  folder: Object.keys(FolderSpecSchema.shape),
};

/** Where a spec came from: a JSON file (errors name it and its keys) or CLI options. */
export type SpecSource = { kind: 'file'; path: string } | { kind: 'cli' };

/**
 * Validate a raw spec. Relative roots resolve against `baseDir` (the JSON
 * file's folder, or the working directory for CLI options).
 */
export function parseDataSpec(raw: unknown, source: SpecSource = { kind: 'cli' }, baseDir = process.cwd()): DataSpec {
  const result = DataSpecSchema.safeParse(raw);
  if (!result.success) throw specError(result.error.issues, raw, source);
  return { ...result.data, root: resolve(baseDir, result.data.root) };
}

function specError(issues: z.core.$ZodIssue[], raw: unknown, source: SpecSource): InputError {
  const format = (raw as { format?: unknown } | null)?.format;
  const known = typeof format === 'string' && format in KEYS_OF_FORMAT ? (format as keyof typeof KEYS_OF_FORMAT) : null;
  const name = (key: string) => (source.kind === 'cli' ? `${OPTION_OF_KEY[key] ?? key}` : `"${key}"`);
  const lines = issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map(name).join(', ');
      return `${keys}: not used by format "${String(format)}"`;
    }
    if (issue.path[0] === 'format') return `${name('format')}: must be one of ${FORMATS.join(', ')} (got ${JSON.stringify(format)})`;
    const topKey = String(issue.path[0] ?? '');
    const missing = issue.code === 'invalid_type' && raw && typeof raw === 'object' && !(topKey in raw);
    const label = source.kind === 'cli' ? name(topKey) + (issue.path.length > 1 ? `[${issue.path.slice(1).join('.')}]` : '') : `"${key}"`;
    return `${label}: ${missing ? 'required' : issue.message}`;
  });
  const allowed = known ? ` Keys for format "${known}": ${KEYS_OF_FORMAT[known].join(', ')}.` : '';
  return new InputError(
    `invalid data spec: ${lines.join('; ')}`,
    source.kind === 'file' ? source.path : undefined,
    source.kind === 'file'
      ? `edit that key in the JSON file.${allowed}`
      : `fix the option (see --help).${known ? ` Options for --format ${known}: ${KEYS_OF_FORMAT[known].map((k) => OPTION_OF_KEY[k]).join(' ')}.` : ''}`,
  );
}

/** Read a DataSpec from a JSON file; its relative root is relative to the file. */
export function readDataSpecFile(path: string, overrides: Record<string, unknown> = {}): DataSpec {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    throw new InputError('data spec file not found or unreadable', abs, 'check the --data path');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`data spec file is not valid JSON (${(err as Error).message})`, abs, 'fix the JSON syntax');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('data spec file must hold a JSON object', abs, 'write {"format": ..., "root": ..., ...}');
  }
  // Options given on the command line win over the file (e.g. another --category).
  const merged = { ...(raw as Record<string, unknown>), ...overrides };
  const cliRoot = typeof overrides.root === 'string';
  return parseDataSpec(merged, { kind: 'file', path: abs }, cliRoot ? process.cwd() : dirname(abs));
}

/** The commander options behind the data flags (what `dataSpecFromOptions` reads). */
export interface DataOptions {
  data?: string;
  format?: string;
  root?: string;
  category?: string;
  nominal?: string[];
  anomalous?: string[];
  testNominal?: string[];
  images?: string;
  maskDir?: string;
  maskPattern?: string;
  testFraction?: string;
  splitSeed?: string;
  splitCsv?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Add the dataset options shared by every command that reads a dataset. */
export function addDataOptions<C extends Command>(cmd: C): C {
  cmd
    .option('--data <spec.json>', 'dataset spec as a JSON file (options below override its keys)')
    .option('--format <format>', `dataset layout: ${FORMATS.join(' | ')}`)
    .option('--root <dir>', 'dataset root folder')
    .option('--category <name>', 'category (mvtec/visa: which one; folder: a name, default the root folder name)')
    .option('--nominal <dir-or-glob>', 'folder: nominal image folder or glob relative to root (repeatable)', collect)
    .option('--anomalous <dir-or-glob>', 'folder: anomalous image folder or glob relative to root; defect class = its first folder (repeatable)', collect)
    .option('--test-nominal <dir-or-glob>', 'folder: nominal test image folder or glob (repeatable; default: hold out --test-fraction)', collect)
    .option('--images <glob>', 'folder: file-name glob of images, e.g. "*.jpg" (default: every image extension)')
    .option('--mask-dir <dir>', 'folder: mask folder relative to root, may use {dir} {defect} (default: beside the image)')
    .option('--mask-pattern <pattern>', 'folder: mask file name from {stem} {name} {ext} (default "{stem}_mask.png")')
    .option('--test-fraction <f>', 'folder: fraction of nominal images held out as test nominals (default 0.2)')
    .option('--split-seed <n>', 'folder: seed of that hold-out (default 0)')
    .option('--split-csv <file>', 'visa: split CSV relative to root (default split_csv/1cls.csv)');
  return cmd;
}

/** A numeric CLI option, or undefined when absent; a non-number names the option. */
export function cliNumber(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new InputError(`${option} must be a number (got "${value}")`, undefined, `e.g. ${option} 0.2`);
  }
  return n;
}

/** Build and validate a DataSpec from the options that `addDataOptions` added. */
export function dataSpecFromOptions(opts: DataOptions): DataSpec {
  const given: Record<string, unknown> = {
    format: opts.format,
    root: opts.root,
    category: opts.category,
    nominal: opts.nominal,
    anomalous: opts.anomalous,
    testNominal: opts.testNominal,
    images: opts.images,
    maskDir: opts.maskDir,
    maskPattern: opts.maskPattern,
    testFraction: cliNumber(opts.testFraction, '--test-fraction'),
    seed: cliNumber(opts.splitSeed, '--split-seed'),
    splitCsv: opts.splitCsv,
  };
  for (const key of Object.keys(given)) if (given[key] === undefined) delete given[key];
  if (opts.data) return readDataSpecFile(opts.data, given);
  if (given.format === undefined) {
    throw new InputError(
      'no dataset given',
      undefined,
      `pass --data spec.json, or --format ${FORMATS.join('|')} --root <dir> (and the options of that format; see --help)`,
    );
  }
  return parseDataSpec(given, { kind: 'cli' });
}

/** The category a spec names (folder specs default to the root's name). */
export function categoryOf(spec: DataSpec): string {
  if (spec.category) return spec.category;
  const parts = spec.root.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? 'dataset';
}
