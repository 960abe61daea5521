// Executes the teaching notebooks headless with Jupyter's nbconvert and the tslab kernel.
//
//   npm run notebooks                      real scale; executed copies in notebooks/executed/
//   MULTICUE_SMOKE=1 npm run notebooks     tiny scale (CI): minutes on 2 cores
//   npm run notebooks -- --inplace         also copy each passing notebook, with its outputs,
//                                          over the committed one in notebooks/
//   npm run notebooks -- 02 05             only notebooks whose file name contains a substring
//
// Notebooks run one after another (they share the feature cache, the sweep
// folder and two cores). A cell that throws fails its notebook and the command
// exits non-zero; the executed copy keeps the error output for reading, and the
// failing cell's error (tslab prints it to the cell's stderr) is shown here.
// MULTICUE_NOTEBOOK_TIMEOUT sets the per-cell timeout in seconds (default 1800
// smoke, none real: a real-scale sweep cell runs for hours on a CPU).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const notebooksDir = join(repo, 'notebooks');
const executedDir = join(notebooksDir, 'executed');
const args = process.argv.slice(2);
const inplace = args.includes('--inplace');
const filters = args.filter((a) => !a.startsWith('--'));
const unknown = args.filter((a) => a.startsWith('--') && a !== '--inplace');
if (unknown.length > 0) fail(`unknown option ${unknown.join(' ')}`, 'options: --inplace, then optional file-name substrings');

const smoke = ['1', 'true', 'yes'].includes((process.env.MULTICUE_SMOKE ?? '').trim().toLowerCase());
const timeout = process.env.MULTICUE_NOTEBOOK_TIMEOUT ?? (smoke ? '1800' : '-1');
if (!/^-?\d+$/.test(timeout)) fail(`MULTICUE_NOTEBOOK_TIMEOUT must be whole seconds (-1: none), got "${timeout}"`, 'e.g. MULTICUE_NOTEBOOK_TIMEOUT=3600');

function fail(message, fix) {
  console.error(`run-notebooks: ${message}${fix ? `\n  fix: ${fix}` : ''}`);
  process.exit(2);
}

// The tools must be there before any notebook starts.
const kernels = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { encoding: 'utf8' });
if (kernels.error || kernels.status !== 0) {
  fail('jupyter not found', 'install Debian\'s Jupyter: apt-get install jupyter-nbconvert jupyter-client python3-ipykernel (see .ci/run)');
}
if (!JSON.parse(kernels.stdout).kernelspecs?.tslab) {
  fail('the tslab kernel is not installed', 'npx tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab"');
}

const notebooks = readdirSync(notebooksDir)
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (notebooks.length === 0) fail(`no notebook in ${relative(repo, notebooksDir)}/ matches ${filters.join(', ')}`);
mkdirSync(executedDir, { recursive: true });

console.log(`${notebooks.length} notebook(s), ${smoke ? 'smoke' : 'real'} scale, per-cell timeout ${timeout === '-1' ? 'none' : `${timeout}s`}, executed copies in ${relative(repo, executedDir)}/${inplace ? ', passing ones copied over notebooks/' : ''}`);
const results = [];
const started = Date.now();
for (const name of notebooks) {
  const t0 = Date.now();
  const input = join(notebooksDir, name);
  const output = join(executedDir, name);
  console.log(`\n▶ ${name}`);
  // --allow-errors so the executed copy is written even when a cell fails; failure is decided from its outputs.
  const run = spawnSync(
    'jupyter',
    ['nbconvert', '--to', 'notebook', '--execute', input, '--output-dir', executedDir, '--output', name, '--allow-errors',
      `--ExecutePreprocessor.timeout=${timeout}`, '--ExecutePreprocessor.kernel_name=tslab'],
    // nbconvert starts the kernel in the notebook's folder; the environment (MULTICUE_SMOKE, ...) passes through.
    { cwd: notebooksDir, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' } },
  );
  const seconds = (Date.now() - t0) / 1000;
  const summary = run.status === 0 && existsSync(output) ? outputSummary(output) : null;
  const ok = summary !== null && summary.errors.length === 0;
  if (!ok) process.stderr.write(summary ? summary.errors[0] : failureReport(run));
  if (ok && inplace) writeFileSync(input, withoutTimings(output));
  results.push({ name, ok, seconds, summary });
  console.log(`${ok ? '✔' : '✘'} ${name} ${seconds.toFixed(0)}s${summary ? ` (${summary.cells} code cells, ${summary.figures} figures, ${summary.errors.length} failed cells)` : ''}`);
}

/** The notebook JSON without nbconvert's per-cell execution timestamps (they would change on every run). */
function withoutTimings(path) {
  const nb = JSON.parse(readFileSync(path, 'utf8'));
  for (const cell of nb.cells) delete cell.metadata?.execution;
  return `${JSON.stringify(nb, null, 1)}\n`;
}

/** The failing cell and its error from nbconvert's output (not its Python traceback). */
function failureReport(run) {
  if (run.error) return `${run.error.message}\n`;
  const text = run.stderr ?? '';
  const at = text.indexOf('CellExecutionError');
  const lines = (at >= 0 ? text.slice(at) : text).split('\n').filter((l) => !/frozen modules|Debugger warning|PYDEVD|Xfrozen|debugger miss/.test(l));
  return `${lines.join('\n')}\n`;
}

/** The executed notebook's code cells, inline figures (PNG or HTML) and failed cells (with their error text). */
function outputSummary(path) {
  const nb = JSON.parse(readFileSync(path, 'utf8'));
  const code = nb.cells.filter((c) => c.cell_type === 'code');
  const outputs = code.flatMap((c) => c.outputs ?? []);
  const text = (t) => (Array.isArray(t) ? t.join('') : (t ?? ''));
  const stderrOf = (c) => (c.outputs ?? []).filter((o) => o.name === 'stderr').map((o) => text(o.text)).join('');
  // tslab reports an error thrown by an awaited promise only as a stack trace on
  // stderr, with no "error" output: count that as a failed cell too.
  const thrown = (c) => /\b\w*Error\b[^\n]*\n(?:[^\n]*\n)*?\s+at /.test(stderrOf(c));
  const errors = code
    .filter((c) => (c.outputs ?? []).some((o) => o.output_type === 'error') || thrown(c))
    .map((c) => {
      const error = c.outputs.find((o) => o.output_type === 'error');
      return `failed cell:\n${text(c.source)}\n---\n${stderrOf(c)}${error ? `${error.ename}: ${error.evalue}\n` : ''}`;
    });
  return {
    cells: code.length,
    figures: outputs.filter((o) => o.data && (o.data['image/png'] || o.data['text/html'])).length,
    errors,
  };
}

const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length}/${results.length} notebooks passed in ${((Date.now() - started) / 1000).toFixed(0)}s`);
if (failed.length > 0) {
  console.error(`failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exit(1);
}
