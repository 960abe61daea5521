import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomicSync } from '../../util/atomic.ts';
import { InputError } from '../../util/errors.ts';
import { progress } from '../../util/progress.ts';
import { Rng } from '../../util/rng.ts';
import { writePng } from '../image.ts';
import { SYNTHETIC_CATEGORIES, syntheticCategory } from './categories.ts';
import type { SyntheticCategory, SyntheticSample } from './category.ts';

/**
 * The embedded synthetic dataset: an MVTec-AD layout written from the
 * procedural categories, so the whole pipeline runs without downloads.
 *
 *   <out>/<category>/train/good/000.png
 *   <out>/<category>/test/good/000.png
 *   <out>/<category>/test/<defect>/000.png
 *   <out>/<category>/ground_truth/<defect>/000_mask.png   (exact binary masks)
 *   <out>/synthetic.json                                  (options and counts)
 *
 * Every image has its own generator seeded from (seed, category, split,
 * defect, index), so the same seed gives byte-identical files and changing
 * one count leaves the other images as they were.
 */

export const SyntheticDatasetOptionsSchema = z
  .object({
    /** Output folder (created). */
    out: z.string().min(1),
    seed: z.number().int().min(0).default(0),
    /** Side of the square images. */
    size: z.number().int().min(64).max(2048).default(256),
    /** Category names (default: all). */
    categories: z.array(z.string()).min(1).optional(),
    /** Nominal training images per category. */
    train: z.number().int().min(1).default(60),
    /** Nominal test images per category. */
    testGood: z.number().int().min(0).default(15),
    /** Test images per defect kind per category. */
    testPerDefect: z.number().int().min(1).default(6),
    /** No progress bar. */
    silent: z.boolean().default(false),
  })
  .strict();

export type SyntheticDatasetOptions = z.input<typeof SyntheticDatasetOptionsSchema>;

export interface SyntheticCategorySummary {
  name: string;
  kind: 'texture' | 'object';
  description: string;
  train: number;
  testGood: number;
  /** Test images per defect kind. */
  defects: Record<string, number>;
}

export interface SyntheticDatasetSummary {
  generator: string;
  root: string;
  seed: number;
  size: number;
  categories: SyntheticCategorySummary[];
  files: number;
}

const GENERATOR = 'multicue-synthetic/1';
const SUMMARY_FILE = 'synthetic.json';

export async function generateSyntheticDataset(input: SyntheticDatasetOptions): Promise<SyntheticDatasetSummary> {
  const parsed = SyntheticDatasetOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`bad synthetic dataset option ${issue.path.join('.') || ''}: ${issue.message}`, undefined, 'see `multicue synth --help`');
  }
  const opts = parsed.data;
  const root = resolve(opts.out);
  const categories = (opts.categories ?? SYNTHETIC_CATEGORIES.map((c) => c.name)).map(syntheticCategory);
  prepareOutput(root, categories);

  const jobs = categories.flatMap((category) => plan(category, opts));
  const bar = progress('synth', jobs.length, { unit: 'img', silent: opts.silent });
  // Rendering is synchronous JS; PNG encoding runs in sharp's threads, so keep a few writes in flight.
  const inFlight = new Set<Promise<void>>();
  for (const job of jobs) {
    const sample = job.category.render(new Rng(job.seedLabel(opts.seed)), opts.size, job.defect);
    checkSample(sample, job.defect, opts.size, job.category.name);
    const write = writeSample(join(root, job.category.name), job, sample).then(() => {
      inFlight.delete(write);
      bar.tick(1, job.category.name);
    });
    inFlight.add(write);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  bar.done();

  const summary: SyntheticDatasetSummary = {
    generator: GENERATOR,
    root,
    seed: opts.seed,
    size: opts.size,
    categories: categories.map((c) => ({
      name: c.name,
      kind: c.kind,
      description: c.description,
      train: opts.train,
      testGood: opts.testGood,
      defects: Object.fromEntries(c.defects.map((d) => [d, opts.testPerDefect])),
    })),
    files: jobs.reduce((n, job) => n + (job.defect ? 2 : 1), 0),
  };
  // The summary names no absolute path, so two outputs of one seed are byte-identical.
  writeJsonAtomicSync(join(root, SUMMARY_FILE), { ...summary, root: undefined });
  return summary;
}

interface Job {
  category: SyntheticCategory;
  folder: string;
  defect: string | null;
  name: string;
  seedLabel(seed: number): string;
}

function plan(category: SyntheticCategory, opts: { train: number; testGood: number; testPerDefect: number }): Job[] {
  const jobs: Job[] = [];
  const add = (folder: string, defect: string | null, count: number) => {
    const digits = Math.max(3, String(count - 1).length);
    for (let i = 0; i < count; i++) {
      jobs.push({
        category,
        folder,
        defect,
        name: String(i).padStart(digits, '0'),
        seedLabel: (seed) => `synthetic/${seed}/${category.name}/${folder}/${i}`,
      });
    }
  };
  add('train/good', null, opts.train);
  add('test/good', null, opts.testGood);
  for (const defect of category.defects) add(`test/${defect}`, defect, opts.testPerDefect);
  return jobs;
}

async function writeSample(categoryDir: string, job: Job, sample: SyntheticSample): Promise<void> {
  await writePng(join(categoryDir, job.folder, `${job.name}.png`), sample.image);
  if (job.defect && sample.mask) {
    await writePng(join(categoryDir, 'ground_truth', job.defect, `${job.name}_mask.png`), sample.mask);
  }
}

function checkSample(sample: SyntheticSample, defect: string | null, size: number, category: string): void {
  if (sample.image.width !== size || sample.image.height !== size) {
    throw new Error(`synthetic ${category}: rendered ${sample.image.width}×${sample.image.height}, expected ${size}²`);
  }
  if ((defect === null) !== (sample.mask === null)) {
    throw new Error(`synthetic ${category}: ${defect ?? 'good'} image ${defect ? 'lacks' : 'has'} a mask`);
  }
}

/**
 * Category folders are rewritten whole, so a smaller count leaves no stale
 * files behind. Only folders this generator wrote (marked by synthetic.json)
 * are cleared; anything else in the way is an error, never deleted.
 */
function prepareOutput(root: string, categories: readonly SyntheticCategory[]): void {
  const ours = existsSync(join(root, SUMMARY_FILE));
  for (const category of categories) {
    const dir = join(root, category.name);
    if (!existsSync(dir)) continue;
    if (!ours) {
      throw new InputError(
        `the output folder already holds a "${category.name}" folder that the synthetic generator did not write`,
        dir,
        'choose an empty or new --out folder (or one written by `multicue synth`)',
      );
    }
    for (const sub of ['train', 'test', 'ground_truth']) rmSync(join(dir, sub), { recursive: true, force: true });
  }
}
