import * as tf from '@tensorflow/tfjs';
import { topFractionCount } from '../scoring/top-fraction.ts';

/**
 * Small differentiable building blocks shared by the heads and the
 * localization. They use only ops whose gradients every backend has (no
 * gather/unsortedSegmentSum, which wasm lacks).
 */

/**
 * Mean of the largest `fraction` of each row of x [N, M] → [N]. Differentiable
 * with respect to the selected entries: a (constant) mask of entries ≥ the k-th
 * largest value multiplies x, so the gradient needs no gather.
 */
export function topFractionMeanRows(x: tf.Tensor2D, fraction: number): tf.Tensor1D {
  return tf.tidy(() => {
    // Same count as the scoring's topFractionMean: ceil(fraction·M), at least 1.
    const k = topFractionCount(x.shape[1], fraction);
    const kth = kthLargestDetached(x, k);
    const selected = tf.cast(tf.greaterEqual(x, kth), 'float32');
    // Ties at the threshold can select more than k entries: divide by how many were taken.
    return tf.div(tf.sum(tf.mul(x, selected), 1), tf.sum(selected, 1)) as tf.Tensor1D;
  });
}

/**
 * The k-th largest value of each row, [N, 1], as a constant for the gradient:
 * TopK has no gradient in tfjs, so it runs inside a custom-gradient node whose
 * gradient is zero and whose inner ops stay off the tape.
 */
function kthLargestDetached(x: tf.Tensor2D, k: number): tf.Tensor2D {
  const threshold = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor2D;
    return {
      value: tf.slice(tf.topk(input, k, true).values, [0, k - 1], [-1, 1]),
      gradFunc: () => tf.zerosLike(input),
    };
  });
  return threshold(x) as tf.Tensor2D;
}

/** Nearest-neighbour ×2 upsampling of an NHWC tensor. */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [h * 2, w * 2]);
}

/** A per-pixel linear map (1×1 convolution) as a matrix product: x [N,H,W,C] · w [C,K] + b [K]. */
export function pointwise(x: tf.Tensor4D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const flat = tf.reshape(x, [n * h * w, c]) as tf.Tensor2D;
    const out = pointwiseMatMul(flat, weight, bias);
    return tf.reshape(out, [n, h, w, weight.shape[1]]) as tf.Tensor4D;
  });
}

/**
 * flat·W + b with gradients that avoid tfjs-wasm's transposed matMuls, which
 * are ~20× slower than plain ones: dW = (dyᵀ·flat)ᵀ transposes only the small
 * dy and the small result, never the [pixels × channels] features.
 */
/** Rows of the features per matMul in the weight gradient (bounds XNNPACK's packed copy to ~32 MB). */
const WEIGHT_GRAD_ROWS = 4096;

/**
 * dyᵀ·x [O, C] summed over row chunks: XNNPACK packs the right-hand operand,
 * and packing all of x (e.g. 32768 × 2048 floats) can exhaust the 4 GB wasm
 * heap, where tfjs-wasm then only warns and leaves the output unwritten.
 */
function weightGradient(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = x.shape[0];
    const dyT = tf.transpose(dy) as tf.Tensor2D;
    if (rows <= WEIGHT_GRAD_ROWS) return tf.matMul(dyT, x) as tf.Tensor2D;
    let total: tf.Tensor2D | null = null;
    for (let start = 0; start < rows; start += WEIGHT_GRAD_ROWS) {
      const size = Math.min(WEIGHT_GRAD_ROWS, rows - start);
      const part = tf.matMul(tf.slice(dyT, [0, start], [-1, size]), tf.slice(x, [start, 0], [size, -1]));
      total = total ? (tf.add(total, part) as tf.Tensor2D) : (part as tf.Tensor2D);
    }
    return total!;
  });
}

const pointwiseMatMul = tf.customGrad(((flat: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D, save: tf.GradSaveFunc) => {
  // Saved tensors outlive the caller's tidy until the gradient is taken.
  save([flat, weight]);
  const value = tf.add(tf.matMul(flat, weight), bias) as tf.Tensor2D;
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [x, w] = saved as [tf.Tensor2D, tf.Tensor2D];
    const dy2 = dy as tf.Tensor2D;
    return [tf.matMul(dy2, tf.transpose(w)), tf.transpose(weightGradient(x, dy2)), tf.sum(dy2, 0)];
  };
  return { value, gradFunc };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (flat: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D;

/** Largest im2col block (floats) built at once for the filter gradient; bigger batches are chunked. */
const IM2COL_BLOCK = 1 << 25;

/**
 * A [3, 3, C, 9] depthwise filter whose output channel c·9 + k copies input
 * channel c shifted by kernel tap k: a depthwise conv with it is im2col.
 */
function im2colFilter(channels: number): tf.Tensor4D {
  const values = new Float32Array(9 * channels * 9);
  for (let k = 0; k < 9; k++) for (let c = 0; c < channels; c++) values[(k * channels + c) * 9 + k] = 1;
  return tf.tensor4d(values, [3, 3, channels, 9]);
}

/**
 * ∂L/∂W of a 3×3 'same' stride-1 convolution from its input x [N,H,W,C] and
 * output gradient dy [N,H,W,O]: im2col (a depthwise conv with one-hot
 * filters) times dy, chunked over the batch to bound memory → [3, 3, C, O].
 */
export function conv3x3FilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, blockFloats = IM2COL_BLOCK): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const out = dy.shape[3];
    const filter = im2colFilter(c);
    const chunk = Math.max(1, Math.floor(blockFloats / (h * w * c * 9)));
    let sum: tf.Tensor2D | null = null;
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const part: tf.Tensor2D = tf.tidy(() => {
        const xs = size === n ? x : tf.slice(x, [start, 0, 0, 0], [size, h, w, c]);
        const dys = size === n ? dy : tf.slice(dy, [start, 0, 0, 0], [size, h, w, out]);
        const cols = tf.reshape(tf.depthwiseConv2d(xs, filter, 1, 'same'), [size * h * w, c * 9]) as tf.Tensor2D;
        return tf.matMul(cols, tf.reshape(dys, [size * h * w, out]) as tf.Tensor2D, true, false);
      });
      if (sum) {
        const next = tf.add(sum, part) as tf.Tensor2D;
        tf.dispose([sum, part]);
        sum = next;
      } else sum = part;
    }
    // Rows are ordered (c, ky, kx): bring them to the conv filter layout [ky, kx, c, o].
    return tf.transpose(tf.reshape(sum!, [c, 3, 3, out]), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * 3×3 'same' convolution, stride 1. On the cpu backend its filter gradient is
 * conv3x3FilterGradient instead of the Conv2DBackpropFilter kernel, which goes
 * element by element and is ~40× slower. The forward pass and the input
 * gradient are the ordinary unfused conv ops.
 */
export function conv3x3Same(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  // Elsewhere the backend's own filter gradient is faster (wasm: the engine's
  // XNNPACK-backed kernel, 1.4 s vs 3.5 s per step in a MobileNet-feature benchmark).
  if (tf.getBackend() !== 'cpu') return tf.conv2d(x, filter, 1, 'same');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor4D;
    const weights = args[1] as tf.Tensor4D;
    const save = args[2] as tf.GradSaveFunc;
    save([input, weights]);
    return {
      value: tf.conv2d(input, weights, 1, 'same'),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const grad = dy as tf.Tensor4D;
        return [tf.conv2dTranspose(grad, ws, xs.shape, 1, 'same'), conv3x3FilterGradient(xs, grad)];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}
