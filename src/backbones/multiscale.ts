import * as tf from '@tensorflow/tfjs';

/**
 * The multi-scale feature map of METHOD §2: the stride-16 and stride-32 taps
 * resized bilinearly to the stride-8 grid and concatenated on channels
 * (ResNet-18: 128 + 256 + 512 = 896 channels, 32×32 at 256² input).
 *
 * Resizing is PyTorch's F.interpolate(mode='bilinear', align_corners=False).
 * tfjs's resizeBilinear(alignCorners=false, halfPixelCenters=true) computes the
 * same forward values, but its gradient kernel (ResizeBilinearGrad, cpu and wasm,
 * tfjs 4.22) ignores halfPixelCenters and back-propagates through a different
 * resize. The localization needs ∂/∂layer4 through this map, so the gradient
 * here is our own: the adjoint of the interpolation matrices.
 */

/**
 * Row-major [outSize, inSize] weights of PyTorch's bilinear align_corners=False
 * along one axis: source coordinate (o + 0.5)·in/out − 0.5, clamped at 0 below
 * and at the last cell above. Each row sums to 1.
 */
export function bilinearResizeMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const frac = src - i0;
    m[o * inSize + i0] += 1 - frac;
    m[o * inSize + i1] += frac;
  }
  return m;
}

/**
 * The adjoint of the resize [h, w] → [outH, outW] applied to `dy` ([n, outH, outW, c]):
 * the transposed interpolation matrix along H, then along W. Returns [n, h, w, c].
 */
function bilinearResizeAdjoint(dy: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [n, outH, outW, c] = dy.shape;
  return tf.tidy(() => {
    const ry = tf.tensor2d(bilinearResizeMatrix(h, outH), [outH, h]);
    const rx = tf.tensor2d(bilinearResizeMatrix(w, outW), [outW, w]);
    // Contract outH on [outH, n·outW·c], then outW on [outW, n·h·c]; transposes bring each axis first.
    const rows = tf.matMul(ry, tf.reshape(tf.transpose(dy, [1, 0, 2, 3]), [outH, n * outW * c]), true);
    const byColumn = tf.transpose(tf.reshape(rows, [h, n, outW, c]), [2, 1, 0, 3]);
    const cols = tf.matMul(rx, tf.reshape(byColumn, [outW, n * h * c]), true);
    return tf.transpose(tf.reshape(cols, [w, n, h, c]), [1, 2, 0, 3]);
  });
}

/**
 * Bilinear resize of NHWC features with PyTorch align_corners=False semantics.
 * Forward: the backend's resize kernel (fast). Gradient: the exact adjoint
 * (transposed interpolation matrices), not tfjs's ResizeBilinearGrad.
 */
export function resizeBilinearTorch(x: tf.Tensor4D, size: readonly [number, number]): tf.Tensor4D {
  const [, h, w] = x.shape;
  const [outH, outW] = size;
  if (h === outH && w === outW) return tf.clone(x);
  const resize = tf.customGrad<tf.Tensor4D>((...inputs) => ({
    value: tf.image.resizeBilinear(inputs[0] as tf.Tensor4D, [outH, outW], false, true),
    gradFunc: (dy) => bilinearResizeAdjoint(dy, h, w),
  }));
  return resize(x);
}

/** Concatenate the three taps on the stride-8 grid. The caller owns the result; the taps are not disposed. */
export function multiScaleFeatures(taps: readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]): tf.Tensor4D {
  const [t8, t16, t32] = taps;
  if (t8.shape[0] !== t16.shape[0] || t8.shape[0] !== t32.shape[0]) {
    throw new Error(`multiScaleFeatures: taps have different batch sizes (${t8.shape[0]}, ${t16.shape[0]}, ${t32.shape[0]})`);
  }
  const size: [number, number] = [t8.shape[1], t8.shape[2]];
  return tf.tidy(() => tf.concat([t8, resizeBilinearTorch(t16, size), resizeBilinearTorch(t32, size)], 3));
}

/** Channels of the multi-scale map for a backbone's taps (896 for ResNet-18). */
export function multiScaleChannels(tapChannels: readonly [number, number, number]): number {
  return tapChannels[0] + tapChannels[1] + tapChannels[2];
}
