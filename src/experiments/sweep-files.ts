/**
 * Where a sweep keeps things inside its output folder (kept apart from the
 * runner so readers such as the RESULTS.md generator load no tensors).
 *   runs/<category>/<cell>/   one run directory per cell (run-dir.ts)
 *   results.json              MetricRow[] (results-schema.ts)
 *   image-scores.json         ImageScoreRow[]
 *   failures.json             FailureRow[]: cells that failed, with their error
 *   sweep.json                the resolved config and the command that ran it
 *   features/                 the shared feature cache (default)
 */
import { join } from 'node:path';

export const SWEEP_FILE = 'sweep.json';
export const FAILURES_FILE = 'failures.json';
/** Written into a cell's run directory when it fails. */
export const ERROR_FILE = 'error.json';

/** The folder that holds a sweep's run directories. */
export function sweepRunsDir(out: string): string {
  return join(out, 'runs');
}

/** The default on-disk feature cache of a sweep (shared by all its cells). */
export function sweepFeatureCacheDir(out: string): string {
  return join(out, 'features');
}
