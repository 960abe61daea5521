import * as tf from '@tensorflow/tfjs';

/**
 * Gradient kernels for the tfjs wasm backend (tfjs-backend-wasm 4.22).
 *
 * The stock backend has no Conv2DBackpropFilter (training any conv fails), no
 * depthwise backprop kernels (MobileNet input gradients fail), and its
 * Conv2DBackpropInput is a scalar loop ~10x slower than the forward conv. Every
 * kernel here is rewritten as forward convolutions, which the backend runs
 * through XNNPACK with SIMD:
 *
 * - input gradient: a stride-1 correlation of the output gradient with the
 *   180°-rotated, in/out-swapped filter. For stride s > 1 the output gradient is
 *   not zero-dilated (that wastes s² of the work on zeros): each of the s×s
 *   output phases gets its own sub-filter (the taps that land on it), and the
 *   phases are interleaved afterwards ("sub-pixel" decomposition).
 * - filter gradient: a convolution over transposed tensors. Batch becomes the
 *   channel axis: x → [C_in, H, W, N] is the input, dy → [H_out, W_out, N, C_out]
 *   is the filter, with dilation = the forward stride; the result is
 *   [C_in, kh, kw, C_out]. No im2col buffer, no transposed matMul (slow on wasm).
 *
 * Kernel functions call tf ops (which run on wasm) inside tf.tidy and return
 * the result tensor; the engine keeps it as the kernel's output.
 */

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
type PadAttr = 'same' | 'valid' | number | ExplicitPadding;
type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;
type Pair = [number, number];

// ---------------------------------------------------------------------------
// Geometry (pure functions, tested without tensors)
// ---------------------------------------------------------------------------

/** One stride-1 correlation along one spatial axis. */
export interface AxisPass {
  /** Filter tap indices in the order the correlation uses them (reversed taps of one phase). */
  taps: number[];
  /** Dilation of the correlation (the forward dilation; 1 when stride > 1). */
  dilation: number;
  /** Zero padding before/after the output gradient (both >= 0). */
  padBefore: number;
  padAfter: number;
  /** Leading rows of the correlation's result to drop (when the padding wanted was negative). */
  cropOffset: number;
}

/**
 * How the input gradient along one axis is computed: dx[s*m + a] = phases[a] row m.
 * A null phase gets no gradient (e.g. a 1×1 filter with stride 2 never touches odd rows).
 */
export interface AxisPlan {
  phases: (AxisPass | null)[];
  /** Rows kept per phase; phases × rowsPerPhase >= inLength, the excess is cropped. */
  rowsPerPhase: number;
}

/**
 * Plan the input gradient along one axis of a forward correlation
 * y[o] = sum_k x[o*stride + k*dilation - padBefore] * w[k].
 * Then dx[i] = sum over (o, k) with o*stride + k*dilation = i + padBefore of dy[o] w[k].
 */
export function backpropInputAxisPlan(
  inLength: number,
  outLength: number,
  filterSize: number,
  stride: number,
  dilation: number,
  padBefore: number,
): AxisPlan {
  if (stride > 1 && dilation > 1) {
    throw new Error(`backprop input: stride ${stride} with dilation ${dilation} is not supported (one must be 1)`);
  }
  const finish = (taps: number[], dil: number, wantedBefore: number, rows: number): AxisPass => {
    const span = (taps.length - 1) * dil + 1;
    const before = Math.max(0, wantedBefore);
    const cropOffset = before - wantedBefore;
    const after = Math.max(0, cropOffset + rows + span - 1 - outLength - before);
    return { taps, dilation: dil, padBefore: before, padAfter: after, cropOffset };
  };
  if (stride === 1) {
    const taps = Array.from({ length: filterSize }, (_, j) => filterSize - 1 - j);
    const span = (filterSize - 1) * dilation + 1;
    return { phases: [finish(taps, dilation, span - 1 - padBefore, inLength)], rowsPerPhase: inLength };
  }
  const rows = Math.ceil(inLength / stride);
  const phases: (AxisPass | null)[] = [];
  for (let a = 0; a < stride; a++) {
    // Rows i = stride*m + a receive taps k ≡ (a + padBefore) mod stride.
    const first = (a + padBefore) % stride;
    const shift = Math.floor((a + padBefore) / stride);
    const count = first < filterSize ? Math.ceil((filterSize - first) / stride) : 0;
    if (count === 0) {
      phases.push(null);
      continue;
    }
    // dx[stride*m + a] = sum_j dy[m + shift - j] * w[first + stride*j]; as a correlation
    // over j' = count-1-j it reads dy[m + shift - (count-1) + j'].
    const taps = Array.from({ length: count }, (_, j) => first + stride * (count - 1 - j));
    phases.push(finish(taps, 1, count - 1 - shift, rows));
  }
  return { phases, rowsPerPhase: rows };
}

/** Padding of x for the filter-gradient convolution along one axis. */
export interface FilterGradAxisPlan {
  padBefore: number;
  padAfter: number;
}

/**
 * dW[k] = sum_o x[o*stride + k*dilation - padBefore] * dy[o] is a correlation of the
 * padded x with dy (dilated by stride), sampled every `dilation`. Pads x so that at
 * least filterSize results exist; extra results are cropped.
 */
export function backpropFilterAxisPlan(
  inLength: number,
  outLength: number,
  filterSize: number,
  stride: number,
  dilation: number,
  padBefore: number,
): FilterGradAxisPlan {
  const needed = (filterSize - 1) * dilation + (outLength - 1) * stride + 1;
  return { padBefore, padAfter: Math.max(0, needed - inLength - padBefore) };
}

// ---------------------------------------------------------------------------
// Tensor helpers
// ---------------------------------------------------------------------------

/** Kernel inputs arrive as tensors from ops; wrap a bare TensorInfo just in case. */
function asTensor<T extends tf.Tensor>(info: tf.TensorInfo): T {
  if (info instanceof tf.Tensor) return info as T;
  return tf.engine().makeTensorFromDataId(info.dataId, info.shape, info.dtype) as T;
}

/**
 * Crop [N, H, W, C] to rows [top, top+height) and columns [left, left+width).
 * Done as two slices over reshaped views with long contiguous runs: the wasm
 * Slice kernel copies one innermost run at a time in JavaScript.
 */
function cropSpatial(t: tf.Tensor4D, top: number, height: number, left: number, width: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  let out: tf.Tensor4D = t;
  if (top !== 0 || height !== h) {
    out = tf.reshape(tf.slice(tf.reshape(out, [n, h, w * c]), [0, top, 0], [n, height, w * c]), [n, height, w, c]);
  }
  if (left !== 0 || width !== w) {
    const rows = n * height;
    out = tf.reshape(tf.slice(tf.reshape(out, [rows, w * c]), [0, left * c], [rows, width * c]), [n, height, width, c]);
  }
  return out;
}

/** Select filter taps along axes 0 and 1 (no-op when the taps are 0..k-1 in order). */
function selectTaps(filter: tf.Tensor4D, rowTaps: number[], colTaps: number[]): tf.Tensor4D {
  const identity = (taps: number[], size: number) => taps.length === size && taps.every((t, i) => t === i);
  let out = filter;
  if (!identity(rowTaps, filter.shape[0])) out = tf.gather(out, tf.tensor1d(rowTaps, 'int32'), 0);
  if (!identity(colTaps, filter.shape[1])) out = tf.gather(out, tf.tensor1d(colTaps, 'int32'), 1);
  return out;
}

/**
 * Rearranged filters (rotated, in/out-swapped, one per stride phase), cached per
 * source filter. Backbone weights are constant while gradient maps are computed
 * image after image, and the rearrangement costs tens of ms for a 512×512 3×3
 * filter on wasm. The values are kept as plain arrays in a WeakMap keyed by the
 * source's dataId (immutable in tfjs: a variable gets a new one on assign), so an
 * entry dies with its source and the cache never shows up in tf.memory().
 */
export class DerivedFilterCache {
  private readonly byDataId = new WeakMap<object, Map<string, { values: Float32Array; shape: number[] }>>();

  /** The derived filter of `source` under `key`; a new tensor the caller owns (or disposes via tidy). */
  get<T extends tf.Tensor>(source: tf.Tensor, key: string, make: () => T): T {
    const dataId = source.dataId as object;
    let byKey = this.byDataId.get(dataId);
    const hit = byKey?.get(key);
    if (hit) return tf.tensor(hit.values, hit.shape, 'float32') as T;
    const made = make();
    if (!byKey) this.byDataId.set(dataId, (byKey = new Map()));
    byKey.set(key, { values: made.dataSync() as Float32Array, shape: made.shape.slice() });
    return made;
  }
}

/** The cache the registered kernels use (exported for tests and memory checks). */
export const derivedFilters = new DerivedFilterCache();

/**
 * Input gradient of a (depthwise) convolution, as stride-1 correlations of dy.
 * `phaseFilter(rowTaps, colTaps)` gives the filter of one phase and
 * `correlate(dy, filter, pads, dilations)` is conv2d (filter [kh, kw, C_out, C_in])
 * or depthwiseConv2d (filter [kh, kw, C, 1]).
 */
function backpropInputByPhases(
  dy: tf.Tensor4D,
  phaseFilter: (rowTaps: number[], colTaps: number[]) => tf.Tensor4D,
  inShape: [number, number, number, number],
  rowPlan: AxisPlan,
  colPlan: AxisPlan,
  correlate: (dy: tf.Tensor4D, filter: tf.Tensor4D, pad: ExplicitPadding, dilations: Pair) => tf.Tensor4D,
): tf.Tensor4D {
  const [batch, inHeight, inWidth, inChannels] = inShape;
  const rows = rowPlan.rowsPerPhase;
  const cols = colPlan.rowsPerPhase;
  const phaseOutputs: tf.Tensor4D[] = [];
  for (const rowPass of rowPlan.phases) {
    for (const colPass of colPlan.phases) {
      if (!rowPass || !colPass) {
        phaseOutputs.push(tf.zeros([batch, rows, cols, inChannels]));
        continue;
      }
      const taps = phaseFilter(rowPass.taps, colPass.taps);
      const pad: ExplicitPadding = [
        [0, 0],
        [rowPass.padBefore, rowPass.padAfter],
        [colPass.padBefore, colPass.padAfter],
        [0, 0],
      ];
      const full = correlate(dy, taps, pad, [rowPass.dilation, colPass.dilation]);
      phaseOutputs.push(cropSpatial(full, rowPass.cropOffset, rows, colPass.cropOffset, cols));
    }
  }
  const sRows = rowPlan.phases.length;
  const sCols = colPlan.phases.length;
  let dx: tf.Tensor4D;
  if (phaseOutputs.length === 1) {
    dx = phaseOutputs[0];
  } else {
    // [sRows, sCols, N, rows, cols, C] → [N, rows, sRows, cols, sCols, C]: row i = sRows*m + a.
    const stacked = tf.reshape(tf.stack(phaseOutputs), [sRows, sCols, batch, rows, cols, inChannels]);
    dx = tf.reshape(tf.transpose(stacked, [2, 3, 0, 4, 1, 5]), [batch, rows * sRows, cols * sCols, inChannels]);
  }
  return cropSpatial(dx, 0, inHeight, 0, inWidth);
}

interface ConvGeometry {
  strides: Pair;
  dilations: Pair;
  padTop: number;
  padLeft: number;
  outHeight: number;
  outWidth: number;
}

function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | Pair,
  dilations: number | Pair,
  pad: PadAttr,
  roundingMode: RoundingMode,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, roundingMode, depthwise);
  return {
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
  };
}

function requireChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm supports dataFormat NHWC only (got ${dataFormat})`);
  }
}

// ---------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

interface ConvBackpropAttrs {
  strides: number | Pair;
  pad: PadAttr;
  dataFormat?: string;
  dimRoundingMode?: RoundingMode;
  dilations?: number | Pair;
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

/** dx of conv2d: inputs {dy, filter [kh, kw, C_in, C_out]}, attrs.inputShape. */
export function conv2dBackpropInput(dy4: tf.Tensor4D, filter: tf.Tensor4D, attrs: ConvBackpropAttrs): tf.Tensor4D {
  requireChannelsLast('Conv2DBackpropInput', attrs.dataFormat);
  const inShape = attrs.inputShape!;
  const g = convGeometry(inShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  const [kh, kw] = filter.shape;
  const rowPlan = backpropInputAxisPlan(inShape[1], g.outHeight, kh, g.strides[0], 1, g.padTop);
  const colPlan = backpropInputAxisPlan(inShape[2], g.outWidth, kw, g.strides[1], 1, g.padLeft);
  // [kh, kw, C_in, C_out] → taps of [kh, kw, C_out, C_in]: correlate dy (C_out channels) back to C_in.
  const phaseFilter = (rowTaps: number[], colTaps: number[]) =>
    derivedFilters.get(filter, `conv:${rowTaps}/${colTaps}`, () =>
      tf.tidy(() => selectTaps(tf.transpose(filter, [0, 1, 3, 2]) as tf.Tensor4D, rowTaps, colTaps)),
    );
  return tf.tidy(() =>
    backpropInputByPhases(dy4, phaseFilter, inShape, rowPlan, colPlan, (d, w, pad, dil) =>
      tf.conv2d(d, w, 1, pad, 'NHWC', dil),
    ),
  );
}

/** dW of conv2d: inputs {x, dy}, attrs.filterShape. */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: ConvBackpropAttrs): tf.Tensor4D {
  requireChannelsLast('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = attrs.filterShape!;
  const g = convGeometry(x.shape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  const [kh, kw, inChannels, outChannels] = filterShape;
  const rowPlan = backpropFilterAxisPlan(x.shape[1], g.outHeight, kh, g.strides[0], 1, g.padTop);
  const colPlan = backpropFilterAxisPlan(x.shape[2], g.outWidth, kw, g.strides[1], 1, g.padLeft);
  return tf.tidy(() => {
    const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [C_in, H, W, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H_out, W_out, N, C_out]
    const pad: ExplicitPadding = [
      [0, 0],
      [rowPlan.padBefore, rowPlan.padAfter],
      [colPlan.padBefore, colPlan.padAfter],
      [0, 0],
    ];
    const full = tf.conv2d(xT, dyT, 1, pad, 'NHWC', g.strides); // [C_in, >=kh, >=kw, C_out]
    const cropped = cropSpatial(full, 0, kh, 0, kw);
    const dW = tf.transpose(cropped, [1, 2, 0, 3]) as tf.Tensor4D;
    return tf.reshape(dW, [kh, kw, inChannels, outChannels]);
  });
}

/** dx of depthwiseConv2d: filter [kh, kw, C, multiplier], dy [N, Ho, Wo, C*multiplier]. */
export function depthwiseBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: ConvBackpropAttrs): tf.Tensor4D {
  const inShape = attrs.inputShape!;
  const g = convGeometry(inShape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
  const [kh, kw, channels, multiplier] = filter.shape;
  const rowPlan = backpropInputAxisPlan(inShape[1], g.outHeight, kh, g.strides[0], g.dilations[0], g.padTop);
  const colPlan = backpropInputAxisPlan(inShape[2], g.outWidth, kw, g.strides[1], g.dilations[1], g.padLeft);
  const correlate = (d: tf.Tensor4D, w: tf.Tensor4D, pad: ExplicitPadding, dil: Pair) =>
    tf.depthwiseConv2d(d, w, 1, pad, 'NHWC', dil);
  // Filter column j of [kh, kw, C, multiplier], as a [kh, kw, C, 1] depthwise filter.
  const phaseFilter = (j: number) => (rowTaps: number[], colTaps: number[]) =>
    derivedFilters.get(filter, `depthwise:${j}:${rowTaps}/${colTaps}`, () =>
      tf.tidy(() => {
        const column = multiplier === 1 ? filter : (tf.slice(filter, [0, 0, 0, j], [kh, kw, channels, 1]) as tf.Tensor4D);
        return selectTaps(column, rowTaps, colTaps);
      }),
    );
  return tf.tidy(() => {
    if (multiplier === 1) return backpropInputByPhases(dy, phaseFilter(0), inShape, rowPlan, colPlan, correlate);
    // Output channel c*m + j comes from input channel c and filter column j: one pass per j.
    const [n, ho, wo] = dy.shape;
    const perMultiplier = tf.unstack(tf.transpose(tf.reshape(dy, [n, ho, wo, channels, multiplier]), [4, 0, 1, 2, 3]));
    const parts = perMultiplier.map((d, j) =>
      backpropInputByPhases(d as tf.Tensor4D, phaseFilter(j), inShape, rowPlan, colPlan, correlate),
    );
    return tf.addN(parts) as tf.Tensor4D;
  });
}

/** dW of depthwiseConv2d: x [N, H, W, C], dy [N, Ho, Wo, C*multiplier] → [kh, kw, C, multiplier]. */
export function depthwiseBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: ConvBackpropAttrs): tf.Tensor4D {
  const filterShape = attrs.filterShape!;
  const g = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
  const [kh, kw, channels, multiplier] = filterShape;
  const [batch, height, width] = x.shape;
  const rowPlan = backpropFilterAxisPlan(height, g.outHeight, kh, g.strides[0], g.dilations[0], g.padTop);
  const colPlan = backpropFilterAxisPlan(width, g.outWidth, kw, g.strides[1], g.dilations[1], g.padLeft);
  const pad: ExplicitPadding = [
    [0, 0],
    [rowPlan.padBefore, rowPlan.padAfter],
    [colPlan.padBefore, colPlan.padAfter],
    [0, 0],
  ];
  return tf.tidy(() => {
    // Batch folded into channels: x → [1, H, W, N*C], dy → a depthwise filter [Ho, Wo, N*C, 1].
    // The forward dilation becomes the stride and the forward stride the dilation.
    const xFolded = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, height, width, batch * channels]) as tf.Tensor4D;
    const [, ho, wo] = dy.shape;
    const dyPerMultiplier =
      multiplier === 1
        ? [dy]
        : tf.unstack(tf.transpose(tf.reshape(dy, [batch, ho, wo, channels, multiplier]), [4, 0, 1, 2, 3]));
    const columns = dyPerMultiplier.map((d) => {
      const dyFilter = tf.reshape(tf.transpose(d, [1, 2, 0, 3]), [ho, wo, batch * channels, 1]) as tf.Tensor4D;
      const full = tf.depthwiseConv2d(xFolded, dyFilter, g.dilations, pad, 'NHWC', g.strides);
      const cropped = cropSpatial(full, 0, kh, 0, kw); // [1, kh, kw, N*C]
      return tf.sum(tf.reshape(cropped, [kh, kw, batch, channels]), 2); // [kh, kw, C]
    });
    return tf.stack(columns, 3) as tf.Tensor4D;
  });
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

function kernel(
  kernelName: string,
  run: (a: tf.Tensor4D, b: tf.Tensor4D, attrs: ConvBackpropAttrs) => tf.Tensor4D,
  inputNames: [string, string],
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }: KernelArgs) =>
      run(
        asTensor<tf.Tensor4D>(inputs[inputNames[0]]!),
        asTensor<tf.Tensor4D>(inputs[inputNames[1]]!),
        attrs as unknown as ConvBackpropAttrs,
      ),
  } as tf.KernelConfig;
}

export const WASM_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  kernel('Conv2DBackpropInput', conv2dBackpropInput, ['dy', 'filter']),
  kernel('Conv2DBackpropFilter', conv2dBackpropFilter, ['x', 'dy']),
  kernel('DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput, ['dy', 'filter']),
  kernel('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter, ['x', 'dy']),
];

let registered = false;

/**
 * Register (or re-register) these kernels for the wasm backend. Imports the wasm
 * backend first, so its own registrations cannot overwrite ours later. Idempotent.
 */
export async function registerWasmKernels(): Promise<void> {
  if (registered) return;
  await import('@tensorflow/tfjs-backend-wasm');
  for (const config of WASM_KERNEL_CONFIGS) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
