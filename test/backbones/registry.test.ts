import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import { NSFWJS_TAPS } from '../../src/backbones/nsfwjs.ts';
import {
  BACKBONE_NAMES,
  backboneForWeightsFile,
  listBackbones,
  loadBackbone,
  resolveAutoBackbone,
} from '../../src/backbones/registry.ts';
import type { Backbone } from '../../src/backbones/types.ts';
import { cachedWeightPath, weightsCacheDir, WEIGHT_SOURCES } from '../../src/backbones/weights-cache.ts';
import { InputError } from '../../src/util/errors.ts';
import { REPO_ROOT, sharedPath } from '../../src/util/paths.ts';

// A MULTICUE_WEIGHTS-style folder: the team's shared weights, laid out like the cache.
const SHARED_WEIGHTS = sharedPath('weights');
const RESNET18_FILE = sharedPath('testvectors', 'resnet18', 'weights.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'multicue-registry-'));

/** A cache folder holding links to some of the shared weights. */
function cacheWith(name: string, parts: { coral?: boolean; tfjs035?: boolean; resnet18?: boolean }): string {
  const cache = join(dir, name);
  mkdirSync(cache, { recursive: true });
  if (parts.coral) symlinkSync(join(SHARED_WEIGHTS, 'mobilenetv2-coral'), join(cache, WEIGHT_SOURCES.mobilenetv2.subdir));
  if (parts.tfjs035) symlinkSync(join(SHARED_WEIGHTS, 'mobilenetv2-035-tfjs'), join(cache, WEIGHT_SOURCES['mobilenetv2-0.35'].subdir));
  if (parts.resnet18) {
    mkdirSync(join(cache, WEIGHT_SOURCES.resnet18.subdir));
    symlinkSync(RESNET18_FILE, cachedWeightPath('resnet18', cache));
  }
  return cache;
}

before(async () => {
  await initBackend();
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function tapShapes(b: Backbone, size: number): Promise<number[][]> {
  const x = tf.zeros([1, size, size, 3]) as tf.Tensor4D;
  const taps = b.forward(x);
  const shapes = taps.map((t) => t.shape as number[]);
  tf.dispose([x, ...taps]);
  return shapes;
}

test('cache folder: MULTICUE_WEIGHTS, else $MULTICUE_CACHE/weights, else XDG, else ~/.cache/multicue/weights', () => {
  assert.equal(weightsCacheDir({ MULTICUE_WEIGHTS: '/w', MULTICUE_CACHE: '/c' }), '/w');
  assert.equal(weightsCacheDir({ MULTICUE_CACHE: '/c' }), join('/c', 'weights'));
  assert.equal(weightsCacheDir({ XDG_CACHE_HOME: '/x' }), join('/x', 'multicue', 'weights'));
  assert.ok(weightsCacheDir({}).endsWith(join('.cache', 'multicue', 'weights')));
  // The shared folder's layout is the cache layout.
  assert.equal(cachedWeightPath('mobilenetv2', SHARED_WEIGHTS), join(SHARED_WEIGHTS, 'mobilenetv2-coral', 'mobilenet_v2_1.0_224_quant.tflite'));
  assert.equal(cachedWeightPath('mobilenetv2-0.35', SHARED_WEIGHTS), join(SHARED_WEIGHTS, 'mobilenetv2-035-tfjs', 'model.json'));
});

test('names resolve from a MULTICUE_WEIGHTS-style folder (option and environment)', async () => {
  const coral = await loadBackbone('mobilenetv2', { cacheDir: SHARED_WEIGHTS });
  assert.equal(coral.name, 'mobilenetv2');
  assert.equal(coral.weightsId, '7aad0c74c5e3c06e');
  assert.deepEqual(await tapShapes(coral, 224), [
    [1, 28, 28, 192],
    [1, 14, 14, 576],
    [1, 7, 7, 1280],
  ]);
  coral.dispose();
  const saved = process.env.MULTICUE_WEIGHTS;
  process.env.MULTICUE_WEIGHTS = SHARED_WEIGHTS;
  try {
    const small = await loadBackbone('mobilenetv2-0.35');
    assert.equal(small.name, 'mobilenetv2-0.35');
    assert.equal(small.weightsId, '871179f09e824817');
    small.dispose();
  } finally {
    if (saved === undefined) delete process.env.MULTICUE_WEIGHTS;
    else process.env.MULTICUE_WEIGHTS = saved;
  }
});

test('auto picks the best backbone in the cache: resnet18 > mobilenetv2 > mobilenetv2-0.35', async () => {
  const onlySmall = cacheWith('only-035', { tfjs035: true });
  const both = cacheWith('both', { tfjs035: true, coral: true });
  const all = cacheWith('all', { tfjs035: true, coral: true, resnet18: true });
  assert.equal(resolveAutoBackbone({ cacheDir: onlySmall }), 'mobilenetv2-0.35');
  assert.equal(resolveAutoBackbone({ cacheDir: both }), 'mobilenetv2');
  assert.equal(resolveAutoBackbone({ cacheDir: all }), 'resnet18');
  const picked = await loadBackbone('auto', { cacheDir: both });
  assert.equal(picked.name, 'mobilenetv2');
  assert.equal(picked.warning, undefined);
  picked.dispose();
  const best = await loadBackbone('auto', { cacheDir: all });
  assert.equal(best.name, 'resnet18');
  assert.deepEqual(best.tapChannels, [128, 256, 512]);
  best.dispose();
  assert.equal(listBackbones(all).find((b) => b.name === 'auto')!.description.endsWith('now: resnet18'), true);
});

test('auto with an empty cache: the nsfwjs fallback, loudly warned', async () => {
  const empty = cacheWith('empty', {});
  assert.equal(resolveAutoBackbone({ cacheDir: empty }), 'nsfwjs-mobilenetv2');
  const fallback = await loadBackbone('auto', { cacheDir: empty });
  assert.equal(fallback.name, 'nsfwjs-mobilenetv2');
  assert.match(fallback.warning ?? '', /WEAK OFFLINE FALLBACK/);
  assert.match(fallback.warning ?? '', /multicue weights fetch mobilenetv2/);
  assert.deepEqual(fallback.tapNames, NSFWJS_TAPS);
  assert.deepEqual(fallback.tapStrides.map((s) => 224 / s), (await tapShapes(fallback, 224)).map((s) => s[1]));
  assert.equal(fallback.weightsId.length, 16);
  // Deterministic: a second load gives the same features.
  const again = await loadBackbone('nsfwjs-mobilenetv2');
  const x = tf.randomUniform([1, 96, 96, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const [a, b] = [fallback.forward(x), again.forward(x)];
  assert.deepEqual(await a[2].data(), await b[2].data());
  tf.dispose([x, ...a, ...b]);
  fallback.dispose();
  again.dispose();
});

test('missing weights: the error names the URL to download and the path to put it at', async () => {
  const empty = cacheWith('missing', {});
  for (const name of ['mobilenetv2', 'mobilenetv2-0.35', 'resnet18'] as const) {
    await assert.rejects(loadBackbone(name, { cacheDir: empty }), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.ok(err.message.includes(WEIGHT_SOURCES[name].url), err.message);
      assert.ok(err.message.includes(cachedWeightPath(name, empty)), err.message);
      assert.ok(err.message.includes(`multicue weights fetch ${name}`), err.message);
      return true;
    });
  }
});

test('--weights: a file or a folder; auto guesses the backbone from the file; bad names are errors', async () => {
  const coralFile = cachedWeightPath('mobilenetv2', SHARED_WEIGHTS);
  const fromFile = await loadBackbone('auto', { weightsPath: coralFile });
  assert.equal(fromFile.name, 'mobilenetv2');
  fromFile.dispose();
  const fromFolder = await loadBackbone('mobilenetv2-0.35', { weightsPath: join(SHARED_WEIGHTS, 'mobilenetv2-035-tfjs') });
  assert.equal(fromFolder.name, 'mobilenetv2-0.35');
  fromFolder.dispose();
  assert.equal(backboneForWeightsFile('a/model.safetensors'), 'resnet18');
  assert.equal(backboneForWeightsFile('x.bin'), null);
  await assert.rejects(loadBackbone('auto', { weightsPath: join(dir, 'x.bin') }), InputError);
  await assert.rejects(loadBackbone('mobilenetv2', { weightsPath: join(dir, 'absent.tflite') }), InputError);
  await assert.rejects(loadBackbone('nsfwjs-mobilenetv2', { weightsPath: coralFile }), InputError);
  await assert.rejects(loadBackbone('vgg16'), (err: unknown) => err instanceof InputError && BACKBONE_NAMES.every((n) => err.message.includes(n)));
});

test('listBackbones describes every name', () => {
  const list = listBackbones(SHARED_WEIGHTS);
  assert.deepEqual(
    list.map((b) => b.name),
    [...BACKBONE_NAMES],
  );
  assert.ok(list.every((b) => b.description.length > 20 && b.taps.length > 0));
  assert.equal(list.find((b) => b.name === 'mobilenetv2')!.cached, true);
  assert.equal(list.find((b) => b.name === 'resnet18')!.cached, false);
});

test('CLI: `multicue weights list --json` reports the cache', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'weights', 'list', '--cache', SHARED_WEIGHTS, '--json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { cacheDir: string; cache: Array<{ name: string; present: boolean }> };
  assert.equal(out.cacheDir, SHARED_WEIGHTS);
  assert.deepEqual(
    out.cache.map((e) => [e.name, e.present]),
    [
      ['resnet18', false],
      ['mobilenetv2', true],
      ['mobilenetv2-0.35', true],
    ],
  );
});
