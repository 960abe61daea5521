import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ablationTable,
  formatMeanStd,
  meanStd,
  MEAN_CATEGORY,
  perClassTable,
  readTableCsv,
  relativeDrop,
  relativeGainOverZeroShots,
  resultsTable,
  rowsOf,
  withCategoryMean,
  writeTableCsv,
  writeTableJson,
} from '../../src/experiments/tables.ts';
import { selectSetting } from '../../src/experiments/settings.ts';
import { alphaLambdaGrid, fusionGrid } from '../../src/experiments/grids.ts';
import { cellIdOf, parseCellId, parseFusionWeights, RESULTS_FILE, type MetricRowInput } from '../../src/experiments/results-schema.ts';
import { readSweepResults, writeSweepResults } from '../../src/experiments/sweep-results.ts';
import { exampleSweepResults } from '../../src/experiments/example-results.ts';
import { InputError } from '../../src/util/errors.ts';

// A results set with known values: 2 methods × 2 categories × 4 ratios × 3 seeds.
const METHODS = ['multicue', 'patchcore'];
const CATEGORIES = ['carpet', 'wood'];
const RATIOS = [0.05, 0.1, 0.15, 0.2];
const SEEDS = [0, 1, 2];
const BASE: Record<string, number> = { multicue: 0.97, patchcore: 0.9 };
const SLOPE: Record<string, number> = { multicue: 0.2, patchcore: 1.1 };
const CATEGORY_OFFSET: Record<string, number> = { carpet: 0.01, wood: -0.02 };
const SEED_NOISE = [-0.004, 0.0013, 0.0061];

function value(method: string, category: string, ratio: number, seed: number, shots = 10): number {
  return BASE[method] - SLOPE[method] * ratio + CATEGORY_OFFSET[category] + SEED_NOISE[seed] * (1 + ratio) - 0.02 * Math.exp(-shots);
}

function row(method: string, category: string, ratio: number, seed: number, extra: Partial<MetricRowInput> = {}): MetricRowInput {
  const shots = extra.shots ?? 10;
  return {
    category,
    method,
    backbone: 'resnet18',
    ratio,
    shots,
    seed,
    alpha: method === 'multicue' ? 0.1 : null,
    lambda: method === 'multicue' ? 0.1 : null,
    fusion: method === 'multicue' ? '0.5/0.2/0.3' : null,
    metric: 'image_auroc',
    value: value(method, category, ratio, seed, shots),
    ...extra,
  };
}

function knownRows(): MetricRowInput[] {
  const rows: MetricRowInput[] = [];
  for (const m of METHODS) for (const c of CATEGORIES) for (const r of RATIOS) for (const s of SEEDS) rows.push(row(m, c, r, s));
  return rows;
}

// Independent statistics, written out with plain loops.
function mean(xs: number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}
function sampleStd(xs: number[]): number {
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
}
const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-tables-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('meanStd gives the mean, sample std (n − 1) and count over seeds of every condition', () => {
  const table = resultsTable(knownRows());
  const stats = rowsOf<{ method: string; category: string; ratio: number; mean: number; std: number; n: number }>(
    meanStd(table, ['method', 'category', 'ratio'], 'image_auroc'),
  );
  assert.equal(stats.length, METHODS.length * CATEGORIES.length * RATIOS.length);
  for (const s of stats) {
    const xs = SEEDS.map((seed) => value(s.method, s.category, s.ratio, seed));
    close(s.mean, mean(xs));
    close(s.std, sampleStd(xs));
    assert.equal(s.n, 3);
  }
  // One seed: no sample std.
  const single = rowsOf<{ std: number | null; n: number }>(meanStd(resultsTable([row('multicue', 'carpet', 0.1, 0)]), ['method'], 'image_auroc'));
  assert.deepEqual(single.map((s) => [s.std, s.n]), [[null, 1]]);
  // Other metrics and null values are left out.
  const mixed = resultsTable([row('multicue', 'carpet', 0.1, 0), row('multicue', 'carpet', 0.1, 1, { metric: 'image_ap', value: 0.1 }), row('multicue', 'carpet', 0.1, 2, { value: null })]);
  assert.deepEqual(rowsOf(meanStd(mixed, ['method'], 'image_auroc')).map((s) => s.n), [1]);
});

test('withCategoryMean averages categories per seed, so the mean row has std over seeds of the category mean', () => {
  const table = withCategoryMean(resultsTable(knownRows()));
  const stats = rowsOf<{ method: string; ratio: number; mean: number; std: number }>(
    meanStd(table.filter((d: { category: string }) => d.category === 'mean'), ['method', 'ratio'], 'image_auroc'),
  );
  assert.equal(stats.length, METHODS.length * RATIOS.length);
  for (const s of stats) {
    const perSeed = SEEDS.map((seed) => mean(CATEGORIES.map((c) => value(s.method, c, s.ratio, seed))));
    close(s.mean, mean(perSeed));
    close(s.std, sampleStd(perSeed));
  }
});

test('relativeDrop is (prev − next) / prev of seed means between consecutive ratios, per method and category', () => {
  const drops = rowsOf<{ method: string; category: string; transition: string; ratio_from: number; ratio_to: number; relative_drop: number }>(
    relativeDrop(resultsTable(knownRows()).concat(resultsTable([row('multicue', 'carpet', 0.1, 0, { metric: 'image_ap', value: 0.5 })]))),
  );
  assert.equal(drops.length, METHODS.length * CATEGORIES.length * (RATIOS.length - 1));
  for (const d of drops) {
    const i = RATIOS.indexOf(d.ratio_from);
    assert.equal(d.ratio_to, RATIOS[i + 1], 'consecutive levels');
    const prev = mean(SEEDS.map((s) => value(d.method, d.category, d.ratio_from, s)));
    const next = mean(SEEDS.map((s) => value(d.method, d.category, d.ratio_to, s)));
    close(d.relative_drop, (prev - next) / prev);
  }
  assert.deepEqual([...new Set(drops.map((d) => d.transition))], ['5%→10%', '10%→15%', '15%→20%']);
  // The robust method loses less per transition than the fragile one.
  const meanDrop = (m: string) => mean(drops.filter((d) => d.method === m).map((d) => d.relative_drop));
  assert.ok(meanDrop('multicue') < meanDrop('patchcore'));
});

test('relativeGainOverZeroShots is (value_k − value_0) / value_0 per shots level, null without a k = 0 run', () => {
  const shots = [0, 1, 2, 5, 10];
  const rows: MetricRowInput[] = [];
  for (const c of CATEGORIES) for (const k of shots) for (const s of SEEDS) rows.push(row('multicue', c, 0.1, s, { shots: k }));
  for (const s of SEEDS) rows.push(row('patchcore', 'carpet', 0.1, s, { shots: 5 })); // no k = 0
  const gains = rowsOf<{ method: string; category: string; shots: number; relative_gain: number | null; value_zero: number | null }>(
    relativeGainOverZeroShots(resultsTable(rows)),
  );
  for (const g of gains.filter((g) => g.method === 'multicue')) {
    const zero = mean(SEEDS.map((s) => value('multicue', g.category, 0.1, s, 0)));
    const atK = mean(SEEDS.map((s) => value('multicue', g.category, 0.1, s, g.shots)));
    close(g.relative_gain!, (atK - zero) / zero);
  }
  assert.equal(gains.filter((g) => g.method === 'multicue' && g.shots === 0).every((g) => g.relative_gain === 0), true);
  assert.deepEqual(gains.filter((g) => g.method === 'patchcore').map((g) => [g.relative_gain, g.value_zero]), [[null, null]]);
});

test('perClassTable has categories + mean as rows, methods as columns, "mean ± std" cells', () => {
  const table = perClassTable(resultsTable(knownRows()), 'image_auroc', { ratio: 0.1 });
  assert.deepEqual(table.columnNames(), ['category', 'multicue', 'patchcore']);
  const rows = rowsOf<Record<string, string>>(table);
  assert.deepEqual(rows.map((r) => r.category), ['carpet', 'wood', MEAN_CATEGORY]);
  for (const m of METHODS) {
    for (const c of CATEGORIES) {
      const xs = SEEDS.map((s) => value(m, c, 0.1, s));
      assert.equal(rows.find((r) => r.category === c)![m], `${mean(xs).toFixed(3)} ± ${sampleStd(xs).toFixed(3)}`);
    }
    const perSeed = SEEDS.map((s) => mean(CATEGORIES.map((c) => value(m, c, 0.1, s))));
    assert.equal(rows.at(-1)![m], `${mean(perSeed).toFixed(3)} ± ${sampleStd(perSeed).toFixed(3)}`);
  }
  assert.match(rows[0].multicue, /^0\.\d{3} ± 0\.\d{3}$/);
  assert.equal(formatMeanStd(0.95712, null), '0.957');
});

test('perClassTable refuses rows that still differ in a setting, naming it; selectSetting fixes it', () => {
  const rows = [...knownRows(), ...SEEDS.map((s) => row('multicue', 'carpet', 0.1, s, { shots: 0 }))];
  assert.throws(() => perClassTable(resultsTable(rows), 'image_auroc', { ratio: 0.1 }), /differ in shots: 10 vs 0/);
  const { table, chosen } = selectSetting(resultsTable(rows), { vary: ['ratio'] });
  assert.deepEqual(chosen.multicue, { shots: 10 }, 'the default k = 10 wins when present');
  assert.deepEqual(chosen.patchcore, {});
  assert.equal(rowsOf(perClassTable(table, 'image_auroc', { ratio: 0.1 })).length, 3);
  // `where` fixes it too (only multicue/carpet ran with k = 0), and a fixed value overrides the default.
  const zeroShot = rowsOf<Record<string, string>>(perClassTable(resultsTable(rows), 'image_auroc', { ratio: 0.1, where: { shots: 0 } }));
  assert.deepEqual(zeroShot.map((r) => [r.category, Object.keys(r).length]), [['carpet', 2], [MEAN_CATEGORY, 2]]);
  assert.deepEqual(selectSetting(resultsTable(rows), { fixed: { shots: 0 } }).chosen.multicue, { ratio: 0.1, shots: 0 });
});

test('ablationTable: one column per cue metric and the fused score, for one method', () => {
  const cues = ['auroc_deviation', 'auroc_uncertainty', 'auroc_segmentation'];
  const rows: MetricRowInput[] = knownRows().filter((r) => r.method === 'multicue');
  for (const r of knownRows().filter((r) => r.method === 'multicue')) {
    cues.forEach((metric, j) => rows.push({ ...r, metric, value: (r.value as number) - 0.1 * (j + 1) }));
  }
  const table = ablationTable(resultsTable(rows), { ratio: 0.2 });
  assert.deepEqual(table.columnNames(), ['category', ...cues, 'image_auroc']);
  const carpet = rowsOf<Record<string, string>>(table)[0];
  const xs = SEEDS.map((s) => value('multicue', 'carpet', 0.2, s) - 0.2);
  assert.equal(carpet.auroc_uncertainty, formatMeanStd(mean(xs), sampleStd(xs)));
});

test('fusion grid: w_d rows × w_u columns of seed means, NaN where w_d + w_u > 1 or not run', () => {
  const rows: MetricRowInput[] = [];
  const step = 0.5;
  const score = (wd: number, wu: number) => 0.9 - 0.1 * Math.abs(wd - 0.5) - 0.05 * wu;
  for (let wd = 0; wd <= 1; wd += step) {
    for (let wu = 0; wd + wu <= 1; wu += step) {
      for (const c of CATEGORIES) for (const s of SEEDS) {
        rows.push(row('multicue', c, 0.1, s, { fusion: `${wd}/${wu}/${1 - wd - wu}`, value: score(wd, wu) + CATEGORY_OFFSET[c] + SEED_NOISE[s] }));
      }
    }
  }
  const grid = fusionGrid(resultsTable(rows));
  assert.deepEqual(grid.rowValues, [0, 0.5, 1]);
  assert.deepEqual(grid.columnValues, [0, 0.5, 1]);
  const offset = mean(CATEGORIES.map((c) => CATEGORY_OFFSET[c])) + mean(SEED_NOISE);
  for (const [i, wd] of grid.rowValues.entries()) {
    for (const [j, wu] of grid.columnValues.entries()) {
      if (wd + wu > 1) assert.ok(Number.isNaN(grid.mean[i][j]), `w_d ${wd} + w_u ${wu} is invalid`);
      else close(grid.mean[i][j], score(wd, wu) + offset, 1e-12);
    }
  }
  assert.deepEqual([grid.best?.row, grid.best?.column], [0.5, 0]);
  assert.deepEqual(parseFusionWeights('0.5/0.2/0.3'), [0.5, 0.2, 0.3]);
  assert.equal(parseFusionWeights('mean'), null);
});

test('α/λ grid: α rows × λ columns of seed means for one category', () => {
  const rows: MetricRowInput[] = [];
  for (const alpha of [0.1, 1]) for (const lambda of [0.01, 0.1, 1]) for (const s of SEEDS) {
    rows.push(row('multicue', 'carpet', 0.1, s, { alpha, lambda, value: 0.8 + alpha / 10 + lambda / 100 + SEED_NOISE[s] }));
  }
  rows.push(row('patchcore', 'carpet', 0.1, 0)); // no α/λ: not in the grid
  const grid = alphaLambdaGrid(resultsTable(rows), { category: 'carpet' });
  assert.deepEqual(grid.rowValues, [0.1, 1]);
  assert.deepEqual(grid.columnValues, [0.01, 0.1, 1]);
  close(grid.mean[1][2], 0.8 + 0.1 + 0.01 + mean(SEED_NOISE), 1e-12);
  assert.deepEqual(grid.n.flat(), [3, 3, 3, 3, 3, 3]);
});

test('CSV and JSON writers round-trip a table (numbers, strings with "±" and commas, nulls)', async (t) => {
  const dir = tempDir(t);
  const results = resultsTable([...knownRows(), row('patchcore', 'screw, "M4"', 0.05, 0, { value: 0.5 })]);
  const csvPath = join(dir, 'out', 'results.csv');
  await writeTableCsv(results, csvPath);
  const back = rowsOf(readTableCsv(readFileSync(csvPath, 'utf8')));
  const original = rowsOf(results);
  assert.equal(back.length, original.length);
  back.forEach((r, i) => {
    for (const key of Object.keys(original[i])) {
      const a = original[i][key];
      if (typeof a === 'number') close(r[key] as number, a, 0);
      else assert.equal(r[key], a, `${key} of row ${i}`);
    }
  });
  const perClass = perClassTable(results, 'image_auroc', { ratio: 0.05 });
  const perClassRows = rowsOf(perClass);
  assert.ok(perClassRows.some((r) => r.category === 'screw, "M4"' && r.multicue === null && r.patchcore === '0.500'));
  // Seeds 1 and 2 lack that category, so only seed 0 gives patchcore a category mean: no std.
  assert.match(perClassRows.at(-1)!.patchcore as string, /^0\.\d{3}$/);
  await writeTableCsv(perClass, join(dir, 'per-class.csv'));
  assert.deepEqual(rowsOf(readTableCsv(readFileSync(join(dir, 'per-class.csv'), 'utf8'))), rowsOf(perClass));
  await writeTableJson(perClass, join(dir, 'per-class.json'));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'per-class.json'), 'utf8')), rowsOf(perClass));
});

test('sweep folder: results round-trip, and bad input names the file, the row and the fix', async (t) => {
  const dir = tempDir(t);
  const example = exampleSweepResults({ categories: ['carpet'], seeds: [0], fusionStep: 0, alphas: [0.1], lambdas: [0.1], imagesPerCell: 4 });
  await writeSweepResults(dir, example);
  const back = readSweepResults(dir);
  assert.deepEqual(back.metrics, example.metrics);
  assert.deepEqual(back.imageScores, example.imageScores);
  assert.ok(back.imageScores!.length > 0);

  assert.throws(() => readSweepResults(join(dir, 'nope')), (err: unknown) => err instanceof InputError && /sweep folder not found/.test(err.message));
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.throws(() => readSweepResults(empty), (err: unknown) => err instanceof InputError && err.path === join(empty, RESULTS_FILE));
  const bad = join(dir, 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, RESULTS_FILE), JSON.stringify([row('multicue', 'carpet', 0.1, 0), { ...row('multicue', 'carpet', 1.5, 0), metric: 'Image AUROC' }]));
  assert.throws(
    () => readSweepResults(bad),
    (err: unknown) => err instanceof InputError && /row 1 field "ratio"/.test(err.message) && /row 1 field "metric"/.test(err.message) && /fix:/.test(err.message),
  );
  writeFileSync(join(bad, RESULTS_FILE), '[{"category": ');
  assert.throws(() => readSweepResults(bad), /not valid JSON/);
});

test('cell ids round-trip through cellIdOf / parseCellId', () => {
  const cell = { category: 'carpet', method: 'multicue', backbone: 'resnet18', ratio: 0.15, shots: 5, seed: 2, alpha: 0.1, lambda: null, fusion: '0.5/0.2/0.3' };
  assert.deepEqual(parseCellId(cellIdOf(cell)), cell);
  assert.equal(parseCellId('my-own-cell-7'), null);
});
