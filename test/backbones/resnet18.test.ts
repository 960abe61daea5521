import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import { FoldedConv, foldBatchNorm } from '../../src/backbones/conv.ts';
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  disposeResNet18,
  loadResNet18FromSafetensors,
  loadResNet18Params,
  resnet18Forward,
  resnet18ParamsFromTensors,
  type ResNet18Params,
} from '../../src/backbones/resnet18.ts';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../../src/backbones/safetensors.ts';
import { relativeMaxError, verifyResNet18 } from '../../src/backbones/verify.ts';
import type { Backbone } from '../../src/backbones/types.ts';
import { InputError } from '../../src/util/errors.ts';
import { REPO_ROOT, sharedPath } from '../../src/util/paths.ts';
import { Rng } from '../../src/util/rng.ts';

const WEIGHTS = sharedPath('testvectors', 'resnet18', 'weights.safetensors');
const REFERENCE = sharedPath('testvectors', 'resnet18', 'io.json');
type Recorded = { shape: number[]; data: number[] };
const io = JSON.parse(readFileSync(REFERENCE, 'utf8')) as Record<string, Recorded> & { layout: string };

const dir = mkdtempSync(join(tmpdir(), 'multicue-resnet18-'));
let params: ResNet18Params;
let backbone: Backbone;

before(async () => {
  await initBackend('wasm');
  params = (await loadResNet18Params(WEIGHTS)).params;
  backbone = await loadResNet18FromSafetensors(WEIGHTS);
});
after(() => {
  disposeResNet18(params);
  backbone.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const nchwToNhwc = (t: Recorded) => tf.tidy(() => tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D);

test('the test vector input is what the network was fed (raw [0,1], NCHW)', () => {
  assert.equal(io.layout, 'NCHW');
  assert.deepEqual(io.input.shape, [1, 3, 96, 96]);
  assert.ok(Math.min(...io.input.data) >= 0 && Math.max(...io.input.data) <= 1);
});

test('every layer matches the PyTorch reference within 1e-3 (fused and unfused)', async () => {
  const layers = ['layer2', 'layer3', 'layer4'] as const;
  assert.ok(layers.every((l) => l in io));
  const x = nchwToNhwc(io.input);
  for (const fused of [true, false]) {
    const out = resnet18Forward(params, x, { fused });
    for (const layer of layers) {
      const ref = nchwToNhwc(io[layer]);
      assert.deepEqual(out[layer].shape, ref.shape);
      const err = relativeMaxError(await out[layer].data(), await ref.data());
      assert.ok(err.relativeError < 1e-3, `${layer} (fused=${fused}): relative error ${err.relativeError}`);
      ref.dispose();
    }
    assert.deepEqual(out.conv1.shape, [1, 48, 48, 64]);
    assert.deepEqual(out.layer1.shape, [1, 24, 24, 64]);
    Object.values(out).forEach((t) => t.dispose());
  }
  x.dispose();
});

test('the Backbone normalises [0,1] input with ImageNet mean/std, then matches the reference', async () => {
  // The reference input was fed to the network as is; un-normalise it so the backbone's own normalisation restores it.
  const pixels = tf.tidy(() =>
    tf.add(tf.mul(nchwToNhwc(io.input), tf.tensor1d([...IMAGENET_STD])), tf.tensor1d([...IMAGENET_MEAN])),
  ) as tf.Tensor4D;
  const taps = backbone.forward(pixels);
  const names = ['layer2', 'layer3', 'layer4'] as const;
  for (let i = 0; i < 3; i++) {
    const ref = nchwToNhwc(io[names[i]]);
    const err = relativeMaxError(await taps[i].data(), await ref.data());
    assert.ok(err.relativeError < 1e-3, `${names[i]}: ${err.relativeError}`);
    ref.dispose();
  }
  taps.forEach((t) => t.dispose());
  pixels.dispose();
});

test('Backbone metadata and weightsId = sha256 prefix of the file', () => {
  assert.equal(backbone.name, 'resnet18');
  assert.deepEqual(backbone.tapNames, ['layer2', 'layer3', 'layer4']);
  assert.deepEqual(backbone.tapChannels, [128, 256, 512]);
  assert.deepEqual(backbone.tapStrides, [8, 16, 32]);
  const sha = createHash('sha256').update(readFileSync(WEIGHTS)).digest('hex');
  assert.ok(sha.startsWith(backbone.weightsId) && backbone.weightsId.length >= 12);
  assert.equal(backbone.trainableVariables().length, 40, '20 folded convs × (filter, bias)');
});

test('tap shapes at 96² and 256² input; forGradient gives the same taps', async () => {
  for (const [size, batch] of [
    [96, 2],
    [256, 1],
  ] as const) {
    const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const fused = backbone.forward(x);
    const unfused = backbone.forward(x, { forGradient: true });
    fused.forEach((t, i) => {
      const s = size / backbone.tapStrides[i];
      assert.deepEqual(t.shape, [batch, s, s, backbone.tapChannels[i]]);
    });
    for (let i = 0; i < 3; i++) {
      const err = relativeMaxError(await unfused[i].data(), await fused[i].data());
      assert.ok(err.relativeError < 1e-5, `tap ${i} at ${size}²: ${err.relativeError}`);
    }
    [...fused, ...unfused, x].forEach((t) => t.dispose());
  }
});

test('repeated forward passes do not leak tensors; dispose frees the weights', async () => {
  const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const run = (forGradient: boolean) => backbone.forward(x, { forGradient }).forEach((t) => t.dispose());
  run(false);
  run(true);
  const start = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    run(false);
    run(true);
  }
  assert.equal(tf.memory().numTensors, start);
  x.dispose();
  const extra = await loadResNet18FromSafetensors(WEIGHTS);
  const withExtra = tf.memory().numTensors;
  assert.equal(withExtra - start + 1, 40, 'only the 40 weight variables stay alive');
  extra.dispose();
  assert.equal(tf.memory().numTensors, start - 1);
  assert.throws(() => extra.forward(tf.zeros([1, 32, 32, 3])), /after dispose/);
});

test('foldBatchNorm scales each output channel and transposes OIHW → HWIO', () => {
  const rng = new Rng(5);
  const [o, i, kh, kw] = [2, 3, 2, 3];
  const weight = Float32Array.from({ length: o * i * kh * kw }, () => rng.normal());
  const bn = {
    gamma: Float32Array.from([1.5, -0.5]),
    beta: Float32Array.from([0.1, 0.2]),
    mean: Float32Array.from([0.3, -1]),
    variance: Float32Array.from([4, 0.25]),
  };
  const folded = foldBatchNorm(weight, [o, i, kh, kw], bn, 1e-5);
  assert.deepEqual(folded.filterShape, [kh, kw, i, o]);
  for (let oc = 0; oc < o; oc++) {
    const s = bn.gamma[oc] / Math.sqrt(bn.variance[oc] + 1e-5);
    assert.ok(Math.abs(folded.bias[oc] - (bn.beta[oc] - bn.mean[oc] * s)) < 1e-6);
    for (let ic = 0; ic < i; ic++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          const got = folded.filter[((y * kw + x) * i + ic) * o + oc];
          assert.ok(Math.abs(got - weight[((oc * i + ic) * kh + y) * kw + x] * s) < 1e-6);
        }
      }
    }
  }
});

test('FoldedConv pads symmetrically like PyTorch (stride 2, pad 1 and pad 3)', async () => {
  const rng = new Rng(9);
  for (const [k, pad, size] of [
    [3, 1, 6],
    [7, 3, 9],
  ] as const) {
    const inC = 2;
    const outC = 3;
    const filter = Float32Array.from({ length: k * k * inC * outC }, () => rng.normal());
    const bias = Float32Array.from({ length: outC }, () => rng.normal());
    const input = Float32Array.from({ length: size * size * inC }, () => rng.normal());
    const conv = new FoldedConv({ filter, filterShape: [k, k, inC, outC], bias }, 2, pad);
    const x = tf.tensor4d(input, [1, size, size, inC]);
    const outSize = Math.floor((size + 2 * pad - k) / 2) + 1;
    // Direct PyTorch-style convolution: zero padding of `pad` on every side.
    const expected: number[] = [];
    for (let oy = 0; oy < outSize; oy++) {
      for (let ox = 0; ox < outSize; ox++) {
        for (let oc = 0; oc < outC; oc++) {
          let sum = bias[oc];
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * 2 - pad + ky;
              const ix = ox * 2 - pad + kx;
              if (iy < 0 || ix < 0 || iy >= size || ix >= size) continue;
              for (let ic = 0; ic < inC; ic++) {
                sum += input[(iy * size + ix) * inC + ic] * filter[((ky * k + kx) * inC + ic) * outC + oc];
              }
            }
          }
          expected.push(Math.max(0, sum));
        }
      }
    }
    for (const fused of [true, false]) {
      const y = conv.apply(x, { relu: true, fused });
      assert.deepEqual(y.shape, [1, outSize, outSize, outC]);
      const got = await y.data();
      expected.forEach((v, j) => assert.ok(Math.abs(got[j] - v) < 1e-4, `k=${k} fused=${fused} at ${j}: ${got[j]} vs ${v}`));
      y.dispose();
    }
    x.dispose();
    conv.dispose();
  }
});

test('checkpoint names: module./model. prefixes and fc.* accepted; missing or extra tensors are InputErrors', async () => {
  const file = await readSafetensors(WEIGHTS);
  const prefixed = new Map<string, NamedTensor>([...file.tensors].map(([k, v]) => [`module.model.${k}`, v]));
  prefixed.set('module.model.bn1.num_batches_tracked', { shape: [], data: new Float32Array([1]) });
  disposeResNet18(resnet18ParamsFromTensors(prefixed, 'prefixed.safetensors'));

  const missing = new Map<string, NamedTensor>(file.tensors);
  missing.delete('layer3.1.bn2.running_var');
  assert.throws(
    () => resnet18ParamsFromTensors(missing, 'cut.safetensors'),
    (e: unknown) => e instanceof InputError && /missing \(layer3\.1\.bn2\.running_var\)/.test(e.message) && e.message.includes('cut.safetensors'),
  );
  const deeper = new Map<string, NamedTensor>(file.tensors);
  deeper.set('layer1.2.conv1.weight', { shape: [64, 64, 3, 3], data: new Float32Array(64 * 64 * 9) });
  assert.throws(() => resnet18ParamsFromTensors(deeper, 'r34.safetensors'), (e: unknown) => e instanceof InputError && /unexpected tensors/.test(e.message));
  const wrongShape = new Map<string, NamedTensor>(file.tensors);
  wrongShape.set('bn1.weight', { shape: [32], data: new Float32Array(32) });
  assert.throws(() => resnet18ParamsFromTensors(wrongShape, 'w.safetensors'), (e: unknown) => e instanceof InputError && /shape \[32\]/.test(e.message));
});

test('verify passes on the shared weights and fails on a copy with one tensor changed; so does the CLI', async () => {
  const good = await verifyResNet18({ weights: WEIGHTS, reference: REFERENCE });
  assert.ok(good.ok);
  assert.deepEqual(
    good.layers.map((l) => l.layer),
    ['layer2', 'layer3', 'layer4'],
  );

  // One tensor changed (layer3's last conv): layer2 still matches, layer3 and layer4 must fail.
  const file = await readSafetensors(WEIGHTS);
  const changed = new Map<string, NamedTensor>(file.tensors);
  const w = file.tensors.get('layer3.1.conv2.weight')!;
  changed.set('layer3.1.conv2.weight', { shape: w.shape, data: w.data.map((v) => v * 1.5) });
  const badPath = join(dir, 'changed.safetensors');
  await writeSafetensors(badPath, changed, 'F16');
  const bad = await verifyResNet18({ weights: badPath, reference: REFERENCE });
  assert.equal(bad.ok, false);
  assert.deepEqual(
    bad.layers.map((l) => [l.layer, l.ok]),
    [
      ['layer2', true],
      ['layer3', false],
      ['layer4', false],
    ],
  );

  const cli = (weights: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'backbone', 'verify', '--weights', weights, '--reference', REFERENCE], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, MULTICUE_BACKEND: 'wasm' },
    });
  const ok = cli(WEIGHTS);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /layer4 .* ok/);
  const failed = cli(badPath);
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stdout, /layer3 .* FAIL/);
  assert.match(failed.stdout, /FAILED: 2 layer\(s\)/);
});
