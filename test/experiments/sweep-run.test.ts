import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auroc } from '../../src/evaluation/metrics/auroc.ts';
import { IMAGE_SCORES_FILE, PIXEL_METRICS, type ImageScoreRow } from '../../src/experiments/results-schema.ts';
import { resultsMarkdown } from '../../src/experiments/results-md.ts';
import { parseSweepConfig } from '../../src/experiments/sweep-config.ts';
import { expandSweep } from '../../src/experiments/sweep-cells.ts';
import { FAILURES_FILE, ERROR_FILE } from '../../src/experiments/sweep-files.ts';
import { MODEL_REF_FILE, rescoreTrainedRun } from '../../src/experiments/sweep-rescore.ts';
import { readScoresCsv } from '../../src/experiments/sweep-scores-csv.ts';
import { runSweep, type SweepCellEvent } from '../../src/experiments/sweep.ts';
import { readRunMetrics, RUN_FILES } from '../../src/pipeline/run-dir.ts';
import { cellIds, corruptCopy, readResults, tinySweep, tinySyntheticData, useSharedWeights, type TinyData } from './sweep-fixture.ts';

let data: TinyData;
before(async () => {
  useSharedWeights();
  data = await tinySyntheticData();
});
after(() => data?.cleanup());

/** Modification times of every file under a folder (to prove nothing was rewritten). */
function mtimes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.set(path, statSync(path).mtimeMs);
  }
  return out;
}

// 2 ratios × 3 fusion vectors of multicue (2 trainings) + 2 PatchCore fits = 8 cells.
const FUSIONS: Array<[number, number, number]> = [
  [0.5, 0.2, 0.3],
  [1, 0, 0],
  [0, 0, 1],
];
let out: string;

test('kill and resume: an aborted sweep keeps its finished cell; the rerun runs only the missing ones', async () => {
  out = join(data.dir, 'sweep-a');
  const config = parseSweepConfig(tinySweep(data.root, out, { methods: ['multicue', 'patchcore'], fusionWeights: FUSIONS }));
  const cells = expandSweep(config);
  assert.equal(cells.length, 8);

  const controller = new AbortController();
  const first: SweepCellEvent[] = [];
  const aborted = await runSweep(config, {
    silent: true,
    signal: controller.signal,
    onCell: (e) => {
      first.push(e);
      controller.abort(); // as Ctrl-C during the first cell: it finishes, nothing else starts
    },
  });
  assert.equal(first.length, 1);
  assert.equal(first[0].status, 'done', first[0].error ?? '');
  assert.equal(first[0].action, 'train');
  assert.equal(aborted.aborted, true);
  assert.equal(aborted.remaining, 7);
  assert.equal(cellIds(readResults(out)).size, 1, 'results.json already holds the finished cell');
  const firstDir = first[0].cell.dir;
  const firstFiles = mtimes(firstDir);

  const second: SweepCellEvent[] = [];
  const resumed = await runSweep(config, { silent: true, onCell: (e) => second.push(e) });
  assert.equal(resumed.skipped, 1);
  assert.equal(resumed.ran, 7);
  assert.equal(second.length, 7);
  assert.ok(second.every((e) => e.status === 'done'), second.map((e) => e.error).join('\n'));
  assert.ok(!second.some((e) => e.cell.dir === firstDir), 'the finished cell did not run again');
  assert.deepEqual(mtimes(firstDir), firstFiles, 'nothing in the finished cell was rewritten');
  // One training per (ratio), re-scoring for the other fusion weights, one fit per ratio.
  assert.deepEqual(second.map((e) => e.action).sort(), ['fit', 'fit', 'rescore', 'rescore', 'rescore', 'rescore', 'train']);

  const rows = readResults(out);
  assert.equal(cellIds(rows).size, 8, 'results.json has every cell');
  const scores = JSON.parse(readFileSync(join(out, IMAGE_SCORES_FILE), 'utf8')) as ImageScoreRow[];
  assert.equal(new Set(scores.map((s) => s.cellId)).size, 6, 'per-image cues of every multicue cell');
  assert.deepEqual(JSON.parse(readFileSync(join(out, FAILURES_FILE), 'utf8')), []);
  for (const cell of cells) assert.ok(existsSync(join(cell.dir, RUN_FILES.metrics)), cell.dir);
  // Every value in results.json is the one in the cell's metrics.json.
  for (const cell of cells) {
    const file = readRunMetrics(cell.dir);
    const own = rows.filter((r) => r.cellId!.startsWith(`carpet|${cell.method}|`) && r.ratio === cell.experiment.protocol.ratio && (r.fusion === null || r.fusion === (cell.fusion ?? []).join('/')));
    for (const row of own) assert.equal(row.value, file.metrics[row.metric as keyof typeof file.metrics] ?? null);
  }

  const third: SweepCellEvent[] = [];
  const done = await runSweep(config, { silent: true, onCell: (e) => third.push(e) });
  assert.equal(third.length, 0);
  assert.equal(done.skipped, 8);
});

test('fusion cells re-score the trained model without retraining: image metrics change, pixel metrics are equal', async () => {
  const cells = expandSweep(parseSweepConfig(tinySweep(data.root, out, { methods: ['multicue', 'patchcore'], fusionWeights: FUSIONS })));
  for (const ratio of [0.1, 0.2]) {
    const unit = cells.filter((c) => c.method === 'multicue' && c.experiment.protocol.ratio === ratio);
    const [trained, deviationOnly, segmentationOnly] = unit;
    assert.ok(existsSync(join(trained.dir, RUN_FILES.model)));
    const trainedMetrics = readRunMetrics(trained.dir);
    const trainedScores = readScoresCsv(join(trained.dir, RUN_FILES.scores));
    for (const cell of [deviationOnly, segmentationOnly]) {
      assert.equal(existsSync(join(cell.dir, RUN_FILES.model)), false, 'no model was trained or saved');
      assert.equal(existsSync(join(cell.dir, RUN_FILES.trainLog)), false);
      const ref = JSON.parse(readFileSync(join(cell.dir, MODEL_REF_FILE), 'utf8')) as { trainedRun: string };
      assert.equal(resolve(cell.dir, ref.trainedRun), trained.dir);
      const metrics = readRunMetrics(cell.dir);
      for (const pixel of [...PIXEL_METRICS, 'aupro'] as const) assert.equal(metrics.metrics[pixel], trainedMetrics.metrics[pixel], pixel);
      const scores = readScoresCsv(join(cell.dir, RUN_FILES.scores));
      assert.deepEqual(scores.map((s) => [s.id, s.deviation, s.uncertainty, s.segmentation]), trainedScores.map((s) => [s.id, s.deviation, s.uncertainty, s.segmentation]));
      assert.notDeepEqual(scores.map((s) => s.score), trainedScores.map((s) => s.score), 'the fused score changed');
      assert.equal(metrics.metrics.image_auroc, auroc(scores.map((s) => s.score), scores.map((s) => s.label)));
    }
    // A single-cue weight vector ranks images exactly as that cue does.
    assert.equal(readRunMetrics(deviationOnly.dir).metrics.image_auroc, trainedMetrics.metrics.auroc_deviation);
    assert.equal(readRunMetrics(segmentationOnly.dir).metrics.image_auroc, trainedMetrics.metrics.auroc_segmentation);

    // Re-scoring with the trained cell's own weights reproduces its scores.csv byte for byte.
    const again = mkdtempSync(join(data.dir, 'rescore-'));
    const metrics = await rescoreTrainedRun(trained.dir, again, trained.name, trained.experiment);
    assert.equal(readFileSync(join(again, RUN_FILES.scores), 'utf8'), readFileSync(join(trained.dir, RUN_FILES.scores), 'utf8'));
    for (const name of ['image_auroc', 'image_ap', 'image_f1_max', 'pixel_auroc'] as const) assert.equal(metrics.metrics[name], trainedMetrics.metrics[name]);
  }
});

test('RESULTS.md from the sweep shows the numbers of results.json', () => {
  const rows = readResults(out);
  const text = resultsMarkdown({ sweeps: [out], out: 'RESULTS.md' });
  const value = (method: string, ratio: number, metric: string) =>
    rows.find((r) => r.method === method && r.ratio === ratio && r.metric === metric && (r.fusion === null || r.fusion === '0.5/0.2/0.3'))!.value!.toFixed(3);
  const imageAuroc = text.slice(text.indexOf('### Image AUROC'));
  assert.ok(imageAuroc.includes(`| multicue | ${value('multicue', 0.1, 'image_auroc')} | ${value('multicue', 0.2, 'image_auroc')} |`), imageAuroc);
  assert.ok(imageAuroc.includes(`| PatchCore | ${value('patchcore', 0.1, 'image_auroc')} | ${value('patchcore', 0.2, 'image_auroc')} |`));
  const pixel = text.slice(text.indexOf('### Pixel AUROC'));
  assert.ok(pixel.includes(`| multicue | ${value('multicue', 0.1, 'pixel_auroc')} | ${value('multicue', 0.2, 'pixel_auroc')} |`));
  assert.match(text, /mobilenetv2-0\.35 \(weights id `[0-9a-f]+`\)/);
  assert.match(text, /@tensorflow\/tfjs 4\.\d+\.\d+/);
  assert.equal(resultsMarkdown({ sweeps: [out], out: 'RESULTS.md' }), text, 'deterministic');
});

test('resuming over finished cells made with other settings is refused before any work, naming the key', async () => {
  const changed = tinySweep(data.root, out, { methods: ['multicue', 'patchcore'], fusionWeights: FUSIONS });
  (changed.base as { config: { schedule: { epochs: number } } }).config.schedule.epochs = 2;
  const config = parseSweepConfig(changed);
  const before = readFileSync(join(out, 'results.json'), 'utf8');
  const events: SweepCellEvent[] = [];
  await assert.rejects(runSweep(config, { silent: true, onCell: (e) => events.push(e) }), (err: Error) => {
    assert.match(err.message, /6 finished run directories were made with other settings/);
    assert.match(err.message, /config\.schedule\.epochs: 1 in the run, 2 in the config/);
    return true;
  });
  assert.equal(events.length, 0);
  assert.equal(readFileSync(join(out, 'results.json'), 'utf8'), before);
});

test('failing cells are recorded with their error and the sweep goes on; a rerun retries only them', async () => {
  corruptCopy(data.root, 'broken');
  const failOut = join(data.dir, 'sweep-fail');
  const config = parseSweepConfig(
    tinySweep(data.root, failOut, {
      datasets: [
        { format: 'mvtec', root: data.root, category: 'carpet' },
        { format: 'mvtec', root: data.root, category: 'broken' },
      ],
      // r = 0.6 needs floor(0.6/0.4 · 12) = 18 contaminating anomalies; 9 exist.
      ratios: [0.1, 0.6],
      methods: ['multicue', 'padim'],
      fusionWeights: [
        [0.5, 0.2, 0.3],
        [0.2, 0.2, 0.6],
      ],
    }),
  );
  const events: SweepCellEvent[] = [];
  const summary = await runSweep(config, { silent: true, onCell: (e) => events.push(e), warn: () => {} });
  const failed = (e: SweepCellEvent) => e.status === 'failed';
  const expectedOk = ['carpet/multicue-r10-k2-s0-a0.1-l0.1', 'carpet/multicue-r10-k2-s0-a0.1-l0.1-w0.2_0.2_0.6', 'carpet/padim-r10-k2-s0'];
  assert.deepEqual(events.filter((e) => !failed(e)).map((e) => `${e.cell.category}/${e.cell.name}`).sort(), expectedOk);
  assert.equal(events.filter(failed).length, 9);
  assert.equal(summary.failed.length, 9);
  assert.equal(summary.remaining, 9);

  const failures = JSON.parse(readFileSync(join(failOut, FAILURES_FILE), 'utf8')) as Array<{ dir: string; message: string }>;
  assert.equal(failures.length, 9);
  const byDir = new Map(failures.map((f) => [f.dir, f.message]));
  assert.match(byDir.get(join('runs', 'carpet', 'padim-r60-k2-s0'))!, /with-replacement/);
  assert.match(byDir.get(join('runs', 'carpet', 'multicue-r60-k2-s0-a0.1-l0.1-w0.2_0.2_0.6'))!, /trained cell failed/);
  assert.match(byDir.get(join('runs', 'broken', 'padim-r10-k2-s0'))!, /000\.png/);
  const error = JSON.parse(readFileSync(join(failOut, 'runs', 'broken', 'padim-r10-k2-s0', ERROR_FILE), 'utf8')) as { message: string; stack: string };
  assert.ok(error.message.length > 0 && error.stack.length > 0);
  assert.equal(cellIds(readResults(failOut)).size, 3, 'the finished cells are in results.json');

  const retried: SweepCellEvent[] = [];
  const again = await runSweep(config, { silent: true, onCell: (e) => retried.push(e), warn: () => {} });
  assert.equal(again.skipped, 3);
  assert.equal(retried.length, 9, 'only the failed cells ran again');
  assert.ok(retried.every(failed));
});
