import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import {
  backpropFilterAxisPlan,
  backpropInputAxisPlan,
  mergePhases,
  subPixelConvFilter,
  WASM_KERNEL_CONFIGS,
  type AxisPlan,
} from '../../src/engine/wasm-kernels.ts';
import { Rng } from '../../src/util/rng.ts';

// ---------------------------------------------------------------------------
// Geometry, checked in 1-D against the definition (no tensors)
// ---------------------------------------------------------------------------

/** Forward: y[o] = Σ_k x[o·s + k·d − pad] w[k]; returns dx = Σ dy[o] w[k] at i = o·s + k·d − pad. */
function referenceDx(dy: number[], w: number[], inLength: number, stride: number, dilation: number, pad: number): number[] {
  const dx = new Array(inLength).fill(0);
  dy.forEach((g, o) =>
    w.forEach((wk, k) => {
      const i = o * stride + k * dilation - pad;
      if (i >= 0 && i < inLength) dx[i] += g * wk;
    }),
  );
  return dx;
}

function outLengthOf(inLength: number, k: number, stride: number, dilation: number, padBefore: number, padAfter: number): number {
  return Math.floor((inLength + padBefore + padAfter - ((k - 1) * dilation + 1)) / stride) + 1;
}

/** Reads dy with the pass's zero padding, failing if it reads past the padded range. */
function paddedReader(dy: number[], padBefore: number, padAfter: number) {
  return (t: number): number => {
    assert.ok(t >= 0 && t < padBefore + dy.length + padAfter, `read ${t} outside the padded range`);
    const i = t - padBefore;
    return i >= 0 && i < dy.length ? dy[i] : 0;
  };
}

function dxFromPhases(plan: AxisPlan, dy: number[], w: number[], inLength: number): number[] {
  const stride = plan.phases.length;
  const dx = new Array(inLength).fill(0);
  plan.phases.forEach((pass, a) => {
    if (!pass) return;
    const read = paddedReader(dy, pass.padBefore, pass.padAfter);
    for (let m = 0; m < plan.rowsPerPhase; m++) {
      let sum = 0;
      pass.taps.forEach((tap, j) => (sum += read(m + pass.cropOffset + j * pass.dilation) * w[tap]));
      if (stride * m + a < inLength) dx[stride * m + a] = sum;
    }
  });
  return dx;
}

function dxFromMerged(plan: AxisPlan, dy: number[], w: number[], inLength: number, outLength: number): number[] {
  const merged = mergePhases(plan, outLength);
  const stride = plan.phases.length;
  const dx = new Array(inLength).fill(0);
  const read = paddedReader(dy, merged.padBefore, merged.padAfter);
  plan.phases.forEach((pass, a) => {
    if (!pass) return;
    const window = new Array(merged.span).fill(0);
    pass.taps.forEach((tap, j) => (window[merged.phaseOffsets[a]! + j] = w[tap]));
    for (let m = 0; m < plan.rowsPerPhase; m++) {
      let sum = 0;
      window.forEach((wj, j) => (sum += read(m + merged.cropOffset + j * merged.dilation) * wj));
      if (stride * m + a < inLength) dx[stride * m + a] = sum;
    }
  });
  return dx;
}

function assertClose(actual: number[], expected: number[], label: string): void {
  assert.equal(actual.length, expected.length, label);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `${label}: index ${i}: ${v} vs ${expected[i]}`));
}

test('input-gradient plans (phases and merged) reproduce the definition in 1-D', () => {
  const rng = new Rng('axis-plan');
  let cases = 0;
  for (const inLength of [1, 2, 5, 8, 9, 16])
    for (const k of [1, 2, 3, 4, 7])
      for (const stride of [1, 2, 3])
        for (const dilation of stride === 1 ? [1, 2] : [1])
          for (const padBefore of [0, 1, 3, 5])
            for (const padAfter of [0, 1, 2, 4]) {
              const out = outLengthOf(inLength, k, stride, dilation, padBefore, padAfter);
              if (out < 1) continue;
              const dy = Array.from({ length: out }, () => rng.normal());
              const w = Array.from({ length: k }, () => rng.normal());
              const expected = referenceDx(dy, w, inLength, stride, dilation, padBefore);
              const plan = backpropInputAxisPlan(inLength, out, k, stride, dilation, padBefore);
              const label = `H=${inLength} k=${k} s=${stride} d=${dilation} pad=${padBefore}/${padAfter}`;
              assertClose(dxFromPhases(plan, dy, w, inLength), expected, `${label} (phases)`);
              assertClose(dxFromMerged(plan, dy, w, inLength, out), expected, `${label} (merged)`);
              cases++;
            }
  assert.ok(cases > 500);
});

test('a 1×1 stride-2 filter leaves odd rows without gradient; 3×3 stride 2 merges into a 2-tap window', () => {
  const oneByOne = backpropInputAxisPlan(8, 4, 1, 2, 1, 0);
  assert.deepEqual(
    oneByOne.phases.map((p) => p?.taps ?? null),
    [[0], null],
  );
  const threeByThree = backpropInputAxisPlan(8, 4, 3, 2, 1, 1); // PyTorch-style pad 1
  assert.deepEqual(
    threeByThree.phases.map((p) => p?.taps ?? null),
    [[1], [2, 0]],
  );
  assert.equal(mergePhases(threeByThree, 4).span, 2);
  assert.throws(() => backpropInputAxisPlan(8, 4, 3, 2, 2, 1), /stride 2 with dilation 2/);
});

test('filter-gradient padding covers every tap and no more than needed', () => {
  for (const [inLength, out, k, s, d, pad] of [
    [9, 9, 3, 1, 1, 1],
    [8, 3, 3, 2, 1, 0], // 'valid' with a row the conv never reads
    [7, 4, 7, 2, 1, 3],
    [10, 6, 3, 1, 2, 0],
  ]) {
    const plan = backpropFilterAxisPlan(inLength, out, k, s, d, pad);
    const padded = plan.padBefore + inLength + plan.padAfter;
    // Outputs of the dilated correlation sampled every d: at least k of them.
    const results = Math.floor((padded - ((out - 1) * s + 1)) / d) + 1;
    assert.ok(results >= k, `k=${k}: ${results} results`);
    assert.ok(plan.padAfter === 0 || results === k, 'pads only as far as the last tap');
  }
});

test('the merged conv filter places each tap once, transposed to [.., C_out, phases·C_in]', () => {
  const [kh, kw, inC, outC] = [3, 3, 2, 3];
  const values = Float32Array.from({ length: kh * kw * inC * outC }, (_, i) => i + 1);
  const rowPlan = backpropInputAxisPlan(8, 4, kh, 2, 1, 1);
  const colPlan = backpropInputAxisPlan(8, 4, kw, 2, 1, 1);
  const rows = { plan: rowPlan, merged: mergePhases(rowPlan, 4) };
  const cols = { plan: colPlan, merged: mergePhases(colPlan, 4) };
  const merged = subPixelConvFilter(values, [kh, kw, inC, outC], rows, cols);
  assert.deepEqual(merged.shape, [2, 2, outC, 4 * inC]);
  const nonZero = [...merged.values].filter((v) => v !== 0).sort((a, b) => a - b);
  assert.deepEqual(nonZero, [...values]);
});

// ---------------------------------------------------------------------------
// Kernels on wasm against the cpu backend
// ---------------------------------------------------------------------------

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Input {
  shape: number[];
  values: Float32Array;
}

function randomInput(rng: Rng, shape: number[]): Input {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float32Array.from({ length: size }, () => rng.normal()) };
}

/** Gradients of Σ f(inputs)·r (r a fixed random weight) on one backend, as plain arrays. */
async function gradsOn(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: Input[],
  weight: Input,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const r = tf.tensor(weight.values, weight.shape);
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), r)))(xs);
  const out = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose([...xs, r, ...grads]);
  return out;
}

/** Max |wasm − cpu| relative to max |cpu|, over every gradient. */
async function compareBackends(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Input[], rng: Rng): Promise<number> {
  await tf.setBackend('cpu');
  const outShape = tf.tidy(() => f(...inputs.map((i) => tf.tensor(i.values, i.shape))).shape);
  const weight = randomInput(rng, outShape);
  const reference = await gradsOn('cpu', f, inputs, weight);
  const actual = await gradsOn('wasm', f, inputs, weight);
  let worst = 0;
  reference.forEach((ref, g) => {
    let scale = 0;
    let err = 0;
    for (let i = 0; i < ref.length; i++) {
      scale = Math.max(scale, Math.abs(ref[i]));
      err = Math.max(err, Math.abs(ref[i] - actual[g][i]));
    }
    assert.ok(scale > 0, 'gradient is not all zeros');
    worst = Math.max(worst, err / scale);
  });
  return worst;
}

test('initBackend registers our four gradient kernels for wasm', async () => {
  await initBackend('wasm');
  for (const config of WASM_KERNEL_CONFIGS) {
    assert.equal(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc, config.kernelFunc, config.kernelName);
  }
  assert.deepEqual(
    WASM_KERNEL_CONFIGS.map((c) => c.kernelName).sort(),
    ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
  );
});

const PADS: Pad[] = [
  'same',
  'valid',
  [[0, 0], [1, 2], [3, 0], [0, 0]],
  [[0, 0], [3, 3], [3, 3], [0, 0]],
];

test('conv2d gradients (dx, dW) on wasm match cpu: strides 1/2, every padding, 1×1/3×3/7×7, odd and even sizes', async () => {
  assert.equal(await initBackend('wasm'), 'wasm');
  const rng = new Rng('conv2d-grads');
  let checked = 0;
  for (const [h, w] of [
    [9, 9],
    [8, 10],
  ])
    for (const k of [1, 3, 7])
      for (const stride of [1, 2])
        for (const pad of PADS) {
          if (pad === 'valid' && k > Math.min(h, w)) continue;
          const x = randomInput(rng, [2, h, w, 3]);
          const filter = randomInput(rng, [k, k, 3, 5]);
          const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
          const err = await compareBackends(f, [x, filter], rng);
          assert.ok(err < 1e-4, `h=${h} w=${w} k=${k} s=${stride} pad=${JSON.stringify(pad)}: relative error ${err}`);
          checked++;
        }
  assert.ok(checked >= 40);
});

test('conv2d gradients on wasm: unequal strides, padding wider than the kernel, more channels', async () => {
  await initBackend('wasm');
  const rng = new Rng('conv2d-odd-cases');
  const cases: Array<{ x: number[]; f: number[]; strides: [number, number]; pad: Pad }> = [
    { x: [2, 9, 8, 4], f: [3, 3, 4, 6], strides: [1, 2], pad: 'same' },
    { x: [1, 7, 7, 2], f: [3, 3, 2, 3], strides: [2, 2], pad: [[0, 0], [4, 4], [4, 4], [0, 0]] },
    { x: [3, 6, 6, 16], f: [3, 3, 16, 24], strides: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
    { x: [1, 11, 11, 3], f: [7, 7, 3, 8], strides: [2, 2], pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
  ];
  for (const c of cases) {
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad);
    const err = await compareBackends(f, [randomInput(rng, c.x), randomInput(rng, c.f)], rng);
    assert.ok(err < 1e-4, `${JSON.stringify(c)}: relative error ${err}`);
  }
});

test('fused conv2d (bias + relu) and conv2dTranspose gradients on wasm match cpu', async () => {
  await initBackend('wasm');
  const rng = new Rng('fused-and-transpose');
  const fused = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
    tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 2, pad: 'same', activation: 'relu' });
  const errFused = await compareBackends(fused, [randomInput(rng, [2, 8, 8, 3]), randomInput(rng, [3, 3, 3, 4]), randomInput(rng, [4])], rng);
  assert.ok(errFused < 1e-4, `fused: ${errFused}`);
  // conv2dTranspose runs Conv2DBackpropInput forward; its gradient runs Conv2D and Conv2DBackpropFilter.
  const transposed = (dy: tf.Tensor, w: tf.Tensor) => tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [2, 9, 9, 3], 2, 'same');
  const errTransposed = await compareBackends(transposed, [randomInput(rng, [2, 5, 5, 4]), randomInput(rng, [3, 3, 3, 4])], rng);
  assert.ok(errTransposed < 1e-4, `conv2dTranspose: ${errTransposed}`);
});

test('depthwise conv gradients (dx, dW) on wasm match cpu: strides 1/2, paddings, multipliers 1/2', async () => {
  await initBackend('wasm');
  const rng = new Rng('depthwise-grads');
  for (const [h, w] of [
    [9, 9],
    [8, 10],
  ])
    for (const k of [1, 3, 5])
      for (const stride of [1, 2])
        for (const multiplier of [1, 2])
          for (const pad of ['same', 'valid', [[0, 0], [2, 1], [0, 2], [0, 0]]] as Pad[]) {
            const x = randomInput(rng, [2, h, w, 3]);
            const filter = randomInput(rng, [k, k, 3, multiplier]);
            const f = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
            const err = await compareBackends(f, [x, filter], rng);
            assert.ok(err < 1e-4, `h=${h} w=${w} k=${k} s=${stride} m=${multiplier} pad=${JSON.stringify(pad)}: ${err}`);
          }
});

test('the gradient kernels leave no tensors behind and are deterministic', async () => {
  await initBackend('wasm');
  await tf.setBackend('wasm');
  const rng = new Rng('leaks');
  const x = tf.tensor(randomInput(rng, [2, 12, 12, 8]).values, [2, 12, 12, 8]) as tf.Tensor4D;
  const w = tf.tensor(randomInput(rng, [3, 3, 8, 8]).values, [3, 3, 8, 8]) as tf.Tensor4D;
  const dw = tf.tensor(randomInput(rng, [3, 3, 8, 1]).values, [3, 3, 8, 1]) as tf.Tensor4D;
  const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.depthwiseConv2d(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')), c as tf.Tensor4D, 2, 'same'));
  const run = () => {
    const grads = tf.grads(f)([x, w, dw]);
    const values = grads.map((g) => Array.from(g.dataSync()));
    tf.dispose(grads);
    return values;
  };
  const first = run();
  const before = tf.memory().numTensors;
  const second = run();
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(second, first);
  tf.dispose([x, w, dw]);
});

test('Sum, Mean and Tile fast paths on wasm agree with cpu, and other cases still reach the stock kernels', async () => {
  await initBackend('wasm');
  const rng = new Rng('reductions');
  const x = randomInput(rng, [4, 32, 32, 16]);
  const channel = randomInput(rng, [1, 1, 1, 16]);
  const row = randomInput(rng, [2, 3]);
  const cases: Array<[string, (t: tf.Tensor, c: tf.Tensor, r: tf.Tensor) => tf.Tensor]> = [
    ['sum N,H,W', (t) => tf.sum(t, [0, 1, 2])],
    ['sum keepDims, negative axes', (t) => tf.sum(t, [-4, -3, -2], true)],
    ['mean N,H,W', (t) => tf.mean(t, [0, 1, 2])],
    ['sum H,W (stock)', (t) => tf.sum(t, [1, 2])],
    ['mean all (stock)', (t) => tf.mean(t)],
    ['moments', (t) => tf.moments(t, [0, 1, 2]).variance],
    ['tile broadcast', (_, c) => tf.tile(c, [4, 32, 32, 1])],
    ['tile non-broadcast (stock)', (_, __, r) => tf.tile(r, [2, 3])],
    ['tile int32 (stock)', (_, __, r) => tf.cast(tf.tile(tf.cast(r, 'int32'), [3, 1]), 'float32')],
  ];
  for (const [name, f] of cases) {
    const results: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      results.push(
        tf.tidy(() => f(tf.tensor(x.values, x.shape), tf.tensor(channel.values, channel.shape), tf.tensor(row.values, row.shape)).dataSync() as Float32Array),
      );
    }
    const [ref, got] = results;
    assert.equal(got.length, ref.length, name);
    const scale = Math.max(...ref.map(Math.abs));
    const err = Math.max(...ref.map((v, i) => Math.abs(v - got[i])));
    assert.ok(err <= 1e-5 * scale, `${name}: ${err} (scale ${scale})`);
  }
});

test('batch-norm training gradients (moments → batchNorm, the decoder pattern) on wasm match cpu', async () => {
  await initBackend('wasm');
  const rng = new Rng('batchnorm');
  const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.relu(tf.batchNorm4d(x as tf.Tensor4D, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-5));
  };
  const err = await compareBackends(f, [randomInput(rng, [4, 32, 32, 16]), randomInput(rng, [16]), randomInput(rng, [16])], rng);
  assert.ok(err < 1e-4, `batch norm: ${err}`);
});
