/**
 * Finished run directories made with other settings. Resuming skips every cell
 * whose run directory holds metrics.json; if the config changed since (another
 * schedule, another backbone), skipping would mix old and new results under
 * one name. The recorded experiment.json is compared with the cell's (both
 * with defaults filled). Keys that cannot change a cell's results are
 * ignored: the feature cache location, and for the unsupervised baselines the
 * detector's settings (config, anomaly source, gradient maps, main map).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExperiment } from '../pipeline/experiment.ts';
import { isSupervisedMethod } from '../pipeline/prepare.ts';
import { isFinishedRun, RUN_FILES } from '../pipeline/run-dir.ts';
import { InputError } from '../util/errors.ts';
import type { SweepCell } from './sweep-cells.ts';

export interface StaleCell {
  cell: SweepCell;
  /** The first differing key, e.g. "config.schedule.epochs: 8 in the run, 6 in the config". */
  difference: string;
}

const IGNORED_KEYS = new Set(['featureCache']);
const DETECTOR_KEYS = ['config', 'anomalySource', 'gradientMaps', 'mainMap'];

function firstDifference(recorded: unknown, wanted: unknown, ignored: ReadonlySet<string>, path: string[] = []): string | null {
  if (recorded && wanted && typeof recorded === 'object' && typeof wanted === 'object' && !Array.isArray(recorded) && !Array.isArray(wanted)) {
    const keys = [...new Set([...Object.keys(recorded), ...Object.keys(wanted)])].sort();
    for (const key of keys) {
      if (path.length === 0 && ignored.has(key)) continue;
      const found = firstDifference((recorded as Record<string, unknown>)[key], (wanted as Record<string, unknown>)[key], ignored, [...path, key]);
      if (found) return found;
    }
    return null;
  }
  if (JSON.stringify(recorded) === JSON.stringify(wanted)) return null;
  return `${path.join('.') || '(experiment)'}: ${JSON.stringify(recorded)} in the run, ${JSON.stringify(wanted)} in the config`;
}

/** The difference between a finished cell's recorded experiment and the config's, or null when they agree. */
export function staleDifference(cell: SweepCell): string | null {
  const path = join(cell.dir, RUN_FILES.experiment);
  if (!isFinishedRun(cell.dir) || !existsSync(path)) return null;
  let recorded: unknown;
  try {
    recorded = parseExperiment(JSON.parse(readFileSync(path, 'utf8')), path);
  } catch (err) {
    return `experiment.json unreadable (${(err as Error).message.split('\n')[0]})`;
  }
  const ignored = isSupervisedMethod(cell.method) ? IGNORED_KEYS : new Set([...IGNORED_KEYS, ...DETECTOR_KEYS]);
  return firstDifference(recorded, cell.experiment, ignored);
}

export function staleCells(cells: readonly SweepCell[]): StaleCell[] {
  return cells.flatMap((cell) => {
    const difference = staleDifference(cell);
    return difference ? [{ cell, difference }] : [];
  });
}

/** Refuse to resume over finished cells made with other settings (before any work). */
export function assertNoStaleCells(cells: readonly SweepCell[], out: string): void {
  const stale = staleCells(cells);
  if (stale.length === 0) return;
  const shown = stale.slice(0, 5).map((s) => `${s.cell.category}/${s.cell.name} (${s.difference})`);
  const more = stale.length > shown.length ? `; and ${stale.length - shown.length} more` : '';
  throw new InputError(
    `${stale.length} finished run director${stale.length === 1 ? 'y was' : 'ies were'} made with other settings: ${shown.join('; ')}${more}`,
    out,
    'delete those run directories (or the whole output folder) to rerun them with the new settings, or give the sweep another --out',
  );
}
