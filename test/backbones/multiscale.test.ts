import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend.ts';
import { bilinearResizeMatrix, multiScaleChannels, multiScaleFeatures } from '../../src/backbones/multiscale.ts';
import { loadResNet18FromSafetensors } from '../../src/backbones/resnet18.ts';
import { sharedPath } from '../../src/util/paths.ts';
import { Rng } from '../../src/util/rng.ts';

before(async () => {
  await initBackend('wasm');
});

/**
 * PyTorch's F.interpolate(mode='bilinear', align_corners=False) written out:
 * src = (dst + 0.5) * in/out − 0.5, clamped below at 0; neighbours clamped at the edge.
 */
function torchBilinear(data: Float32Array, h: number, w: number, c: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(outH * outW * c);
  const source = (dst: number, inSize: number, outSize: number) => {
    const s = Math.max(0, (dst + 0.5) * (inSize / outSize) - 0.5);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [i0, i1, s - i0] as const;
  };
  for (let y = 0; y < outH; y++) {
    const [y0, y1, fy] = source(y, h, outH);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, fx] = source(x, w, outW);
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => data[(yy * w + xx) * c + k];
        const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
        const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
        out[(y * outW + x) * c + k] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

function randomTap(rng: Rng, shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()), shape);
}

test('2×2 → 4×4 reproduces PyTorch align_corners=False values', async () => {
  const t8 = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
  const t16 = tf.tensor4d([0, 1, 2, 3], [1, 2, 2, 1]);
  const t32 = tf.tensor4d([5], [1, 1, 1, 1]);
  const out = multiScaleFeatures([t8, t16, t32]);
  assert.deepEqual(out.shape, [1, 4, 4, 3]);
  const resized = await tf.tidy(() => out.slice([0, 0, 0, 1], [1, 4, 4, 1]).reshape([16])).data();
  // torch.nn.functional.interpolate(torch.arange(4.).view(1,1,2,2), scale_factor=2, mode='bilinear')
  assert.deepEqual([...resized], [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  const constant = await tf.tidy(() => out.slice([0, 0, 0, 2], [1, 4, 4, 1]).reshape([16])).data();
  assert.ok(constant.every((v) => v === 5), 'a 1×1 tap becomes a constant map');
  [t8, t16, t32, out].forEach((t) => t.dispose());
});

test('resizing matches a direct bilinear computation, including odd grids', async () => {
  const rng = new Rng(11);
  // [t8, t16, t32] spatial sizes as ResNet-18 gives them for 256², 96² and an odd 100×150 input.
  const cases: Array<[[number, number], [number, number], [number, number]]> = [
    [[8, 8], [4, 4], [2, 2]],
    [[12, 12], [6, 6], [3, 3]],
    [[13, 19], [7, 10], [4, 5]],
  ];
  for (const [s8, s16, s32] of cases) {
    const c = [3, 2, 4] as const;
    const taps = [
      randomTap(rng, [2, s8[0], s8[1], c[0]]),
      randomTap(rng, [2, s16[0], s16[1], c[1]]),
      randomTap(rng, [2, s32[0], s32[1], c[2]]),
    ] as const;
    const before = tf.memory().numTensors;
    const out = multiScaleFeatures(taps);
    assert.equal(tf.memory().numTensors, before + 1, 'only the result stays alive');
    assert.deepEqual(out.shape, [2, s8[0], s8[1], multiScaleChannels(c)]);
    const got = await out.data();
    for (let n = 0; n < 2; n++) {
      const parts = await Promise.all(taps.map((t, i) => t.slice([n], [1]).data().then((d) => ({ d, i }))));
      const expected = parts.map(({ d, i }) => {
        const [, h, w] = taps[i].shape;
        return i === 0 ? Float32Array.from(d) : torchBilinear(Float32Array.from(d), h, w, c[i], s8[0], s8[1]);
      });
      const total = multiScaleChannels(c);
      for (let p = 0; p < s8[0] * s8[1]; p++) {
        let offset = 0;
        for (let i = 0; i < 3; i++) {
          for (let k = 0; k < c[i]; k++) {
            const ours = got[(n * s8[0] * s8[1] + p) * total + offset + k];
            const ref = expected[i][p * c[i] + k];
            assert.ok(Math.abs(ours - ref) < 1e-5, `${s8}: tap ${i} pixel ${p} channel ${k}: ${ours} vs ${ref}`);
          }
          offset += c[i];
        }
      }
    }
    [...taps, out].forEach((t) => t.dispose());
  }
});

test('ResNet-18 at 256²: a 32×32×896 map whose first 128 channels are layer2', async () => {
  const backbone = await loadResNet18FromSafetensors(sharedPath('testvectors', 'resnet18', 'weights.safetensors'));
  const x = tf.randomUniform([1, 256, 256, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const taps = backbone.forward(x);
  const map = multiScaleFeatures(taps);
  assert.deepEqual(map.shape, [1, 32, 32, 896]);
  assert.equal(multiScaleChannels(backbone.tapChannels), 896);
  const diff = tf.tidy(() => tf.sub(map.slice([0, 0, 0, 0], [1, 32, 32, 128]), taps[0]).abs().max().dataSync()[0]);
  assert.equal(diff, 0);
  [...taps, map, x].forEach((t) => t.dispose());
  backbone.dispose();
});

test('gradients are exact: the adjoint of the PyTorch resize, not the tfjs legacy one', async () => {
  const rng = new Rng(4);
  const [h8, w8] = [7, 9];
  const t8 = randomTap(rng, [2, h8, w8, 2]);
  const t16 = randomTap(rng, [2, 4, 5, 3]);
  const t32 = randomTap(rng, [2, 2, 3, 1]);
  const g = randomTap(rng, [2, h8, w8, 6]);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(multiScaleFeatures([a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D]), g)),
  )([t8, t16, t32]);
  const gData = await g.data();
  const channelOffsets = [0, 2, 5];
  for (const i of [1, 2]) {
    const [n, h, w, c] = grads[i].shape;
    const got = await grads[i].data();
    // Adjoint written out: each output pixel sends its upstream gradient to the 4 source cells it read.
    const expected = new Float32Array(n * h * w * c);
    const source = (dst: number, inSize: number, outSize: number) => {
      const s = Math.max(0, (dst + 0.5) * (inSize / outSize) - 0.5);
      const i0 = Math.min(Math.floor(s), inSize - 1);
      return [i0, Math.min(i0 + 1, inSize - 1), s - i0] as const;
    };
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < h8; y++) {
        const [y0, y1, fy] = source(y, h, h8);
        for (let x = 0; x < w8; x++) {
          const [x0, x1, fx] = source(x, w, w8);
          for (let k = 0; k < c; k++) {
            const up = gData[((b * h8 + y) * w8 + x) * 6 + channelOffsets[i] + k];
            const add = (yy: number, xx: number, weight: number) => (expected[((b * h + yy) * w + xx) * c + k] += up * weight);
            add(y0, x0, (1 - fy) * (1 - fx));
            add(y0, x1, (1 - fy) * fx);
            add(y1, x0, fy * (1 - fx));
            add(y1, x1, fy * fx);
          }
        }
      }
    }
    expected.forEach((v, j) => assert.ok(Math.abs(got[j] - v) < 1e-4, `tap ${i} cell ${j}: ${got[j]} vs ${v}`));
  }
  const direct = await grads[0].data();
  const gFirst = await tf.tidy(() => g.slice([0, 0, 0, 0], [2, h8, w8, 2])).data();
  assert.deepEqual([...direct], [...gFirst], 'the stride-8 tap passes its gradient straight through');
  [t8, t16, t32, g, ...grads].forEach((t) => t.dispose());
});

test('resize matrix rows sum to 1 and pick the nearest cells', () => {
  for (const [inSize, outSize] of [
    [2, 4],
    [3, 12],
    [7, 13],
    [5, 5],
  ]) {
    const m = bilinearResizeMatrix(inSize, outSize);
    for (let o = 0; o < outSize; o++) {
      const row = m.subarray(o * inSize, (o + 1) * inSize);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
      assert.ok(row.every((v) => v >= 0));
    }
  }
  assert.deepEqual([...bilinearResizeMatrix(5, 5)], [...bilinearResizeMatrix(5, 5)].map((_, j) => (j % 6 === 0 ? 1 : 0)), 'same size is the identity');
});

test('mismatched batch sizes are rejected', () => {
  const a = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
  const b = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
  assert.throws(() => multiScaleFeatures([a, b, b]), /different batch sizes/);
  a.dispose();
  b.dispose();
});
