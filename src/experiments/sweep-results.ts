/** Reading and writing a sweep folder's tidy results (results-schema.ts). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import {
  IMAGE_SCORES_FILE,
  ImageScoreRowSchema,
  MetricRowSchema,
  RESULTS_FILE,
  type ImageScoreRow,
  type MetricRow,
  type MetricRowInput,
} from './results-schema.ts';

export interface SweepResults {
  metrics: MetricRow[];
  /** null when the sweep wrote no per-image scores. */
  imageScores: ImageScoreRow[] | null;
}

const MAX_ISSUES_SHOWN = 5;

/** Parse rows against a schema; the error names the file, the first bad rows and fields. */
export function parseRows<S extends z.ZodType>(schema: S, json: unknown, path: string): z.infer<S>[] {
  if (!Array.isArray(json)) {
    throw new InputError('expected a JSON array of rows', path, `write an array of ${path.endsWith(IMAGE_SCORES_FILE) ? 'ImageScoreRow' : 'MetricRow'} objects (src/experiments/results-schema.ts)`);
  }
  const result = z.array(schema).safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => {
    const [row, ...field] = issue.path;
    return `row ${String(row)}${field.length ? ` field "${field.join('.')}"` : ''}: ${issue.message}`;
  });
  const more = result.error.issues.length > MAX_ISSUES_SHOWN ? `\n  (${result.error.issues.length - MAX_ISSUES_SHOWN} more problems)` : '';
  throw new InputError(`rows do not match the results schema:\n  ${issues.join('\n  ')}${more}`, path, 'fix the writer of this file; the schema is in src/experiments/results-schema.ts');
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`not valid JSON (${err instanceof Error ? err.message : String(err)})`, path, 'the file is truncated or hand-edited: rerun the sweep that wrote it');
  }
}

/** Read DIR/results.json (required) and DIR/image-scores.json (optional). */
export function readSweepResults(dir: string): SweepResults {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError('sweep folder not found', dir, 'pass the folder a sweep wrote (it holds results.json)');
  }
  const resultsPath = join(dir, RESULTS_FILE);
  if (!existsSync(resultsPath)) {
    throw new InputError(`no ${RESULTS_FILE} in the sweep folder`, resultsPath, 'run the sweep to completion first, or pass the folder that holds results.json');
  }
  const metrics = parseRows(MetricRowSchema, readJson(resultsPath), resultsPath);
  if (metrics.length === 0) {
    throw new InputError(`${RESULTS_FILE} holds no rows`, resultsPath, 'the sweep finished no cell: check its log');
  }
  const scoresPath = join(dir, IMAGE_SCORES_FILE);
  const imageScores = existsSync(scoresPath) ? parseRows(ImageScoreRowSchema, readJson(scoresPath), scoresPath) : null;
  return { metrics, imageScores };
}

/** Write a sweep folder's results files atomically (the sweep runner and tests use this). */
export async function writeSweepResults(
  dir: string,
  results: { metrics: MetricRowInput[]; imageScores?: ImageScoreRow[] | null },
): Promise<void> {
  const metrics = parseRows(MetricRowSchema, results.metrics, join(dir, RESULTS_FILE));
  await writeFileAtomic(join(dir, RESULTS_FILE), JSON.stringify(metrics, null, 1) + '\n');
  if (results.imageScores) {
    const scores = parseRows(ImageScoreRowSchema, results.imageScores, join(dir, IMAGE_SCORES_FILE));
    await writeFileAtomic(join(dir, IMAGE_SCORES_FILE), JSON.stringify(scores) + '\n');
  }
}
