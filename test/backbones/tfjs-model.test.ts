import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import {
  layersModelFromArtifacts,
  loadMobileNetV2Tfjs,
  loadTfjsModelBackbone,
  MOBILENETV2_KERAS_TAPS,
  readTfjsArtifacts,
  tapSubModel,
  tfjsModelBackbone,
} from '../../src/backbones/tfjs-model.ts';
import type { Backbone } from '../../src/backbones/types.ts';
import { readImage } from '../../src/data/image.ts';
import { InputError } from '../../src/util/errors.ts';
import { sharedPath } from '../../src/util/paths.ts';
import { Rng } from '../../src/util/rng.ts';

const MODEL_JSON = sharedPath('weights', 'mobilenetv2-035-tfjs', 'model.json');
const TILES = sharedPath('data', 'magnetic-tile');
const dir = mkdtempSync(join(tmpdir(), 'multicue-tfjs-model-'));

let backbone: Backbone;

before(async () => {
  await initBackend();
  backbone = await loadMobileNetV2Tfjs(MODEL_JSON);
});
after(() => {
  backbone.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function tiles(size: number, picks: Array<[string, number]>): Promise<tf.Tensor4D> {
  const images = await Promise.all(
    picks.map(async ([cls, i]) => {
      const folder = `${TILES}/${cls}/Imgs`;
      const file = readdirSync(folder).filter((f) => f.endsWith('.jpg')).sort()[i];
      return readImage(`${folder}/${file}`, { size, resize: 'stretch' });
    }),
  );
  return tf.tidy(() => tf.stack(images.map((im) => tf.tensor3d(im.data, [size, size, 3]))) as tf.Tensor4D);
}

async function relativeError(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const e = tf.tidy(() => tf.div(tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b))));
  const v = (await e.data())[0];
  e.dispose();
  return v;
}

test('mobilenetv2-0.35 from the nested Sequential: taps, channels, strides, weightsId', () => {
  assert.equal(backbone.name, 'mobilenetv2-0.35');
  assert.deepEqual(backbone.tapNames, MOBILENETV2_KERAS_TAPS);
  assert.deepEqual(backbone.tapChannels, [96, 192, 1280]);
  assert.deepEqual(backbone.tapStrides, [8, 16, 32]);
  // sha256 of weights.bin (shared/weights/SOURCE.md), first 16 hex digits.
  assert.equal(backbone.weightsId, '871179f09e824817');
});

test('tap shapes at 224² and 256²', async () => {
  for (const size of [224, 256]) {
    const x = await tiles(size, [['MT_Free', 0], ['MT_Break', 0]]);
    const taps = backbone.forward(x);
    assert.deepEqual(
      taps.map((t) => t.shape),
      [
        [2, size / 8, size / 8, 96],
        [2, size / 16, size / 16, 192],
        [2, size / 32, size / 32, 1280],
      ],
    );
    tf.dispose([x, ...taps]);
  }
});

test('folded batch norm matches the unfolded Keras model to 1e-4 (fused and unfused ops)', async () => {
  const { artifacts } = await readTfjsArtifacts(MODEL_JSON);
  const keras = await layersModelFromArtifacts(artifacts);
  const reference = tapSubModel(keras, MOBILENETV2_KERAS_TAPS);
  const fresh = await loadMobileNetV2Tfjs(MODEL_JSON);
  const x = await tiles(224, [['MT_Free', 3], ['MT_Crack', 1]]);
  const expected = tf.tidy(() => reference.predict(tf.sub(tf.mul(x, 2), 1)) as tf.Tensor[]);
  for (const forGradient of [false, true]) {
    const got = fresh.forward(x, { forGradient });
    for (let i = 0; i < 3; i++) {
      const err = await relativeError(got[i], expected[i]);
      assert.ok(err < 1e-4, `tap ${MOBILENETV2_KERAS_TAPS[i]} (forGradient ${forGradient}): relative error ${err}`);
    }
    tf.dispose(got);
  }
  tf.dispose([x, ...expected]);
  keras.dispose();
  fresh.dispose();
});

test('two loads give identical outputs', async () => {
  const other = await loadTfjsModelBackbone(MODEL_JSON, { taps: MOBILENETV2_KERAS_TAPS, inputRange: [-1, 1] });
  const x = await tiles(224, [['MT_Uneven', 0]]);
  const a = backbone.forward(x);
  const b = other.forward(x);
  for (let i = 0; i < 3; i++) assert.deepEqual(await a[i].data(), await b[i].data());
  tf.dispose([x, ...a, ...b]);
  other.dispose();
});

test('memory stays flat over repeated forwards and input gradients', async () => {
  const x = await tiles(128, [['MT_Free', 1]]);
  const step = () => {
    tf.dispose(backbone.forward(x));
    tf.grad((z: tf.Tensor) => tf.sum(backbone.forward(z as tf.Tensor4D, { forGradient: true })[2]))(x).dispose();
  };
  step();
  const before = tf.memory();
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before.numTensors);
  assert.equal(tf.memory().numBytes, before.numBytes);
  x.dispose();
});

test('trainable variables on demand; disposing the backbone frees every tensor', async () => {
  const start = tf.memory().numTensors;
  const b = await loadMobileNetV2Tfjs(MODEL_JSON);
  assert.ok(tf.memory().numTensors > start);
  const x = await tiles(64, [['MT_Free', 2]]);
  const before = b.forward(x);
  const vars = b.trainableVariables();
  // Conv filters and biases up to out_relu (52 convs, BN folded into each).
  assert.equal(vars.length, 2 * 52);
  assert.ok(vars.every((v) => v.trainable));
  const afterVars = b.forward(x);
  assert.deepEqual(await afterVars[2].data(), await before[2].data());
  tf.dispose([x, ...before, ...afterVars]);
  b.dispose();
  assert.equal(tf.memory().numTensors, start);
});

/**
 * A small Keras graph exercising every rebuild rule: zero padding, conv→BN→ReLU6
 * fold, depthwise (multiplier 2)→BN→relu, a BN that is also a tap, residual add,
 * a conv with its own activation before a BN (not foldable), nested in a Sequential.
 */
function syntheticModel(rng: Rng): tf.Sequential {
  const input = tf.input({ shape: [null, null, 3], name: 'image' });
  const L = tf.layers;
  let x = L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'pad' }).apply(input) as tf.SymbolicTensor;
  x = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'c1' }).apply(x) as tf.SymbolicTensor;
  x = L.batchNormalization({ name: 'b1' }).apply(x) as tf.SymbolicTensor;
  const r1 = L.reLU({ maxValue: 6, name: 'r1' }).apply(x) as tf.SymbolicTensor;
  x = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false, name: 'd1' }).apply(r1) as tf.SymbolicTensor;
  x = L.batchNormalization({ name: 'b2' }).apply(x) as tf.SymbolicTensor;
  const r2 = L.activation({ activation: 'relu', name: 'r2' }).apply(x) as tf.SymbolicTensor;
  x = L.conv2d({ filters: 16, kernelSize: 1, useBias: true, name: 'p1' }).apply(r2) as tf.SymbolicTensor;
  const b3 = L.batchNormalization({ name: 'b3' }).apply(x) as tf.SymbolicTensor;
  const sum = L.add({ name: 'add' }).apply([b3, r2]) as tf.SymbolicTensor;
  x = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c2' }).apply(sum) as tf.SymbolicTensor;
  const b4 = L.batchNormalization({ name: 'b4' }).apply(x) as tf.SymbolicTensor;
  x = L.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'c5' }).apply(b4) as tf.SymbolicTensor;
  x = L.batchNormalization({ name: 'b5', epsilon: 1e-5 }).apply(x) as tf.SymbolicTensor;
  const r5 = L.reLU({ maxValue: 6, name: 'r5' }).apply(x) as tf.SymbolicTensor;
  const inner = tf.model({ inputs: input, outputs: r5, name: 'inner' });
  // Non-trivial batch-norm statistics, seeded.
  for (const layer of inner.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(
      layer.weights.map((w) => {
        const n = w.shape.reduce((a, b) => a! * b!, 1)!;
        const name = w.originalName;
        const values = Float32Array.from({ length: n }, () =>
          name.endsWith('moving_variance') ? rng.uniform(0.2, 2) : name.endsWith('gamma') ? rng.uniform(0.5, 1.5) : rng.normal(0, 0.5),
        );
        return tf.tensor(values, w.shape as number[]);
      }),
    );
  }
  const outer = tf.sequential({ name: 'outer' });
  outer.add(inner);
  outer.add(L.globalAveragePooling2d({ name: 'gap' }));
  return outer;
}

const SYNTHETIC_TAPS: [string, string, string] = ['b3', 'b4', 'r5'];

async function saveArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

test('a nested synthetic model: the folded rebuild matches Keras (taps inside a chain, depth multiplier 2)', async () => {
  const rng = new Rng(11);
  const original = syntheticModel(rng);
  const artifacts = await saveArtifacts(original);
  const reference = tapSubModel(original, SYNTHETIC_TAPS);
  const x = tf.tidy(() => tf.tensor4d(Float32Array.from({ length: 2 * 40 * 40 * 3 }, () => rng.next()), [2, 40, 40, 3]));
  const expected = reference.predict(x) as tf.Tensor[];
  for (const fold of [true, false]) {
    const model = await layersModelFromArtifacts(artifacts);
    const b = tfjsModelBackbone(model, 'synthetic', { taps: SYNTHETIC_TAPS, inputRange: [0, 1], fold });
    assert.deepEqual(b.tapChannels, [16, 8, 12]);
    assert.deepEqual(b.tapStrides, [2, 4, 8]);
    for (const forGradient of [false, true]) {
      const got = b.forward(x, { forGradient });
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(got[i].shape, expected[i].shape);
        const err = await relativeError(got[i], expected[i]);
        assert.ok(err < 1e-5, `fold ${fold}, forGradient ${forGradient}, tap ${SYNTHETIC_TAPS[i]}: ${err}`);
      }
      tf.dispose(got);
    }
    b.dispose();
  }
  tf.dispose([x, ...expected]);
  original.dispose();
});

test('model.json + shards from disk; a truncated shard is an InputError naming it', async () => {
  const artifacts = await saveArtifacts(syntheticModel(new Rng(3)));
  const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
  const modelJson = {
    format: 'layers-model',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }],
  };
  const half = Math.floor(weights.length / 2);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(dir, 'group1-shard1of2.bin'), weights.subarray(0, half));
  writeFileSync(join(dir, 'group1-shard2of2.bin'), weights.subarray(half));
  const b = await loadTfjsModelBackbone(join(dir, 'model.json'), { taps: SYNTHETIC_TAPS, inputRange: [0, 1] });
  assert.deepEqual(b.tapChannels, [16, 8, 12]);
  assert.equal(b.weightsId.length, 16);
  b.dispose();

  writeFileSync(join(dir, 'group1-shard2of2.bin'), weights.subarray(half, weights.length - 8));
  await assert.rejects(
    loadTfjsModelBackbone(join(dir, 'model.json'), { taps: SYNTHETIC_TAPS, inputRange: [0, 1] }),
    (err: unknown) => err instanceof InputError && /shard2of2/.test(err.message) && /truncated/.test(err.message),
  );
  rmSync(join(dir, 'group1-shard2of2.bin'));
  await assert.rejects(
    loadTfjsModelBackbone(join(dir, 'model.json'), { taps: SYNTHETIC_TAPS, inputRange: [0, 1] }),
    (err: unknown) => err instanceof InputError && /missing/.test(err.message),
  );
});

test('unknown tap names are an InputError suggesting real layers', async () => {
  await assert.rejects(
    loadTfjsModelBackbone(MODEL_JSON, { taps: ['block_6_expand_relu', 'block_99', 'out_relu'], inputRange: [-1, 1] }),
    (err: unknown) => err instanceof InputError && /block_99/.test(err.message) && /out_relu/.test(err.message),
  );
  // The real model.json is untouched by the test.
  assert.ok(JSON.parse(readFileSync(MODEL_JSON, 'utf8')).modelTopology);
});
