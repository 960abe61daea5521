import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import { dequantizeTensor, parseTflite, TensorType, type TfliteModel, type TfliteTensor } from '../../src/backbones/flatbuffer.ts';
import {
  loadMobileNetV2Tflite,
  loadTfliteBackbone,
  MOBILENETV2_TFLITE_TAPS,
  quantizedInputRange,
  TfliteGraph,
} from '../../src/backbones/tflite.ts';
import type { Backbone } from '../../src/backbones/types.ts';
import { readImage } from '../../src/data/image.ts';
import { InputError } from '../../src/util/errors.ts';
import { sharedPath } from '../../src/util/paths.ts';

const MODEL = sharedPath('weights', 'mobilenetv2-coral', 'mobilenet_v2_1.0_224_quant.tflite');
const SHA256 = '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776';
const TILES = sharedPath('data', 'magnetic-tile');

let backbone: Backbone;

before(async () => {
  await initBackend();
  backbone = await loadMobileNetV2Tflite(MODEL);
});
after(() => backbone.dispose());

/** A real magnetic-tile photo as a [1, size, size, 3] tensor in [0,1]. */
async function tile(size: number, cls = 'MT_Free', index = 0): Promise<tf.Tensor4D> {
  const dir = `${TILES}/${cls}/Imgs`;
  const file = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort()[index];
  const im = await readImage(`${dir}/${file}`, { size, resize: 'stretch' });
  return tf.tensor4d(im.data, [1, size, size, 3]);
}

test('the flatbuffer reader decodes the Coral MobileNetV2 (ops, tensors, quantization)', () => {
  const model = parseTflite(readFileSync(MODEL));
  assert.equal(model.subgraphs.length, 1);
  const sg = model.subgraphs[0];
  const ops = new Set(sg.operators.map((o) => o.op));
  assert.deepEqual([...ops].sort(), ['ADD', 'AVERAGE_POOL_2D', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'RESHAPE', 'SOFTMAX']);
  const input = sg.tensors[sg.inputs[0]];
  assert.deepEqual(input.shape, [1, 224, 224, 3]);
  assert.equal(input.type, TensorType.UINT8);
  assert.deepEqual(input.quantization?.scale, [0.0078125]);
  assert.deepEqual(input.quantization?.zeroPoint, [128]);
  assert.deepEqual(sg.tensors[sg.outputs[0]].shape, [1, 1001]);
  // The first conv: stride 2, SAME, fused ReLU6; its weights OHWI uint8, bias int32.
  const conv = sg.operators[0];
  assert.equal(conv.op, 'CONV_2D');
  assert.deepEqual(conv.options, { kind: 'conv2d', padding: 'same', strideW: 2, strideH: 2, activation: 'relu6', dilationW: 1, dilationH: 1 });
  assert.deepEqual(sg.tensors[conv.inputs[1]].shape, [32, 3, 3, 3]);
  assert.equal(sg.tensors[conv.inputs[2]].type, TensorType.INT32);
  const depthwise = sg.operators.find((o) => o.op === 'DEPTHWISE_CONV_2D')!;
  assert.equal(depthwise.options.kind === 'depthwise' && depthwise.options.depthMultiplier, 1);
  // Dequantized weights stay in the range the quantization can express.
  const w = sg.tensors[conv.inputs[1]];
  const values = dequantizeTensor(model, w);
  const q = w.quantization!;
  const lo = q.scale[0] * (0 - q.zeroPoint[0]);
  const hi = q.scale[0] * (255 - q.zeroPoint[0]);
  assert.equal(values.length, 32 * 27);
  assert.ok(values.every((v) => v >= lo - 1e-6 && v <= hi + 1e-6));
  assert.ok(values.some((v) => v !== 0));
});

test('non-TFLite bytes are refused with a clear message', () => {
  assert.throws(() => parseTflite(new TextEncoder().encode('definitely not a flatbuffer')), /not a TFLite model/);
});

test('dequantization: per-tensor uint8, per-channel int8 on any axis, float copied', () => {
  const tensor = (type: number, shape: number[], scale: number[], zeroPoint: number[], axis: number): TfliteTensor => ({
    index: 0,
    name: 't',
    shape,
    type,
    buffer: 1,
    quantization: { scale, zeroPoint, quantizedDimension: axis, min: [], max: [] },
  });
  const model = (bytes: Uint8Array): TfliteModel => ({ version: 3, description: '', subgraphs: [], buffers: [new Uint8Array(0), bytes] });
  const u8 = dequantizeTensor(model(Uint8Array.from([0, 128, 255])), tensor(TensorType.UINT8, [3], [0.5], [128], 0));
  assert.deepEqual(Array.from(u8), [-64, 0, 63.5]);
  // int8 [2, 3], per-channel on axis 1 (like a depthwise filter's last axis).
  const i8 = Int8Array.from([-2, 0, 4, 6, -8, 10]);
  const perChannel = dequantizeTensor(model(new Uint8Array(i8.buffer)), tensor(TensorType.INT8, [2, 3], [1, 0.5, 0.25], [0, 0, 2], 1));
  assert.deepEqual(Array.from(perChannel), [-2, 0, 0.5, 6, -4, 2]);
  // per-channel on axis 0.
  const axis0 = dequantizeTensor(model(new Uint8Array(i8.buffer)), tensor(TensorType.INT8, [2, 3], [1, 2], [0, 1], 0));
  assert.deepEqual(Array.from(axis0), [-2, 0, 4, 10, -18, 18]);
  const f = Float32Array.from([1.5, -2]);
  const float = dequantizeTensor(model(new Uint8Array(f.buffer)), { ...tensor(TensorType.FLOAT32, [2], [1], [0], 0), quantization: null });
  assert.deepEqual(Array.from(float), [1.5, -2]);
  assert.deepEqual(quantizedInputRange(tensor(TensorType.UINT8, [1], [1 / 128], [128], 0)), [-1, 1]);
});

test('mobilenetv2 preset: taps, channels, strides and weightsId', () => {
  assert.equal(backbone.name, 'mobilenetv2');
  assert.deepEqual(backbone.tapNames, MOBILENETV2_TFLITE_TAPS);
  assert.deepEqual(backbone.tapChannels, [192, 576, 1280]);
  assert.deepEqual(backbone.tapStrides, [8, 16, 32]);
  assert.equal(backbone.weightsId, SHA256.slice(0, 16));
  assert.equal(createHash('sha256').update(readFileSync(MODEL)).digest('hex'), SHA256);
  assert.equal(backbone.warning, undefined);
});

test('tap shapes at 224² and 256² (batch 2)', async () => {
  for (const size of [224, 256]) {
    const x = tf.concat([await tile(size, 'MT_Free', 0), await tile(size, 'MT_Crack', 0)]) as tf.Tensor4D;
    const taps = backbone.forward(x);
    assert.deepEqual(
      taps.map((t) => t.shape),
      [
        [2, size / 8, size / 8, 192],
        [2, size / 16, size / 16, 576],
        [2, size / 32, size / 32, 1280],
      ],
    );
    for (const t of taps) {
      const [min, max] = [tf.min(t), tf.max(t)];
      // Every tap is a ReLU6 output.
      assert.ok((await min.data())[0] >= 0 && (await max.data())[0] <= 6);
      assert.ok((await max.data())[0] > 0);
      tf.dispose([min, max]);
    }
    tf.dispose([x, ...taps]);
  }
});

test('two loads give identical outputs; unfused (forGradient) matches fused', async () => {
  const other = await loadTfliteBackbone(MODEL, { taps: MOBILENETV2_TFLITE_TAPS, inputRange: [-1, 1] });
  const x = await tile(224, 'MT_Blowhole', 1);
  const a = backbone.forward(x);
  const b = other.forward(x);
  const c = backbone.forward(x, { forGradient: true });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await a[i].data(), await b[i].data());
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a[i], c[i]))).div(tf.max(tf.abs(a[i]))));
    assert.ok((await diff.data())[0] < 1e-4, `tap ${i}: unfused differs by ${(await diff.data())[0]}`);
    diff.dispose();
  }
  tf.dispose([x, ...a, ...b, ...c]);
  other.dispose();
});

test('the default input range is read from the quantized input (scale 1/128, zero point 128 → [-1, 1])', async () => {
  const inferred = await loadTfliteBackbone(MODEL, { taps: MOBILENETV2_TFLITE_TAPS });
  const x = await tile(224);
  const a = backbone.forward(x);
  const b = inferred.forward(x);
  assert.deepEqual(await a[2].data(), await b[2].data());
  tf.dispose([x, ...a, ...b]);
  inferred.dispose();
});

test('memory stays flat over repeated forwards and input gradients', async () => {
  const x = await tile(224);
  const step = () => {
    tf.dispose(backbone.forward(x));
    const g = tf.grad((z: tf.Tensor) => tf.sum(backbone.forward(z as tf.Tensor4D, { forGradient: true })[2]))(x);
    g.dispose();
  };
  step(); // warm-up: kernels may cache constants once
  const before = tf.memory();
  for (let i = 0; i < 3; i++) step();
  const afterMem = tf.memory();
  assert.equal(afterMem.numTensors, before.numTensors);
  assert.equal(afterMem.numBytes, before.numBytes);
  x.dispose();
});

test('trainable variables on demand; disposing the backbone frees every tensor', async () => {
  const start = tf.memory().numTensors;
  const b = await loadMobileNetV2Tflite(MODEL);
  const x = await tile(64);
  const before = b.forward(x);
  const vars = b.trainableVariables();
  // Conv filters and biases of every operator up to Conv_1 (52 convs).
  assert.equal(vars.length, 2 * 52);
  assert.ok(vars.every((v) => v.trainable));
  const afterVars = b.forward(x);
  assert.deepEqual(await afterVars[2].data(), await before[2].data());
  tf.dispose([x, ...before, ...afterVars]);
  b.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('input gradient through the taps is finite and non-zero', async () => {
  const x = await tile(96, 'MT_Crack', 2);
  const g = tf.grad((z: tf.Tensor) => tf.sum(backbone.forward(z as tf.Tensor4D, { forGradient: true })[1]))(x);
  assert.deepEqual(g.shape, x.shape);
  const data = await g.data();
  assert.ok(data.every(Number.isFinite));
  assert.ok(data.some((v) => v !== 0));
  tf.dispose([x, g]);
});

test('the full graph classifies: softmax over 1001 classes within the model\'s quantized output range', async () => {
  const graph = await TfliteGraph.fromFile(MODEL);
  const logitsTensor = graph.findTensor('MobilenetV2/Logits/Squeeze1');
  const x = tf.tidy(() => tf.sub(tf.mul(tf.concat([tf.zeros([1, 224, 224, 3]), tf.ones([1, 224, 224, 3])]), 2), 1) as tf.Tensor4D);
  const [probs, logits] = graph.run(x, [graph.subgraph.outputs[0], logitsTensor.index]);
  assert.deepEqual(probs.shape, [2, 1001]);
  const sums = await tf.sum(probs, 1).data();
  for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-4);
  // Float logits stay inside what the uint8 logits tensor can represent.
  const q = logitsTensor.quantization!;
  const [lo, hi] = [q.scale[0] * (0 - q.zeroPoint[0]), q.scale[0] * (255 - q.zeroPoint[0])];
  const values = await logits.data();
  assert.ok(values.every((v) => v >= lo - 0.5 && v <= hi + 0.5), `logits outside [${lo}, ${hi}]`);
  tf.dispose([x, probs, logits]);
  graph.dispose();
});

// A natural photo (Debian's python-matplotlib-data) when installed: Grace Hopper in uniform.
const HOPPER = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
test('ImageNet top-1 on a real photo is sensible (military uniform)', { skip: !existsSync(HOPPER) && 'python-matplotlib-data not installed' }, async () => {
  const graph = await TfliteGraph.fromFile(MODEL);
  const im = await readImage(HOPPER, { size: 224, resize: 'stretch' });
  const x = tf.tidy(() => tf.sub(tf.mul(tf.tensor4d(im.data, [1, 224, 224, 3]), 2), 1) as tf.Tensor4D);
  const [probs] = graph.run(x, [graph.subgraph.outputs[0]]);
  const top = (await tf.argMax(probs, 1).data())[0];
  // 1001 classes, background at 0: ImageNet class 652 "military uniform" is 653.
  assert.equal(top, 653);
  tf.dispose([x, probs]);
  graph.dispose();
});

test('unknown tap names are an InputError that lists similar tensors', async () => {
  await assert.rejects(
    loadTfliteBackbone(MODEL, { taps: ['MobilenetV2/expanded_conv_6', 'nope', 'MobilenetV2/Conv_1/Relu6'], inputRange: [-1, 1] }),
    (err: unknown) => err instanceof InputError && /expanded_conv_6/.test(err.message),
  );
  await assert.rejects(loadTfliteBackbone('/nonexistent/model.tflite', { taps: MOBILENETV2_TFLITE_TAPS }), InputError);
});
