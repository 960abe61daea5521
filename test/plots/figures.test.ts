import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleSweepResults } from '../../src/experiments/example-results.ts';
import { fusionGrid, alphaLambdaGrid } from '../../src/experiments/grids.ts';
import { resultsTable } from '../../src/experiments/tables.ts';
import { CUE_COLUMNS, type ImageScoreRow, type MetricRowInput } from '../../src/experiments/results-schema.ts';
import { robustnessFigure } from '../../src/plots/robustness.ts';
import { relativeDropFigure } from '../../src/plots/relative-drop.ts';
import { shotsFigure } from '../../src/plots/shots.ts';
import { fusionGridFigure, alphaLambdaGridFigure } from '../../src/plots/grid-heatmap.ts';
import { cueDistributionFigure } from '../../src/plots/cue-distributions.ts';
import { wrapAtSemicolons, type PlotlyFigure } from '../../src/plots/figure.ts';
import { methodName } from '../../src/plots/palette.ts';
import { auroc } from '../../src/evaluation/metrics/auroc.ts';
import { Rng } from '../../src/util/rng.ts';

const RATIOS = [0.05, 0.1, 0.15, 0.2];
const SEEDS = [0, 1, 2];
const METHODS = ['multicue', 'adl', 'patchcore'];
const BASE: Record<string, number> = { multicue: 0.96, adl: 0.94, patchcore: 0.88 };
const SLOPE: Record<string, number> = { multicue: 0.1, adl: 0.3, patchcore: 0.9 };
const NOISE = [-0.003, 0.001, 0.004];
const value = (m: string, r: number, seed: number) => BASE[m] - SLOPE[m] * r + NOISE[seed];

function rows(): MetricRowInput[] {
  const out: MetricRowInput[] = [];
  for (const method of METHODS) for (const ratio of RATIOS) for (const seed of SEEDS) {
    const base = { category: 'carpet', method, backbone: 'resnet18', ratio, shots: method === 'patchcore' ? 0 : 10, seed };
    out.push({ ...base, metric: 'image_auroc', value: value(method, ratio, seed) });
    out.push({ ...base, metric: 'pixel_auroc_seg', value: value(method, ratio, seed) - 0.05 });
  }
  return out;
}

type AnyTrace = Record<string, any>;
const traces = (fig: PlotlyFigure) => fig.data as AnyTrace[];
const axisTitle = (fig: PlotlyFigure, name: string) => ((fig.layout as Record<string, any>)[name]?.title?.text ?? '') as string;
const titleText = (fig: PlotlyFigure) => (fig.layout.title as { text: string }).text;

function assertLabelled(fig: PlotlyFigure, axes: string[]): void {
  assert.ok(titleText(fig).length > 10, 'the figure has a title');
  for (const a of axes) assert.ok(axisTitle(fig, a).length > 3, `${a} has a title`);
  assert.doesNotThrow(() => JSON.stringify(fig), 'the figure is plain JSON');
}

test('robustness figure: one line per method, x = contamination in %, y = seed mean, error bars = sample std', () => {
  const fig = robustnessFigure(resultsTable(rows()));
  assertLabelled(fig, ['xaxis', 'yaxis']);
  assert.match(axisTitle(fig, 'xaxis'), /\(%\)/);
  assert.match(axisTitle(fig, 'yaxis'), /Image AUROC/);
  assert.match(titleText(fig), /Image AUROC vs training contamination/);
  assert.deepEqual(traces(fig).map((t) => t.name), METHODS.map(methodName));
  for (const [i, trace] of traces(fig).entries()) {
    const method = METHODS[i];
    assert.deepEqual(trace.x, [5, 10, 15, 20]);
    RATIOS.forEach((r, j) => {
      const xs = SEEDS.map((s) => value(method, r, s));
      const mean = xs.reduce((a, b) => a + b) / 3;
      const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / 2);
      assert.ok(Math.abs(trace.y[j] - mean) < 1e-12);
      assert.ok(Math.abs(trace.error_y.array[j] - std) < 1e-12);
    });
  }
  assert.notEqual(traces(fig)[0].line.color, traces(fig)[1].line.color, 'methods get distinct colours');
  const pixel = robustnessFigure(resultsTable(rows()), { metric: 'pixel_auroc_seg' });
  assert.match(axisTitle(pixel, 'yaxis'), /Pixel AUROC/);
});

test('relative drop figure: grouped bars, one trace per method, x = transitions, y = drop in %', () => {
  const fig = relativeDropFigure(resultsTable(rows()));
  assertLabelled(fig, ['xaxis', 'yaxis']);
  assert.equal(fig.layout.barmode, 'group');
  assert.match(axisTitle(fig, 'yaxis'), /%/);
  assert.deepEqual(traces(fig).map((t) => t.name), METHODS.map(methodName));
  for (const [i, trace] of traces(fig).entries()) {
    assert.equal(trace.type, 'bar');
    assert.deepEqual(trace.x, ['5%→10%', '10%→15%', '15%→20%']);
    const means = RATIOS.map((r) => SEEDS.reduce((a, s) => a + value(METHODS[i], r, s), 0) / 3);
    trace.y.forEach((y: number, j: number) => assert.ok(Math.abs(y - ((means[j] - means[j + 1]) / means[j]) * 100) < 1e-9));
  }
});

test('shots figure: AUROC and relative gain panels per method; a method with one shot level is a dashed reference', () => {
  const data: MetricRowInput[] = [];
  for (const method of ['multicue', 'adl']) for (const shots of [0, 1, 5, 10]) for (const seed of SEEDS) {
    data.push({ category: 'wood', method, backbone: 'resnet18', ratio: 0.1, shots, seed, metric: 'image_auroc', value: 0.8 + 0.01 * shots + NOISE[seed] });
  }
  for (const seed of SEEDS) data.push({ category: 'wood', method: 'padim', backbone: 'resnet18', ratio: 0.1, shots: 0, seed, metric: 'image_auroc', value: 0.7 });
  const fig = shotsFigure(resultsTable(data));
  assertLabelled(fig, ['xaxis', 'yaxis', 'xaxis2', 'yaxis2']);
  assert.match(axisTitle(fig, 'yaxis2'), /gain over k = 0 \(%\)/);
  const left = traces(fig).filter((t) => t.yaxis === 'y');
  const right = traces(fig).filter((t) => t.yaxis === 'y2');
  assert.deepEqual(left.map((t) => t.name), ['Multi-cue (ours)', 'ADL', 'PaDiM (k = 0 only)']);
  assert.deepEqual(right.map((t) => t.name), ['Multi-cue (ours)', 'ADL']);
  assert.equal(left[2].line.dash, 'dash');
  for (const t of right) {
    assert.deepEqual(t.x, [0, 1, 5, 10]);
    const zero = 0.8 + NOISE.reduce((a, b) => a + b) / 3;
    t.y.forEach((y: number, j: number) => assert.ok(Math.abs(y - ((0.01 * t.x[j]) / zero) * 100) < 1e-9));
  }
});

test('grid heatmaps: labelled axes, null (a gap) where invalid, the best cell framed', () => {
  const { metrics } = exampleSweepResults({ categories: ['carpet', 'pill'], seeds: [0, 1], fusionStep: 0.5, imagesPerCell: 2 });
  const table = resultsTable(metrics);
  const grid = fusionGrid(table);
  const fig = fusionGridFigure(grid);
  assertLabelled(fig, ['xaxis', 'yaxis']);
  assert.match(axisTitle(fig, 'xaxis'), /w_u/);
  assert.match(axisTitle(fig, 'yaxis'), /w_d/);
  const heat = traces(fig)[0];
  assert.equal(heat.type, 'heatmap');
  assert.match(heat.colorbar.title.text, /AUROC/);
  grid.rowValues.forEach((wd, i) =>
    grid.columnValues.forEach((wu, j) => {
      if (wd + wu > 1) assert.equal(heat.z[i][j], null, `w_d ${wd}, w_u ${wu} is a gap`);
    }),
  );
  assert.ok(heat.z.flat().some((v: number | null) => v === null) && heat.z.flat().some((v: number | null) => typeof v === 'number'));
  assert.equal((fig.layout.shapes as unknown[]).length, 1);
  const alphaLambda = alphaLambdaGridFigure(alphaLambdaGrid(table));
  assertLabelled(alphaLambda, ['xaxis', 'yaxis']);
  assert.match(axisTitle(alphaLambda, 'yaxis'), /α/);
  assert.match(axisTitle(alphaLambda, 'xaxis'), /λ/);
});

test('cue distributions: nominal and anomalous per cue, each panel with its axis and the cue AUROC', () => {
  const rng = new Rng(3);
  const scores: ImageScoreRow[] = Array.from({ length: 40 }, (_, i) => {
    const label = (i % 2) as 0 | 1;
    return { cellId: 'c', id: `img${i}`, label, defect: label ? 'crack' : 'good', deviation: rng.normal(label * 2, 1), uncertainty: rng.next(), segmentation: rng.normal(label, 0.5), fused: rng.normal(label, 0.3) };
  });
  for (const kind of ['violin', 'histogram'] as const) {
    const fig = cueDistributionFigure(scores, { kind, subtitle: 'carpet; 10%' });
    assertLabelled(fig, ['xaxis', 'xaxis2', 'xaxis3', 'xaxis4', 'yaxis']);
    assert.equal(traces(fig).length, 2 * CUE_COLUMNS.length);
    assert.deepEqual([...new Set(traces(fig).map((t) => t.name))], ['nominal (n = 20)', 'anomalous (n = 20)']);
    assert.equal(traces(fig).filter((t) => t.showlegend).length, 2, 'one legend entry per group');
    const notes = (fig.layout.annotations as { text: string }[]).map((a) => a.text);
    CUE_COLUMNS.forEach((cue, i) => {
      const expected = auroc(scores.map((s) => s[cue]), scores.map((s) => s.label));
      assert.equal(notes[i], `AUROC ${expected.toFixed(3)}`);
    });
  }
});

test('long subtitles wrap at "; " to the figure width', () => {
  assert.deepEqual(wrapAtSemicolons('aaaa; bbbb; cccc', 10), ['aaaa; bbbb', 'cccc']);
  assert.deepEqual(wrapAtSemicolons('short', 10), ['short']);
});
