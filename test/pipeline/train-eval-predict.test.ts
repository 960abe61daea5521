import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateSyntheticDataset } from '../../src/data/synthetic/generate.ts';
import { parseExperiment } from '../../src/pipeline/experiment.ts';
import { prepareExperiment } from '../../src/pipeline/prepare.ts';
import { runCell } from '../../src/pipeline/run-cell.ts';
import { writeRunDir } from '../../src/pipeline/run-dir.ts';
import { pickPanelImages, writeRunPanel } from '../../src/pipeline/run-panel.ts';
import sharp from 'sharp';
import { sharedPath } from '../../src/util/paths.ts';

/**
 * The detector end to end on a small generated category: protocol → features →
 * training → scores → gradient maps → metrics → run directory, then the CLI's
 * eval and predict on what train wrote. Tiny schedule: this checks plumbing,
 * determinism and files, not accuracy (the demo and RESULTS.md measure that).
 */

const root = mkdtempSync(join(tmpdir(), 'multicue-pipeline-'));
process.env.MULTICUE_WEIGHTS = sharedPath('weights');
const data = join(root, 'data');

const experimentInput = (cache: string) => ({
  data: { format: 'mvtec', root: data, category: 'washer' },
  protocol: { ratio: 0.1, shots: 2, seed: 3 },
  geometry: { size: 64 },
  backbone: { name: 'mobilenetv2-0.35' },
  config: {
    model: { segmentationHead: 'lite', segmentationProjection: 16, segmentationChannels: 16 },
    schedule: { epochs: 2, stepsPerEpoch: 2, batchSize: 8 },
    cache: { pseudoVariants: 1 },
    optimizer: { learningRate: 1e-3 },
  },
  featureCache: cache,
  gradientMaps: 4,
});

test.before(async () => {
  await generateSyntheticDataset({ out: data, seed: 0, size: 64, categories: ['washer'], train: 20, testGood: 6, testPerDefect: 3, silent: true });
});
test.after(() => rmSync(root, { recursive: true, force: true }));

test('same seed twice gives identical metrics; every cue and map is reported; memory is released', async () => {
  const experiment = parseExperiment(experimentInput(join(root, 'features')));
  const first = await prepareExperiment(experiment, { silent: true, warn: () => {} });
  const tensorsBefore = tf.memory().numTensors;
  const a = await runCell(experiment, first, { silent: true });
  const second = await prepareExperiment(experiment, { silent: true, backbone: first.backbone, warn: () => {} });
  assert.equal(second.cacheStats.extracted, 0, 'the second run reuses every feature from the disk cache');
  const b = await runCell(experiment, second, { silent: true });
  assert.deepEqual(a.evaluation.metrics, b.evaluation.metrics);
  assert.deepEqual(a.images, b.images);
  for (const key of ['image_auroc', 'image_ap', 'auroc_deviation', 'auroc_uncertainty', 'auroc_segmentation', 'pixel_auroc_seg', 'pixel_auroc_grad', 'pixel_auroc_product']) {
    const value = a.evaluation.metrics[key as keyof typeof a.evaluation.metrics];
    assert.ok(typeof value === 'number' && value >= 0 && value <= 1, `${key} = ${value}`);
  }
  const withGradient = a.maps.filter((m) => m.grad).length;
  assert.equal(withGradient, 4, 'gradient maps for exactly the requested number of test images');
  // The test set never holds a training anomaly.
  const trainIds = new Set(first.manifest.items.filter((i) => i.role !== 'test').map((i) => i.id.split('#')[0]));
  assert.ok(a.images.every((img) => !trainIds.has(img.id)));
  const runDir = join(root, 'run');
  await writeRunDir(runDir, 'test', a, first.manifest, first.backbone);
  for (const f of ['experiment.json', 'manifest.json', 'scores.csv', 'metrics.json', 'train-log.json', 'model/model.json']) {
    assert.ok(existsSync(join(runDir, f)), f);
  }
  const csv = readFileSync(join(runDir, 'scores.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, a.images.length + 1);
  assert.equal(csv[0], 'id,label,defect,score,deviation,uncertainty,segmentation,p');

  // Fig. 2 of the saved run: one row per defect kind plus one nominal row.
  const panel = await writeRunPanel(runDir, join(root, 'panel.png'));
  const kinds = new Set(a.images.map((img) => (img.label ? img.defect : 'good')));
  const { width, height } = await sharp(panel).metadata();
  // Five equal tile columns (input, truth, overlay, binarised, S(x)) and one tile row per kind, plus margins.
  assert.ok(height! / width! > (0.8 * kinds.size) / 5, `${kinds.size} rows in a ${width}×${height} panel`);
  const page = readFileSync(join(root, 'panel.html'), 'utf8');
  assert.ok(page.includes(`base64,${readFileSync(panel).toString('base64')}`), 'the HTML page embeds the same PNG');

  a.model!.dispose();
  b.model!.dispose();
  assert.ok(tf.memory().numTensors <= tensorsBefore + 2, `tensors ${tensorsBefore} → ${tf.memory().numTensors}`);
});

test('panel picks: the top-scoring image of each defect kind, nominal last, only eligible images', () => {
  const images = [
    { label: 0 as const, defect: 'good', score: 0.2 },
    { label: 1 as const, defect: 'scratch', score: 0.5 },
    { label: 1 as const, defect: 'crack', score: 0.9 },
    { label: 0 as const, defect: 'good', score: 0.4 },
    { label: 1 as const, defect: 'scratch', score: 0.8 },
    { label: 1 as const, defect: 'crack', score: 0.95 },
  ];
  assert.deepEqual(pickPanelImages(images), [5, 4, 3]);
  assert.deepEqual(pickPanelImages(images, (i) => i !== 5 && i !== 3), [2, 4, 0]);
});

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, MULTICUE_QUIET: '1' },
  });
}

test('CLI: eval reproduces train, predict scores images and names an unreadable one, a foreign model is refused', async () => {
  const run = join(root, 'cli-run');
  const experimentFile = join(root, 'experiment.json');
  writeFileSync(experimentFile, JSON.stringify(experimentInput(join(root, 'features'))));
  const trained = cli(['train', '--experiment', experimentFile, '--out', run, '--json']);
  assert.equal(trained.status, 0, trained.stderr);
  const trainMetrics = JSON.parse(trained.stdout).metrics;

  const evaluated = cli(['eval', run, '--json']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.deepEqual(JSON.parse(evaluated.stdout).metrics, trainMetrics);

  const broken = join(root, 'broken.png');
  writeFileSync(broken, 'not a png');
  const image = join(data, 'washer', 'test', 'good', '000.png');
  const predicted = cli(['predict', run, image, broken, '--out', join(root, 'pred'), '--json']);
  assert.equal(predicted.status, 1, 'a failed image makes the exit status non-zero');
  assert.match(predicted.stderr, /broken\.png/);
  const lines = predicted.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1, 'the readable image is still scored');
  assert.ok(Number.isFinite(lines[0].score) && Number.isFinite(lines[0].deviation));
  assert.ok(existsSync(join(root, 'pred', '000_heatmap.png')));

  // The same model on another backbone is refused with the reason.
  const experiment = JSON.parse(readFileSync(join(run, 'experiment.json'), 'utf8'));
  experiment.backbone.name = 'mobilenetv2';
  writeFileSync(join(run, 'experiment.json'), JSON.stringify(experiment));
  const refused = cli(['eval', run]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /trained for backbone "mobilenetv2-0\.35"/);
});
