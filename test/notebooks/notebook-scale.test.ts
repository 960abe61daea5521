import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as aq from 'arquero';
import {
  ensureSyntheticData,
  fusionSimplex,
  magneticTileSpec,
  NotebookFigures,
  notebookExperimentBase,
  notebookScale,
  notebookScaleName,
  notebookSweepConfig,
  useSharedWeights,
  type NotebookDisplay,
} from '../../src/experiments/notebook-scale.ts';
import { parseSweepConfig } from '../../src/experiments/sweep-config.ts';
import { parseExperiment } from '../../src/pipeline/experiment.ts';
import { loadDataset } from '../../src/data/load-dataset.ts';
import { parseDataSpec } from '../../src/data/spec.ts';
import { robustnessFigure } from '../../src/plots/robustness.ts';
import { resultsTable } from '../../src/experiments/tables.ts';
import { exampleSweepResults } from '../../src/experiments/example-results.ts';
import { DEFAULT_CHROMIUM } from '../../src/plots/render-png.ts';
import { sharedDir } from '../../src/util/paths.ts';
import { InputError } from '../../src/util/errors.ts';

const hasChromium = existsSync(process.env.MULTICUE_CHROMIUM ?? DEFAULT_CHROMIUM);
const tileRoot = sharedDir() ? join(sharedDir()!, 'data', 'magnetic-tile') : null;
const hasTiles = tileRoot !== null && existsSync(join(tileRoot, 'MT_Free'));

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-notebook-scale-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A display that records what a notebook cell would show. */
function recordingDisplay(): NotebookDisplay & { shown: { kind: 'html' | 'png'; value: string | Uint8Array }[] } {
  const shown: { kind: 'html' | 'png'; value: string | Uint8Array }[] = [];
  return { shown, html: (value) => shown.push({ kind: 'html', value }), png: (value) => shown.push({ kind: 'png', value }) };
}

test('MULTICUE_SMOKE picks the scale: 1/true/yes is smoke, anything else (or unset) real', () => {
  for (const v of ['1', 'true', 'YES', ' 1 ']) assert.equal(notebookScaleName({ MULTICUE_SMOKE: v }), 'smoke', v);
  for (const v of [undefined, '', '0', 'false', 'no']) assert.equal(notebookScaleName({ MULTICUE_SMOKE: v }), 'real', String(v));
});

test('smoke scale is tiny and writes to git-ignored scratch folders; real scale writes figures/notebooks', () => {
  const repoRoot = '/repo';
  const smoke = notebookScale({ env: { MULTICUE_SMOKE: '1' }, repoRoot });
  assert.equal(smoke.name, 'smoke');
  assert.equal(smoke.figuresDir, join(repoRoot, 'figures', 'smoke'));
  assert.equal(smoke.sweepsDir, join(repoRoot, 'sweeps', `notebooks-smoke-cpu-64-${smoke.backbone}`));
  assert.notEqual(smoke.backbone, 'auto', 'auto is resolved to the backbone the weights allow');
  assert.ok(smoke.featureCache.startsWith(join(repoRoot, '.cache')));
  assert.ok(smoke.size >= 64 && smoke.size <= 96, `smoke input size ${smoke.size}`);
  assert.ok(smoke.synthetic.size >= 64 && smoke.synthetic.size <= 96);
  assert.equal(smoke.synthetic.categories.length, 1);
  assert.deepEqual(smoke.seeds, [0]);
  assert.equal(smoke.dataset.source, 'synthetic', 'smoke never reads the real data');
  const schedule = parseExperiment({ data: smoke.dataset.spec, protocol: { ratio: 0.1, shots: 1, seed: 0 }, ...notebookExperimentBase(smoke) }).config.schedule;
  assert.ok(schedule.epochs * schedule.stepsPerEpoch <= 20, 'a tiny schedule');

  const real = notebookScale({ env: { MULTICUE_NOTEBOOK_DATA: 'synthetic' }, repoRoot });
  assert.equal(real.name, 'real');
  assert.equal(real.figuresDir, join(repoRoot, 'figures', 'notebooks'));
  assert.notEqual(real.figuresDir, smoke.figuresDir);
  assert.notEqual(real.sweepsDir, smoke.sweepsDir);
  assert.deepEqual(real.ratios, [0.05, 0.1, 0.15, 0.2]);
  assert.deepEqual(real.shots, [0, 1, 2, 5, 10]);
  assert.equal(real.seeds.length, 3);
  assert.equal(real.size, 256);
  assert.equal(real.dataset.source, 'synthetic');
  // The paper's main setting is in every sweep axis, so notebooks share its cell.
  assert.ok(real.ratios.includes(real.mainRatio) && real.shots.includes(real.mainShots));
  assert.ok(real.alphas.includes(0.1) && real.lambdas.includes(0.1));
});

test('the real scale follows the CLI default preset and MULTICUE_NOTEBOOK_PRESET overrides it', () => {
  const cpu = notebookScale({ env: { MULTICUE_NOTEBOOK_DATA: 'synthetic' } });
  assert.equal(cpu.preset, 'cpu');
  assert.ok(cpu.sweepsDir.endsWith(`notebooks-real-cpu-256-${cpu.backbone}`));
  const gpu = notebookScale({ env: { MULTICUE_NOTEBOOK_DATA: 'synthetic', MULTICUE_BACKEND: 'node-gpu' } });
  assert.equal(gpu.preset, 'paper');
  assert.deepEqual(gpu.config, {});
  assert.notEqual(gpu.sweepsDir, cpu.sweepsDir, 'cells of different presets never share a sweep folder');
  assert.equal(notebookScale({ env: { MULTICUE_NOTEBOOK_DATA: 'synthetic', MULTICUE_NOTEBOOK_PRESET: 'paper' } }).preset, 'paper');
  assert.throws(() => notebookScale({ env: { MULTICUE_NOTEBOOK_PRESET: 'fast' } }), (err: unknown) => err instanceof InputError && /MULTICUE_NOTEBOOK_PRESET/.test(err.message));
});

test('bad notebook environment values are refused with the variable named', () => {
  assert.throws(() => notebookScale({ env: { MULTICUE_NOTEBOOK_INLINE: 'svg' } }), (err: unknown) => err instanceof InputError && /MULTICUE_NOTEBOOK_INLINE/.test(err.message));
  assert.throws(() => notebookScale({ env: { MULTICUE_NOTEBOOK_DATA: 'mvtec' } }), (err: unknown) => err instanceof InputError && /MULTICUE_NOTEBOOK_DATA/.test(err.message));
  assert.throws(() => notebookScale({ env: { MULTICUE_NOTEBOOK_SIZE: '12.5' } }), (err: unknown) => err instanceof InputError && /MULTICUE_NOTEBOOK_SIZE/.test(err.message));
  assert.equal(notebookScale({ env: { MULTICUE_NOTEBOOK_SIZE: '128' } }).size, 128);
  assert.equal(notebookScale({ env: { MULTICUE_SMOKE: '1', MULTICUE_NOTEBOOK_SIZE: '128' } }).size, 64, 'smoke ignores it');
  assert.equal(notebookScale({ env: { MULTICUE_NOTEBOOK_INLINE: 'HTML' } }).inline, 'html');
});

test('real scale uses magnetic tile when the shared data is there', { skip: !hasTiles && 'no ../shared/data/magnetic-tile' }, () => {
  const real = notebookScale({ env: {} });
  assert.equal(real.dataset.source, 'magnetic-tile');
  assert.equal(real.resize, 'stretch');
  const dataset = loadDataset(parseDataSpec(real.dataset.spec));
  const anomalies = dataset.items.filter((i) => i.label === 1);
  assert.equal(new Set(anomalies.map((i) => i.defect)).size, 5, 'five defect classes');
  assert.ok(anomalies.every((i) => i.maskPath !== null), 'every defect image has its mask');
  assert.ok(dataset.items.filter((i) => i.label === 0).length > 900);
  assert.deepEqual(magneticTileSpec(tileRoot!), real.dataset.spec);
});

test('fusionSimplex: every weight vector on the grid, each summing to 1, the default among them', () => {
  const grid = fusionSimplex(0.1);
  assert.equal(grid.length, 66); // (n + 1)(n + 2) / 2 with n = 10
  for (const w of grid) {
    assert.ok(w.every((x) => x >= 0 && x <= 1));
    assert.ok(Math.abs(w[0] + w[1] + w[2] - 1) < 1e-9, `${w} sums to 1`);
  }
  assert.equal(new Set(grid.map((w) => w.join('/'))).size, grid.length, 'no duplicates');
  assert.ok(grid.some((w) => w.join('/') === '0.5/0.2/0.3'), "METHOD's default weights are on the grid");
  assert.equal(fusionSimplex(0.5).length, 6);
  assert.throws(() => fusionSimplex(0.3), /divide 1/);
});

test('notebook sweep configs pass the sweep schema and share one folder per scale', () => {
  for (const env of [{ MULTICUE_SMOKE: '1' }, { MULTICUE_NOTEBOOK_DATA: 'synthetic' }]) {
    const scale = notebookScale({ env });
    const robustness = parseSweepConfig(notebookSweepConfig(scale, { ratios: scale.ratios, methods: scale.methods }));
    assert.equal(robustness.out, scale.sweepsDir);
    assert.deepEqual(robustness.ratios, scale.ratios);
    assert.deepEqual(robustness.shots, [scale.mainShots]);
    assert.deepEqual(robustness.seeds, scale.seeds);
    const fusion = parseSweepConfig(notebookSweepConfig(scale, { fusionWeights: scale.fusionWeights }));
    assert.equal(fusion.fusionWeights.length, 66);
    assert.equal(fusion.out, robustness.out);
    const grid = scale.alphas.flatMap((a) => scale.lambdas.map((l): [number, number] => [a, l]));
    assert.equal(parseSweepConfig(notebookSweepConfig(scale, { alphaLambda: grid })).alphaLambda.length, grid.length);
  }
});

test('ensureSyntheticData writes the scale dataset once and reuses it', async (t) => {
  const dir = tempDir(t);
  const scale = notebookScale({ env: { MULTICUE_SMOKE: '1' }, repoRoot: dir });
  const root = await ensureSyntheticData(scale);
  assert.equal(root, scale.synthetic.out);
  const spec = parseDataSpec({ format: 'mvtec', root, category: scale.quickstartCategory });
  const items = loadDataset(spec).items;
  assert.equal(items.filter((i) => i.split === 'train').length, scale.synthetic.train);
  const summary = join(root, 'synthetic.json');
  const before = statSync(summary).mtimeMs;
  const firstImage = readFileSync(items[0].path);
  await ensureSyntheticData(scale);
  assert.equal(statSync(summary).mtimeMs, before, 'a matching dataset is not written again');
  assert.deepEqual(readFileSync(items[0].path), firstImage);
});

test('the backbone is resolved from the weights folder: shared MobileNetV2 weights, or the offline fallback', () => {
  const shared = sharedDir();
  if (shared && existsSync(join(shared, 'weights', 'mobilenetv2-coral'))) {
    assert.equal(notebookScale({ env: { MULTICUE_WEIGHTS: join(shared, 'weights') } }).backbone, 'mobilenetv2');
  }
  const fallback = notebookScale({ env: { MULTICUE_WEIGHTS: join(tmpdir(), 'multicue-no-weights-here') } });
  assert.equal(fallback.backbone, 'nsfwjs-mobilenetv2');
  assert.match(fallback.sweepsDir, /nsfwjs-mobilenetv2$/);
});

test('useSharedWeights sets MULTICUE_WEIGHTS only when unset and the shared folder exists', () => {
  assert.equal(useSharedWeights({ MULTICUE_WEIGHTS: '/somewhere' }), '/somewhere');
  const env: NodeJS.ProcessEnv = {};
  const got = useSharedWeights(env);
  const shared = sharedDir();
  if (shared && existsSync(join(shared, 'weights'))) {
    assert.equal(got, join(shared, 'weights'));
    assert.equal(env.MULTICUE_WEIGHTS, got);
  } else {
    assert.equal(got, null);
    assert.equal(env.MULTICUE_WEIGHTS, undefined);
  }
});

test('NotebookFigures shows PNGs and tables inline and writes them under the scale figures folder', async (t) => {
  const dir = tempDir(t);
  const scale = notebookScale({ env: { MULTICUE_SMOKE: '1' }, repoRoot: dir });
  const display = recordingDisplay();
  const figures = new NotebookFigures(scale, '09', display);
  const png = await sharp({ create: { width: 8, height: 4, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  await figures.image(png, 'panel');
  await figures.table(aq.from([{ method: 'multicue', auroc: 0.91234 }, { method: 'adl', auroc: null }]), 'scores', { digits: 2 });
  await figures.close();
  assert.deepEqual(figures.written, [join(dir, 'figures', 'smoke', '09-panel.png'), join(dir, 'figures', 'smoke', '09-scores.csv')]);
  assert.deepEqual(readFileSync(figures.written[0]), png);
  assert.match(readFileSync(figures.written[1], 'utf8'), /^method,auroc\nmulticue,0\.91234\nadl,/);
  assert.equal(display.shown[0].kind, 'png');
  assert.equal(display.shown[1].kind, 'html');
  assert.match(display.shown[1].value as string, /<table>.*0\.91.*<\/table>/s);
});

test('NotebookFigures exports a plotly figure as HTML and PNG and shows it', { skip: !hasChromium && 'no Chromium' }, async (t) => {
  const dir = tempDir(t);
  const table = resultsTable(exampleSweepResults({ categories: ['carpet'], seeds: [0, 1], fusionStep: 0, alphas: [0.1], lambdas: [0.1], imagesPerCell: 2 }).metrics);
  for (const inline of ['png', 'html'] as const) {
    const scale = notebookScale({ env: { MULTICUE_SMOKE: '1', MULTICUE_NOTEBOOK_INLINE: inline }, repoRoot: dir });
    const display = recordingDisplay();
    const figures = new NotebookFigures(scale, '02', display);
    try {
      await figures.plot(robustnessFigure(table), 'robustness');
    } finally {
      await figures.close();
    }
    const [html, png] = figures.written;
    assert.match(readFileSync(html, 'utf8'), /<!DOCTYPE html>/);
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.ok((meta.width ?? 0) >= 400);
    assert.equal(display.shown.length, 1);
    assert.equal(display.shown[0].kind, inline);
    if (inline === 'png') assert.deepEqual(Buffer.from(display.shown[0].value as Uint8Array), readFileSync(png));
  }
});
