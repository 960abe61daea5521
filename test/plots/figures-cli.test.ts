import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { exampleSweepResults } from '../../src/experiments/example-results.ts';
import { writeSweepResults } from '../../src/experiments/sweep-results.ts';
import { perClassTable, readTableCsv, resultsTable, rowsOf } from '../../src/experiments/tables.ts';
import { selectSetting } from '../../src/experiments/settings.ts';
import { DEFAULT_CHROMIUM } from '../../src/plots/render-png.ts';
import { REPO_ROOT } from '../../src/util/paths.ts';

const hasChromium = existsSync(process.env.MULTICUE_CHROMIUM ?? DEFAULT_CHROMIUM);

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-figures-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, MULTICUE_QUIET: '1' },
  });
}

test('multicue figures results writes every supported figure as HTML (+ PNG) and the tables as CSV', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const sweep = join(dir, 'sweep');
  const example = exampleSweepResults({ categories: ['carpet', 'wood'], seeds: [0, 1], fusionStep: 0.5, alphas: [0.1, 1], lambdas: [0.1], imagesPerCell: 10 });
  await writeSweepResults(sweep, example);
  const out = join(dir, 'figures');
  const run = cli('figures', 'results', '--sweep', sweep, '--out', out, ...(hasChromium ? [] : ['--no-png']));
  assert.equal(run.status, 0, run.stderr);
  const files = new Set(readdirSync(out));
  const figures = [
    'robustness-image_auroc',
    'robustness-pixel_auroc_grad',
    'robustness-pixel_auroc_seg',
    'robustness-pixel_auroc_product',
    'relative-drop-image_auroc',
    'shots-image_auroc',
    'fusion-grid-image_auroc',
    'alpha-lambda-grid-image_auroc',
    'cue-distributions-carpet-r10',
    'cue-distributions-wood-r10',
  ];
  for (const name of figures) {
    assert.ok(files.has(`${name}.html`), `${name}.html`);
    if (hasChromium) {
      assert.ok(files.has(`${name}.png`), `${name}.png`);
      const stats = await sharp(join(out, `${name}.png`)).stats();
      assert.ok(stats.channels[0].stdev > 5, `${name}.png is not blank`);
    }
  }
  for (const csv of ['summary-mean-std', 'per-class-image_auroc-r10', 'ablation-multicue-r10', 'relative-drop-image_auroc', 'shots-gain-image_auroc', 'fusion-grid-image_auroc']) {
    assert.ok(files.has(`${csv}.csv`), `${csv}.csv`);
  }
  // The per-class CSV equals the table computed directly at the main setting.
  const direct = perClassTable(selectSetting(resultsTable(example.metrics), { vary: ['ratio'] }).table, 'image_auroc', { ratio: 0.1 });
  assert.deepEqual(rowsOf(readTableCsv(readFileSync(join(out, 'per-class-image_auroc-r10.csv'), 'utf8'))), rowsOf(direct));
  assert.match(run.stdout, /wrote .*robustness-image_auroc\.html/);
  assert.doesNotMatch(run.stdout, /skipped/);
  if (!hasChromium) t.diagnostic(`no Chromium at ${DEFAULT_CHROMIUM}: PNG output not tested`);
});

test('figures results says which figures the data cannot support, and names a missing sweep', async (t) => {
  const dir = tempDir(t);
  const sweep = join(dir, 'one-ratio');
  const { metrics } = exampleSweepResults({ methods: ['patchcore'], categories: ['carpet'], ratios: [0.1], seeds: [0] });
  await writeSweepResults(sweep, { metrics });
  const run = cli('figures', 'results', '--sweep', sweep, '--out', join(dir, 'out'), '--no-png', '--no-html');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /skipped robustness curves and relative drop .*1 contamination ratio/);
  assert.match(run.stdout, /skipped shots figure/);
  assert.match(run.stdout, /skipped score distributions .*no image-scores\.json/);
  assert.ok(existsSync(join(dir, 'out', 'per-class-image_auroc-r10.csv')));

  const missing = cli('figures', 'results', '--sweep', join(dir, 'nope'), '--out', join(dir, 'out2'), '--no-png');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /sweep folder not found/);
  assert.match(missing.stderr, /fix:/);
  assert.doesNotMatch(missing.stderr, /at .*\.ts:\d+/, 'no stack trace for bad input');
});
