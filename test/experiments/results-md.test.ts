import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultsMarkdown, writeResultsMarkdown } from '../../src/experiments/results-md.ts';
import { RESULTS_FILE, type MetricRowInput } from '../../src/experiments/results-schema.ts';
import { SWEEP_FILE } from '../../src/experiments/sweep-files.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-results-md-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Known values per (method, metric, ratio) and seed, so mean and std can be written out by hand.
const VALUES: Record<string, Record<string, Record<string, number[]>>> = {
  multicue: {
    image_auroc: { '0.05': [0.91, 0.93, 0.95], '0.1': [0.9, 0.88, 0.89] },
    image_ap: { '0.05': [0.8, 0.81, 0.85], '0.1': [0.7, 0.75, 0.74] },
    pixel_auroc: { '0.05': [0.96, 0.97, 0.95], '0.1': [0.94, 0.93, 0.95] },
    auroc_deviation: { '0.05': [0.85, 0.86, 0.87], '0.1': [0.82, 0.84, 0.83] },
    auroc_uncertainty: { '0.05': [0.6, 0.62, 0.64], '0.1': [0.55, 0.57, 0.59] },
    auroc_segmentation: { '0.05': [0.88, 0.9, 0.92], '0.1': [0.86, 0.87, 0.88] },
  },
  patchcore: {
    image_auroc: { '0.05': [0.7, 0.72, 0.74], '0.1': [0.6, 0.66, 0.63] },
    image_ap: { '0.05': [0.5, 0.52, 0.54], '0.1': [0.45, 0.47, 0.5] },
    pixel_auroc: { '0.05': [0.9, 0.91, 0.92], '0.1': [0.88, 0.89, 0.9] },
  },
};

function rows(category: string, offset = 0, dropSeed: { method: string; ratio: number; seed: number } | null = null): MetricRowInput[] {
  const out: MetricRowInput[] = [];
  for (const [method, metrics] of Object.entries(VALUES)) {
    for (const [metric, byRatio] of Object.entries(metrics)) {
      for (const [ratio, values] of Object.entries(byRatio)) {
        values.forEach((value, seed) => {
          if (dropSeed && dropSeed.method === method && dropSeed.ratio === Number(ratio) && dropSeed.seed === seed) return;
          const supervised = method === 'multicue';
          out.push({
            category,
            method,
            backbone: 'mobilenetv2',
            ratio: Number(ratio),
            shots: 10,
            seed,
            alpha: supervised ? 0.1 : null,
            lambda: supervised ? 0.1 : null,
            fusion: supervised ? '0.5/0.2/0.3' : null,
            metric,
            value: value + offset,
          });
        });
      }
    }
  }
  return out;
}

function meanStd(xs: number[]): string {
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / xs.length;
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return `${mean.toFixed(3)} ± ${Math.sqrt(ss / (xs.length - 1)).toFixed(3)}`;
}

function writeSweep(dir: string, metricRows: MetricRowInput[], record: object | null, warning: string | null = null): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, RESULTS_FILE), JSON.stringify(metricRows));
  if (record) writeFileSync(join(dir, SWEEP_FILE), JSON.stringify(record));
  const cells = [...new Set(metricRows.map((r) => `${r.category}/${r.method}-r${r.ratio}-s${r.seed}`))];
  for (const cell of cells) {
    mkdirSync(join(dir, 'runs', cell), { recursive: true });
    writeFileSync(
      join(dir, 'runs', cell, 'metrics.json'),
      JSON.stringify({
        backbone: { name: 'mobilenetv2', weightsId: 'abc123', warning },
        environment: { multicue: '0.1.0', tfjs: '4.22.0', backend: 'wasm', node: 'v20.1.0', cpus: 2 },
      }),
    );
  }
}

test('the tables hold mean ± std over seeds of results.json, per method and ratio', (t) => {
  const dir = tempDir(t);
  const sweep = join(dir, 'tile-sweep');
  writeSweep(sweep, rows('tile'), { description: 'Tile sweep.', setup: ['multicue synth --out data/x --seed 0'], command: 'multicue sweep experiments/tile.json' });
  const text = resultsMarkdown({ sweeps: [sweep], out: 'RESULTS.md' });
  const section = (title: string) => {
    const start = text.indexOf(`### ${title}`);
    assert.ok(start >= 0, `no section ${title}`);
    const end = text.indexOf('###', start + 4);
    return text.slice(start, end < 0 ? undefined : end);
  };
  const v = VALUES;
  assert.ok(section('Image AUROC').includes(`| multicue | ${meanStd(v.multicue.image_auroc['0.05'])} | ${meanStd(v.multicue.image_auroc['0.1'])} |`));
  assert.ok(section('Image AUROC').includes(`| PatchCore | ${meanStd(v.patchcore.image_auroc['0.05'])} | ${meanStd(v.patchcore.image_auroc['0.1'])} |`));
  assert.ok(section('Image AUPRC').includes(`| PatchCore | ${meanStd(v.patchcore.image_ap['0.05'])} | ${meanStd(v.patchcore.image_ap['0.1'])} |`));
  assert.ok(section('Pixel AUROC (each').includes(`| multicue | ${meanStd(v.multicue.pixel_auroc['0.05'])} | ${meanStd(v.multicue.pixel_auroc['0.1'])} |`));
  const ablation = section('Single-cue ablation');
  assert.ok(ablation.includes('| contamination | deviation | uncertainty | segmentation | fused |'));
  const m = v.multicue;
  assert.ok(ablation.includes(`| 10% | ${meanStd(m.auroc_deviation['0.1'])} | ${meanStd(m.auroc_uncertainty['0.1'])} | ${meanStd(m.auroc_segmentation['0.1'])} | ${meanStd(m.image_auroc['0.1'])} |`), ablation);
  assert.match(text, /## tile-sweep\n\nTile sweep\./);
  assert.match(text, /Backbone: mobilenetv2 \(weights id `abc123`\)/);
  assert.match(text, /multicue 0\.1\.0, @tensorflow\/tfjs 4\.22\.0 \(backend wasm\), node v20\.1\.0/);
  assert.ok(text.includes(['```sh', 'multicue synth --out data/x --seed 0', 'multicue sweep experiments/tile.json', `multicue results --sweep ${sweep} --out RESULTS.md`, '```'].join('\n')));
  assert.doesNotMatch(text, /20\d\d-\d\d-\d\d/, 'no dates');
});

test('several sweeps and categories: mean over categories, per-category tables, warnings, fewer-seed marks; same input, same bytes', async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  writeSweep(a, rows('tile', 0, { method: 'patchcore', ratio: 0.1, seed: 2 }), null, 'weights are a stand-in');
  writeSweep(b, [...rows('carpet', 0.01), ...rows('wood', -0.03)], null);
  const out = join(dir, 'RESULTS.md');
  const text = await writeResultsMarkdown({ sweeps: [a, b], out });
  assert.equal(readFileSync(out, 'utf8'), text);
  assert.equal(resultsMarkdown({ sweeps: [a, b], out }), text, 'deterministic');

  // Sweep a: the PatchCore cell at 10% lost seed 2 and is marked.
  const pc = VALUES.patchcore.image_auroc;
  assert.ok(text.includes(`| PatchCore | ${meanStd(pc['0.05'])} | ${meanStd(pc['0.1'].slice(0, 2))} † |`));
  assert.match(text, /† fewer seeds/);
  assert.match(text, /WARNING: weights are a stand-in/);
  assert.ok(text.includes(`# ${a}: written by runSweep() from a program`));

  // Sweep b: the mean over carpet (+0.01) and wood (−0.03) per seed, then mean ± std over seeds.
  const meanOfCategories = VALUES.multicue.image_auroc['0.1'].map((x) => (x + 0.01 + (x - 0.03)) / 2);
  const sectionB = text.slice(text.indexOf('## b'));
  assert.ok(sectionB.includes(`| multicue | ${meanStd(VALUES.multicue.image_auroc['0.05'].map((x) => x - 0.01))} | ${meanStd(meanOfCategories)} |`), sectionB);
  assert.match(sectionB, /Categories: carpet, wood \(tables show the mean over categories/);
  const perCategory = sectionB.slice(sectionB.indexOf('### Image AUROC per category at 10%'));
  assert.ok(perCategory.includes(`| carpet | ${meanStd(VALUES.multicue.image_auroc['0.1'].map((x) => x + 0.01))} | ${meanStd(pc['0.1'].map((x) => x + 0.01))} |`));
  assert.ok(perCategory.includes(`| mean | ${meanStd(meanOfCategories)} |`));
});

test('a sweep folder without results.json is refused, naming the folder', (t) => {
  const dir = tempDir(t);
  assert.throws(() => resultsMarkdown({ sweeps: [dir], out: 'RESULTS.md' }), (err: Error) => err.message.includes(dir) && /results\.json/.test(err.message));
});
