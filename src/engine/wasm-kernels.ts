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
 *   not zero-dilated (that wastes s² of the work on zeros): output row i = s·m + a
 *   ("phase" a) only receives the filter taps k ≡ a + pad (mod s). All s×s phases
 *   run as ONE convolution whose output channels are the phases (each phase's
 *   taps placed in a common window), then depthToSpace interleaves them. The
 *   merged filter is built in JavaScript: gather/reverse on wasm cost ~25 ns a value.
 * - filter gradient: a convolution over transposed tensors. Batch becomes the
 *   channel axis: x → [C_in, H, W, N] is the input, dy → [H_out, W_out, N, C_out]
 *   is the filter, with dilation = the forward stride; the result is
 *   [C_in, kh, kw, C_out]. No im2col buffer, no transposed matMul (slow on wasm).
 *   (Measured alternatives: im2col + matMul was 1.5× slower at 256², row-band
 *   chunking 1.4–5× slower, batch-folded bands no faster.)
 * - depthwise: the same two ideas with depthwiseConv2d (batch folded into
 *   channels for the filter gradient).
 * - Sum/Mean over all axes but the last and broadcast-only Tile get fast paths in
 *   front of the stock kernels (bias and batch-norm gradients lean on them).
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

/**
 * All phases of one axis as a single correlation: each phase's taps are placed at
 * an offset inside a common window, so one convolution computes every phase at
 * once (phases become output channels, interleaved afterwards by depthToSpace).
 * Taps missing from a phase's window are zeros: for a 3×3 stride-2 filter the
 * window is 2 taps (16 instead of the minimal 9 per output pixel, against 36 for
 * a zero-dilated output gradient).
 */
export interface MergedAxis {
  /** Taps in the common window and their spacing. */
  span: number;
  dilation: number;
  /** Where each phase's first tap sits in the window (null: the phase gets no gradient). */
  phaseOffsets: (number | null)[];
  padBefore: number;
  padAfter: number;
  cropOffset: number;
}

export function mergePhases(plan: AxisPlan, outLength: number): MergedAxis {
  const live = plan.phases.filter((p): p is AxisPass => p !== null);
  if (live.length === 0) throw new Error('mergePhases: no phase receives a gradient');
  // The padding each phase wanted before clamping at 0.
  const wanted = plan.phases.map((p) => (p ? p.padBefore - p.cropOffset : 0));
  const common = Math.max(...plan.phases.flatMap((p, i) => (p ? [wanted[i]] : [])));
  const phaseOffsets = plan.phases.map((p, i) => (p ? common - wanted[i] : null));
  const span = Math.max(...plan.phases.flatMap((p, i) => (p ? [phaseOffsets[i]! + p.taps.length] : [])));
  const dilation = live[0].dilation;
  const reach = (span - 1) * dilation + 1;
  const padBefore = Math.max(0, common);
  const cropOffset = padBefore - common;
  const padAfter = Math.max(0, cropOffset + plan.rowsPerPhase + reach - 1 - outLength - padBefore);
  return { span, dilation, phaseOffsets, padBefore, padAfter, cropOffset };
}

/** For each filter tap along an axis: its phase and its index in the merged window. */
export function tapPlacement(plan: AxisPlan, merged: MergedAxis, filterSize: number): Array<{ phase: number; index: number } | null> {
  const placement: Array<{ phase: number; index: number } | null> = Array.from({ length: filterSize }, () => null);
  plan.phases.forEach((pass, phase) => {
    pass?.taps.forEach((tap, j) => {
      placement[tap] = { phase, index: merged.phaseOffsets[phase]! + j };
    });
  });
  return placement;
}

type PlacedAxes = { rows: { plan: AxisPlan; merged: MergedAxis }; cols: { plan: AxisPlan; merged: MergedAxis } };

/**
 * Visit every forward-filter tap (ty, tx) that lands in the merged filter, with
 * its merged phase (a·phasesW + b) and its flat merged tap index (row·spanW + col).
 */
function forEachPlacedTap(
  kh: number,
  kw: number,
  { rows, cols }: PlacedAxes,
  visit: (ty: number, tx: number, phase: number, mergedTap: number) => void,
): void {
  const phasesW = cols.plan.phases.length;
  const rowAt = tapPlacement(rows.plan, rows.merged, kh);
  const colAt = tapPlacement(cols.plan, cols.merged, kw);
  for (let ty = 0; ty < kh; ty++) {
    const r = rowAt[ty];
    if (!r) continue;
    for (let tx = 0; tx < kw; tx++) {
      const c = colAt[tx];
      if (!c) continue;
      visit(ty, tx, r.phase * phasesW + c.phase, r.index * cols.merged.span + c.index);
    }
  }
}

/**
 * The merged filter of a conv2d input gradient, from the forward filter
 * [kh, kw, C_in, C_out] (flat, row-major): [spanH, spanW, C_out, phasesH·phasesW·C_in],
 * output channel (a·phasesW + b)·C_in + c holding phase (a, b), input channel c.
 */
export function subPixelConvFilter(
  values: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  rows: { plan: AxisPlan; merged: MergedAxis },
  cols: { plan: AxisPlan; merged: MergedAxis },
): { values: Float32Array; shape: [number, number, number, number] } {
  const [kh, kw, inC, outC] = shape;
  const phasesW = cols.plan.phases.length;
  const channels = rows.plan.phases.length * phasesW * inC;
  const spanH = rows.merged.span;
  const spanW = cols.merged.span;
  const out = new Float32Array(spanH * spanW * outC * channels);
  forEachPlacedTap(kh, kw, { rows, cols }, (ty, tx, phase, mergedTap) => {
    const channelBase = phase * inC;
    const dstTap = mergedTap * outC;
    const srcTap = (ty * kw + tx) * inC;
    for (let i = 0; i < inC; i++) {
      const src = (srcTap + i) * outC;
      for (let o = 0; o < outC; o++) out[(dstTap + o) * channels + channelBase + i] = values[src + o];
    }
  });
  return { values: out, shape: [spanH, spanW, outC, channels] };
}

/**
 * The merged depthwise filter for forward-filter column j (multiplier index) of
 * [kh, kw, C, multiplier]: [spanH, spanW, C, phasesH·phasesW], channel c·P + p.
 */
export function subPixelDepthwiseFilter(
  values: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  column: number,
  rows: { plan: AxisPlan; merged: MergedAxis },
  cols: { plan: AxisPlan; merged: MergedAxis },
): { values: Float32Array; shape: [number, number, number, number] } {
  const [kh, kw, channels, multiplier] = shape;
  const phasesW = cols.plan.phases.length;
  const phases = rows.plan.phases.length * phasesW;
  const spanH = rows.merged.span;
  const spanW = cols.merged.span;
  const out = new Float32Array(spanH * spanW * channels * phases);
  forEachPlacedTap(kh, kw, { rows, cols }, (ty, tx, phase, mergedTap) => {
    const dstTap = mergedTap * channels;
    const srcTap = (ty * kw + tx) * channels;
    for (let ch = 0; ch < channels; ch++) {
      out[(dstTap + ch) * phases + phase] = values[(srcTap + ch) * multiplier + column];
    }
  });
  return { values: out, shape: [spanH, spanW, channels, phases] };
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

/**
 * [N, M, M', phasesH·phasesW·C] with channels ordered (a, b, c) → [N, M·phasesH, M'·phasesW, C],
 * row i = phasesH·m + a. depthToSpace when the phases are square (the usual case).
 */
function interleavePhases(t: tf.Tensor4D, phasesH: number, phasesW: number): tf.Tensor4D {
  if (phasesH === 1 && phasesW === 1) return t;
  if (phasesH === phasesW) return tf.depthToSpace(t, phasesH);
  const [n, m, m2, channels] = t.shape;
  const c = channels / (phasesH * phasesW);
  const split = tf.reshape(t, [n, m, m2, phasesH, phasesW, c]);
  return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4, 5]), [n, m * phasesH, m2 * phasesW, c]);
}

function mergedPadding(rows: MergedAxis, cols: MergedAxis): ExplicitPadding {
  return [
    [0, 0],
    [rows.padBefore, rows.padAfter],
    [cols.padBefore, cols.padAfter],
    [0, 0],
  ];
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
export function conv2dBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: ConvBackpropAttrs): tf.Tensor4D {
  requireChannelsLast('Conv2DBackpropInput', attrs.dataFormat);
  const inShape = attrs.inputShape!;
  const [batch, inHeight, inWidth] = inShape;
  const g = convGeometry(inShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  const [kh, kw] = filter.shape;
  const rowPlan = backpropInputAxisPlan(inHeight, g.outHeight, kh, g.strides[0], 1, g.padTop);
  const colPlan = backpropInputAxisPlan(inWidth, g.outWidth, kw, g.strides[1], 1, g.padLeft);
  const rows = { plan: rowPlan, merged: mergePhases(rowPlan, g.outHeight) };
  const cols = { plan: colPlan, merged: mergePhases(colPlan, g.outWidth) };
  // The filter is rearranged in JavaScript (a gather/reverse on wasm costs ~25 ns per value).
  const merged = subPixelConvFilter(filter.dataSync(), filter.shape, rows, cols);
  return tf.tidy(() => {
    const w = tf.tensor4d(merged.values, merged.shape);
    const phases = tf.conv2d(dy, w, 1, mergedPadding(rows.merged, cols.merged), 'NHWC', 1);
    const kept = cropSpatial(phases, rows.merged.cropOffset, rowPlan.rowsPerPhase, cols.merged.cropOffset, colPlan.rowsPerPhase);
    const dx = interleavePhases(kept, rowPlan.phases.length, colPlan.phases.length);
    return tf.reshape(cropSpatial(dx, 0, inHeight, 0, inWidth), [batch, inHeight, inWidth, inShape[3]]) as tf.Tensor4D;
  });
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
  const [batch, inHeight, inWidth, channels] = inShape;
  const g = convGeometry(inShape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
  const [kh, kw, , multiplier] = filter.shape;
  const rowPlan = backpropInputAxisPlan(inHeight, g.outHeight, kh, g.strides[0], g.dilations[0], g.padTop);
  const colPlan = backpropInputAxisPlan(inWidth, g.outWidth, kw, g.strides[1], g.dilations[1], g.padLeft);
  const rows = { plan: rowPlan, merged: mergePhases(rowPlan, g.outHeight) };
  const cols = { plan: colPlan, merged: mergePhases(colPlan, g.outWidth) };
  const phasesH = rowPlan.phases.length;
  const phasesW = colPlan.phases.length;
  const phases = phasesH * phasesW;
  const values = filter.dataSync();
  const pad = mergedPadding(rows.merged, cols.merged);
  const dilations: Pair = [rows.merged.dilation, cols.merged.dilation];
  return tf.tidy(() => {
    const [n, ho, wo] = dy.shape;
    // Output channel c*m + j comes from input channel c and filter column j: one pass per j.
    const perColumn =
      multiplier === 1
        ? [dy]
        : (tf.unstack(tf.transpose(tf.reshape(dy, [n, ho, wo, channels, multiplier]), [4, 0, 1, 2, 3])) as tf.Tensor4D[]);
    const parts = perColumn.map((d, j) => {
      const merged = subPixelDepthwiseFilter(values, filter.shape, j, rows, cols);
      const w = tf.tensor4d(merged.values, merged.shape);
      const out = tf.depthwiseConv2d(d, w, 1, pad, 'NHWC', dilations); // channels (c, phase)
      let kept = cropSpatial(out, rows.merged.cropOffset, rowPlan.rowsPerPhase, cols.merged.cropOffset, colPlan.rowsPerPhase);
      if (phases > 1) {
        // (c, phase) → (phase, c), the order depthToSpace expects.
        const [, m, m2] = kept.shape;
        const swapped = tf.transpose(tf.reshape(kept, [n * m * m2, channels, phases]), [0, 2, 1]);
        kept = tf.reshape(swapped, [n, m, m2, phases * channels]);
      }
      return cropSpatial(interleavePhases(kept, phasesH, phasesW), 0, inHeight, 0, inWidth);
    });
    const dx = parts.length === 1 ? parts[0] : (tf.addN(parts) as tf.Tensor4D);
    return tf.reshape(dx, [batch, inHeight, inWidth, channels]) as tf.Tensor4D;
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

// ---------------------------------------------------------------------------
// Reductions and broadcasts that training leans on
// ---------------------------------------------------------------------------

/**
 * Fast paths in front of stock wasm kernels; anything else goes to the stock
 * kernel. Per-channel statistics and bias/BN gradients reduce [N, H, W, C] over
 * N, H, W: the stock Sum/Mean transpose first (~130 ms for 8×256×256×64),
 * average pooling over the plane does it in one pass (~12 ms, and it rounds less). tfjs's batch-norm gradient
 * tiles a [1, 1, 1, C] tensor to the full shape: the stock Tile copies one
 * element at a time (~1.4 s at that size), a broadcasting add takes ~40 ms.
 */
type StockKernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** Reducing over every axis but the last (per-channel statistics) of a large float32 tensor. */
function isLeadingAxesReduction(x: tf.Tensor, axes: number[]): boolean {
  const rank = x.rank;
  const sorted = axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  const leading = sorted.length === rank - 1 && sorted.every((a, i) => a === i);
  return leading && rank >= 2 && x.dtype === 'float32' && x.size >= 1 << 16;
}

function reduceOutShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  const rank = shape.length;
  const reduced = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  return keepDims ? shape.map((d, i) => (reduced.has(i) ? 1 : d)) : shape.filter((_, i) => !reduced.has(i));
}

function reductionKernel(kind: 'Sum' | 'Mean', stock: StockKernel): tf.KernelFunc {
  const run = (args: KernelArgs) => {
    const x = asTensor<tf.Tensor>(args.inputs.x!);
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = Array.isArray(axis) ? axis : [axis];
    if (!isLeadingAxesReduction(x, axes)) return stock(args);
    return tf.tidy(() => {
      const channels = x.shape[x.rank - 1];
      const rows = x.size / channels;
      // Average pooling over the whole plane: one pass, no transpose, no packed copy
      // of x (a ones-vector matMul would keep one alive as long as x lives).
      const planes = x.rank === 4 ? x.shape[0] : 1;
      const [h, w]: [number, number] = x.rank === 4 ? [x.shape[1]!, x.shape[2]!] : [rows, 1];
      const pooled = tf.avgPool(tf.reshape(x, [planes, h, w, channels]) as tf.Tensor4D, [h, w], 1, 'valid');
      const perPlane = tf.reshape(pooled, [planes, channels]);
      const mean = planes === 1 ? perPlane : tf.mean(perPlane, 0);
      const value = kind === 'Sum' ? tf.mul(mean, rows) : mean;
      return tf.reshape(value, reduceOutShape(x.shape, axes, keepDims));
    });
  };
  return run as unknown as tf.KernelFunc;
}

function tileKernel(stock: StockKernel): tf.KernelFunc {
  const run = (args: KernelArgs) => {
    const x = asTensor<tf.Tensor>(args.inputs.x!);
    const { reps } = args.attrs as unknown as { reps: number[] };
    // A pure broadcast: every repeated axis has size 1 in x.
    const broadcast = x.dtype === 'float32' && reps.every((r, i) => r === 1 || x.shape[i] === 1);
    if (!broadcast) return stock(args);
    const outShape = x.shape.map((d, i) => d * reps[i]);
    return tf.tidy(() => tf.add(x, tf.zeros(outShape)));
  };
  return run as unknown as tf.KernelFunc;
}

/** Wrap a stock kernel, keeping its setupFunc (it binds the wasm function the stock path calls). */
function wrapStock(
  kernelName: string,
  wrap: (stock: StockKernel) => tf.KernelFunc,
): tf.KernelConfig | null {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock) return null;
  return { ...stock, kernelFunc: wrap(stock.kernelFunc as unknown as StockKernel) };
}

let registered = false;

/**
 * Register (or re-register) these kernels for the wasm backend. Imports the wasm
 * backend first, so its own registrations cannot overwrite ours later. Idempotent.
 */
export async function registerWasmKernels(): Promise<void> {
  if (registered) return;
  await import('@tensorflow/tfjs-backend-wasm');
  const wrapped = [
    wrapStock('Sum', (stock) => reductionKernel('Sum', stock)),
    wrapStock('Mean', (stock) => reductionKernel('Mean', stock)),
    wrapStock('Tile', tileKernel),
  ].filter((c): c is tf.KernelConfig => c !== null);
  for (const config of [...WASM_KERNEL_CONFIGS, ...wrapped]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
