import cliProgress from 'cli-progress';

/** A progress reporter with rate and ETA; silent when not a TTY unless forced. */
export interface Progress {
  tick(n?: number, info?: string): void;
  done(): void;
}

export interface ProgressOptions {
  /** Print even when stderr is not a terminal (one line every few seconds). */
  force?: boolean;
  /** Never print (tests, notebooks that draw their own). */
  silent?: boolean;
  unit?: string;
}

export function progress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const unit = opts.unit ?? 'it';
  if (opts.silent || process.env.MULTICUE_QUIET === '1') return { tick() {}, done() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted} {info}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const start = Date.now();
    let value = 0;
    bar.start(total, 0, { rate: '0.0', info: '' });
    return {
      tick(n = 1, info = '') {
        value += n;
        const rate = value / Math.max(1e-3, (Date.now() - start) / 1000);
        bar.update(value, { rate: rate.toFixed(rate < 10 ? 2 : 1), info });
      },
      done() {
        bar.stop();
      },
    };
  }
  // Not a terminal (CI logs, notebooks): a plain line at most every 5 s.
  const start = Date.now();
  let value = 0;
  let lastPrint = 0;
  const line = (info: string) => {
    const secs = (Date.now() - start) / 1000;
    const rate = value / Math.max(1e-3, secs);
    const eta = rate > 0 ? (total - value) / rate : NaN;
    process.stderr.write(
      `${label}: ${value}/${total} ${unit} | ${rate.toFixed(2)} ${unit}/s | ETA ${formatSeconds(eta)} ${info}\n`,
    );
  };
  return {
    tick(n = 1, info = '') {
      value += n;
      const now = Date.now();
      if (now - lastPrint > 5000 || value === total) {
        lastPrint = now;
        line(info);
      }
    },
    done() {
      if (value !== total) line('');
    },
  };
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
