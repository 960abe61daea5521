/**
 * Progress over a sweep's cells: one line per finished cell with the count,
 * the rate and the ETA. The cells draw their own bars (src/util/progress.ts)
 * in between, so this reporter writes whole lines instead of a second live bar
 * that would fight them for the terminal line. The ETA counts only cells that
 * train or fit (re-scoring with new fusion weights takes milliseconds).
 */
import { formatSeconds } from '../util/progress.ts';

export interface SweepProgress {
  /** A cell is about to run. */
  start(name: string, heavy: boolean): void;
  /** It finished (or failed). */
  finish(name: string, status: 'done' | 'failed', seconds: number): void;
  note(message: string): void;
}

export function sweepProgress(total: number, heavyTotal: number, opts: { silent?: boolean } = {}): SweepProgress {
  const quiet = opts.silent || process.env.MULTICUE_QUIET === '1';
  const started = Date.now();
  let done = 0;
  let heavyDone = 0;
  let heavySeconds = 0;
  let currentHeavy = false;
  const write = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  return {
    start(name, heavy) {
      currentHeavy = heavy;
      write(`sweep [${done + 1}/${total}] ${name}`);
    },
    finish(name, status, seconds) {
      done++;
      if (currentHeavy) {
        heavyDone++;
        heavySeconds += seconds;
      }
      const elapsed = (Date.now() - started) / 1000;
      const rate = done / Math.max(1e-3, elapsed / 60);
      const perHeavy = heavyDone > 0 ? heavySeconds / heavyDone : NaN;
      const eta = heavyTotal - heavyDone === 0 ? 0 : (heavyTotal - heavyDone) * perHeavy;
      write(
        `sweep: ${done}/${total} cells | ${rate.toFixed(2)} cells/min | ETA ${formatSeconds(eta)} | ${name} ${status} in ${formatSeconds(seconds)}`,
      );
    },
    note(message) {
      write(`sweep: ${message}`);
    },
  };
}
