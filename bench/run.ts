/**
 * `npm run bench`: this engine and PyTorch CPU side by side on the same
 * workloads, written to BENCHMARKS.md (between the bench markers; the notes
 * around them are kept).
 *
 *   npm run bench [-- --quick] [-- --threads 1,2] [-- --only resnet18-forward,decoder-step] [-- --no-torch]
 *
 * --only runs print their table without touching BENCHMARKS.md.
 *
 * The multicue side runs in a child process per wasm thread count
 * (MULTICUE_WASM_THREADS), one after the other, then PyTorch (bench/torch_bench.py
 * with Debian's /usr/bin/python3) when python3-torch and python3-torchvision are installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/util/paths.ts';
import { writeFileAtomicSync } from '../src/util/atomic.ts';
import type { Outcome, Measurement } from './tfjs_bench.ts';

const PYTHON = '/usr/bin/python3';
const BEGIN = '<!-- bench:begin (written by `npm run bench`; edit outside the markers) -->';
const END = '<!-- bench:end -->';

interface SideResult {
  facts: Record<string, unknown>;
  results: Record<string, Outcome>;
  load: [number, number];
}

interface Workload {
  name: string;
  title: string;
  target?: { value: number; better: 'higher' | 'lower'; text: string };
}

const WORKLOADS: Workload[] = [
  { name: 'resnet18-forward', title: 'ResNet-18 forward, 256², batch 8', target: { value: 8, better: 'higher', text: '≥ 8 img/s' } },
  { name: 'mobilenetv2-forward', title: 'MobileNetV2 forward, 256², batch 8' },
  {
    name: 'input-gradient',
    title: 'ResNet-18 ∂sum(layer4)/∂input, 256², 1 image',
    target: { value: 0.8, better: 'lower', text: '≤ 0.8 s/img' },
  },
  {
    name: 'decoder-step',
    title: 'Segmentation decoder train step (fwd+bwd+Adam), 8×32×32×896 → 256²',
    target: { value: 4, better: 'lower', text: '≤ 4 s' },
  },
];

function parseArgs(argv: string[]) {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const threads = (value('--threads') ?? (cores > 1 ? `1,${Math.min(cores, 8)}` : '1'))
    .split(',')
    .map((t) => Number(t.trim()))
    .filter((t) => Number.isInteger(t) && t >= 1);
  return {
    quick: argv.includes('--quick'),
    only: value('--only'),
    torch: !argv.includes('--no-torch'),
    threads: [...new Set(threads)],
    cores,
  };
}

/** Run a child that prints one JSON object on its last stdout line; stderr shows progress. */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): SideResult | string {
  const before = os.loadavg()[0];
  const child = spawnSync(command, args, {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const after = os.loadavg()[0];
  if (child.error) return `could not start ${command}: ${child.error.message}`;
  const last = child.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as Omit<SideResult, 'load'>;
    return { ...parsed, load: [before, after] };
  } catch {
    return `${command} exited with ${child.status}; no result line`;
  }
}

function torchAvailable(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'python3-torch / python3-torchvision not installed (apt-get install python3-torch python3-torchvision)';
  return null;
}

function isMeasurement(o: Outcome | undefined): o is Measurement {
  return Boolean(o && 'value' in o);
}

function formatValue(o: Outcome | undefined): string {
  if (!o) return '–';
  if (!isMeasurement(o)) return `skipped: ${o.skipped}`;
  const digits = o.value >= 100 ? 0 : o.value >= 10 ? 1 : 2;
  return `${o.value.toFixed(digits)} ${o.unit} (cpu ${o.cpuShare.toFixed(2)})`;
}

/** Time per unit of work, so rates and durations compare the same way (lower = faster). */
function secondsPerUnit(o: Measurement): number {
  return o.unit.endsWith('/s') ? 1 / o.value : o.value;
}

function cpuSecondsPerUnit(o: Measurement): number {
  return secondsPerUnit(o) * o.cpuShare;
}

function meetsTarget(o: Measurement, target: NonNullable<Workload['target']>): boolean {
  return target.better === 'higher' ? o.value >= target.value : o.value <= target.value;
}

function buildSection(sides: Array<{ label: string; result: SideResult | string }>, torch: SideResult | string, opts: ReturnType<typeof parseArgs>): string {
  const header = [
    'Workload',
    ...sides.map((s) => s.label),
    'PyTorch CPU',
    'time ratio (best multicue / PyTorch)',
    'CPU-time ratio',
    'target',
    'met',
  ];
  const rows = WORKLOADS.filter((w) => !opts.only || opts.only.split(',').includes(w.name)).map((w) => {
    const ours = sides.map((s) => (typeof s.result === 'string' ? undefined : s.result.results[w.name]));
    const measured = ours.filter(isMeasurement);
    const best = measured.sort((a, b) => secondsPerUnit(a) - secondsPerUnit(b))[0];
    const reference = typeof torch === 'string' ? undefined : torch.results[w.name];
    const ratio = best && isMeasurement(reference) ? `${(secondsPerUnit(best) / secondsPerUnit(reference)).toFixed(1)}×` : '–';
    // CPU seconds per unit of work: less sensitive to what else the machine was running.
    const cheapest = measured.sort((a, b) => cpuSecondsPerUnit(a) - cpuSecondsPerUnit(b))[0];
    const cpuRatio =
      cheapest && isMeasurement(reference) ? `${(cpuSecondsPerUnit(cheapest) / cpuSecondsPerUnit(reference)).toFixed(1)}×` : '–';
    const met = w.target && best ? (meetsTarget(best, w.target) ? 'yes' : 'no') : '–';
    return [
      w.title,
      ...ours.map(formatValue),
      typeof torch === 'string' ? 'skipped' : formatValue(reference),
      ratio,
      cpuRatio,
      w.target?.text ?? '–',
      met,
    ];
  });
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

  const facts: string[] = [];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  facts.push(`- Machine: ${opts.cores} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}`);
  facts.push(`- Date: ${new Date().toISOString()}${opts.quick ? ' (quick run: fewer repetitions)' : ''}`);
  for (const s of sides) {
    if (typeof s.result === 'string') {
      facts.push(`- ${s.label}: ${s.result}`);
      continue;
    }
    const f = s.result.facts;
    facts.push(
      `- ${s.label}: backend ${f.backend}, ${f.threads ?? '–'} thread(s), tfjs ${f.tfjs}, tfjs-backend-wasm ${f.tfjsWasm}, ` +
        `node ${f.node}; load average ${s.result.load[0].toFixed(2)} → ${s.result.load[1].toFixed(2)}`,
    );
  }
  if (typeof torch === 'string') facts.push(`- PyTorch: skipped (${torch})`);
  else {
    const f = torch.facts;
    facts.push(
      `- PyTorch CPU: torch ${f.torch}, torchvision ${f.torchvision}, ${f.threads} thread(s), python ${f.python}; ` +
        `load average ${torch.load[0].toFixed(2)} → ${torch.load[1].toFixed(2)}`,
    );
  }
  const decoder = sides.map((s) => (typeof s.result === 'string' ? undefined : s.result.results['decoder-step'])).find(isMeasurement);
  if (decoder?.note) facts.push(`- Decoder implementation on the multicue side: ${decoder.note}`);
  facts.push(
    '- Each value is the median of 3 timed runs after 1 warm-up (2 with --quick). "cpu" is process CPU time / wall time ' +
      'while timing: below the thread count means the machine was busy with other work. "CPU-time ratio" compares ' +
      'CPU seconds per image/step (wall × cpu share; lowest multicue column vs PyTorch), which depends less on that load.',
  );
  facts.push(`- Load average (1 min) before the run: ${loadAtStart.toFixed(2)}; after: ${os.loadavg()[0].toFixed(2)}`);
  return [BEGIN, '', table, '', ...facts, '', END].join('\n');
}

function writeReport(section: string): string {
  const path = join(REPO_ROOT, 'BENCHMARKS.md');
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\n';
  const start = old.indexOf(BEGIN);
  const end = old.indexOf(END);
  const next =
    start >= 0 && end > start ? old.slice(0, start) + section + old.slice(end + END.length) : `${old.trimEnd()}\n\n${section}\n`;
  writeFileAtomicSync(path, next);
  return path;
}

const loadAtStart = os.loadavg()[0];

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const childArgs = [...(opts.quick ? ['--quick'] : []), ...(opts.only ? ['--only', opts.only] : [])];
  const sides = opts.threads.map((threads) => {
    const label = `multicue (${threads} thread${threads > 1 ? 's' : ''})`;
    process.stderr.write(`== ${label}\n`);
    const result = runChild(process.execPath, ['--import', 'tsx', 'bench/tfjs_bench.ts', ...childArgs], {
      ...process.env,
      MULTICUE_WASM_THREADS: String(threads),
      MULTICUE_QUIET: '1',
    });
    return { label, result };
  });
  let torch: SideResult | string = 'disabled with --no-torch';
  if (opts.torch) {
    const missing = torchAvailable();
    if (missing) {
      process.stderr.write(`notice: PyTorch side skipped: ${missing}\n`);
      torch = missing;
    } else {
      process.stderr.write('== PyTorch CPU\n');
      torch = runChild(PYTHON, ['bench/torch_bench.py', '--threads', String(opts.cores), ...childArgs], process.env);
    }
  }
  const section = buildSection(sides, torch, opts);
  process.stdout.write(`${section}\n`);
  // A partial run (--only) is printed, not written over the full table.
  if (opts.only) process.stderr.write('not written to BENCHMARKS.md (--only run)\n');
  else process.stderr.write(`written: ${writeReport(section)}\n`);
}

main();
