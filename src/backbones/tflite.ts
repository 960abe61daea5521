import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../util/errors.ts';
import {
  dequantizeTensor,
  parseTflite,
  type FusedActivation,
  type TfliteModel,
  type TfliteOperator,
  type TfliteSubgraph,
  type TfliteTensor,
} from './flatbuffer.ts';
import type { Backbone } from './types.ts';

/**
 * Runs a TFLite model as float tfjs ops: uint8/int8 weights are dequantized
 * once at load; activations stay float (their quantization is ignored, and
 * QUANTIZE/DEQUANTIZE are identities). Only the operators that the requested
 * outputs depend on are compiled and run.
 */

// ---------------------------------------------------------------------------
// Convolution and activation helpers shared with the tfjs-layers backbone.
// ---------------------------------------------------------------------------

export type Activation = 'linear' | 'relu' | 'relu6' | 'relu_n1_to_1' | 'tanh' | 'sigmoid';

export interface ConvParams {
  depthwise: boolean;
  /** [kh, kw, in, out], or [kh, kw, in, multiplier] when depthwise. */
  filter: tf.Tensor4D;
  bias: tf.Tensor1D | null;
  strides: [number, number];
  pad: 'same' | 'valid';
  dilations: [number, number];
  activation: Activation;
}

/** Activations the fused kernels implement. */
const FUSABLE = new Set<Activation>(['linear', 'relu', 'relu6', 'sigmoid']);

export function applyActivation(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'relu_n1_to_1':
      return tf.clipByValue(x, -1, 1);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
  }
}

/**
 * conv (+ bias + activation). Fused into one op unless `forGradient`: the fused
 * op's gradient always computes the filter gradient, wasted work when only the
 * gradient with respect to the input is wanted.
 */
export function applyConv(x: tf.Tensor4D, p: ConvParams, forGradient: boolean): tf.Tensor4D {
  if (!forGradient && FUSABLE.has(p.activation)) {
    const args = {
      x,
      filter: p.filter,
      strides: p.strides,
      pad: p.pad,
      dilations: p.dilations,
      bias: p.bias ?? undefined,
      activation: p.activation as 'linear' | 'relu' | 'relu6' | 'sigmoid',
    };
    return p.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
  }
  return tf.tidy(() => {
    let y = p.depthwise
      ? tf.depthwiseConv2d(x, p.filter, p.strides, p.pad, 'NHWC', p.dilations)
      : tf.conv2d(x, p.filter, p.strides, p.pad, 'NHWC', p.dilations);
    if (p.bias) y = tf.add(y, p.bias);
    return applyActivation(y, p.activation) as tf.Tensor4D;
  });
}

/** Turn a conv's constant weights into trainable variables (for --finetune); frees the constants. */
export function convToVariables(p: ConvParams): tf.Variable[] {
  if (!(p.filter instanceof tf.Variable)) {
    const old = p.filter;
    p.filter = tf.variable(old, true) as unknown as tf.Tensor4D;
    old.dispose();
  }
  if (p.bias && !(p.bias instanceof tf.Variable)) {
    const old = p.bias;
    p.bias = tf.variable(old, true) as unknown as tf.Tensor1D;
    old.dispose();
  }
  return [p.filter as unknown as tf.Variable, ...(p.bias ? [p.bias as unknown as tf.Variable] : [])];
}

/** sha256 of the weight bytes, first 16 hex digits (the same convention as resnet18). */
export function sha256Prefix(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex').slice(0, 16);
}

/** What a graph-based backbone needs beyond its tap runner. */
export interface GraphBackboneInfo {
  name: string;
  tapNames: [string, string, string];
  tapChannels: [number, number, number];
  tapStrides: [number, number, number];
  weightsId: string;
  warning?: string;
  /** [0,1] input is mapped linearly onto this range before the graph. */
  inputRange: [number, number];
}

export interface TapRunner {
  /** The taps for an already-normalised input (new tensors). */
  run(x: tf.Tensor4D, forGradient: boolean): tf.Tensor4D[];
  trainableVariables(): tf.Variable[];
  dispose(): void;
}

/** Wrap a tap runner as a Backbone: input checks, normalisation, tidy. */
export function graphBackbone(info: GraphBackboneInfo, runner: TapRunner): Backbone {
  const [lo, hi] = info.inputRange;
  let disposed = false;
  return {
    name: info.name,
    tapNames: info.tapNames,
    tapChannels: info.tapChannels,
    tapStrides: info.tapStrides,
    weightsId: info.weightsId,
    ...(info.warning ? { warning: info.warning } : {}),
    forward(input, opts = {}) {
      if (disposed) throw new Error(`${info.name}: forward() after dispose()`);
      if (input.rank !== 4 || input.shape[3] !== 3) {
        throw new Error(`${info.name}: input must be [N, H, W, 3] RGB in [0,1], got [${input.shape}]`);
      }
      return tf.tidy(() => {
        const x = lo === 0 && hi === 1 ? input : (tf.add(tf.mul(input, hi - lo), lo) as tf.Tensor4D);
        const taps = runner.run(x, opts.forGradient ?? false);
        return [taps[0], taps[1], taps[2]] as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      });
    },
    trainableVariables: () => runner.trainableVariables(),
    dispose() {
      if (!disposed) runner.dispose();
      disposed = true;
    },
  };
}

// ---------------------------------------------------------------------------
// The TFLite graph executor.
// ---------------------------------------------------------------------------

type CompiledOp = {
  /** Activation inputs (tensor indices), in the order `exec` takes them. */
  inputs: number[];
  output: number;
  exec(inputs: tf.Tensor[], forGradient: boolean): tf.Tensor;
  conv?: ConvParams;
  constants: tf.Tensor[];
};

function activationOf(a: FusedActivation, op: string): Activation {
  switch (a) {
    case 'none':
      return 'linear';
    case 'relu':
    case 'relu6':
    case 'relu_n1_to_1':
    case 'tanh':
      return a;
    default:
      throw new Error(`TFLite ${op}: fused activation "${a}" is not supported`);
  }
}

/** A parsed TFLite model whose operators run as tfjs ops. */
export class TfliteGraph {
  readonly subgraph: TfliteSubgraph;
  private readonly producer = new Map<number, number>();
  private readonly compiled = new Map<number, CompiledOp>();

  constructor(
    readonly model: TfliteModel,
    readonly weightsId: string,
  ) {
    if (model.subgraphs.length === 0) throw new Error('TFLite model has no subgraph');
    this.subgraph = model.subgraphs[0];
    this.subgraph.operators.forEach((op, i) => {
      for (const o of op.outputs) this.producer.set(o, i);
    });
  }

  static async fromFile(path: string): Promise<TfliteGraph> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new InputError(
        `cannot read TFLite model (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        path,
        'give the path of a .tflite file, or fetch one with `multicue weights fetch mobilenetv2`',
      );
    }
    let model: TfliteModel;
    try {
      model = parseTflite(bytes);
    } catch (err) {
      throw new InputError(`not a readable TFLite model (${(err as Error).message})`, path, 'the file is corrupt or not a .tflite model: fetch it again');
    }
    return new TfliteGraph(model, sha256Prefix(bytes));
  }

  get inputTensor(): TfliteTensor {
    return this.subgraph.tensors[this.subgraph.inputs[0]];
  }

  get outputTensors(): TfliteTensor[] {
    return this.subgraph.outputs.map((i) => this.subgraph.tensors[i]);
  }

  /**
   * The tensor called `name`: an exact match, or the tensor whose first
   * ';'-separated name is `name` (the MLIR converter joins fused op names).
   */
  findTensor(name: string): TfliteTensor {
    const tensors = this.subgraph.tensors;
    const exact = tensors.find((t) => t.name === name);
    if (exact) return exact;
    const byHead = tensors.filter((t) => t.name.split(';')[0] === name);
    if (byHead.length === 1) return byHead[0];
    const near = tensors.filter((t) => t.name.includes(name)).map((t) => t.name.split(';')[0]);
    throw new Error(
      `TFLite model has ${byHead.length > 1 ? 'several tensors' : 'no tensor'} named "${name}"` +
        (near.length ? `; similar: ${near.slice(0, 5).join(', ')}` : ''),
    );
  }

  /** Operator indices needed to compute `outputs`, in execution order. */
  plan(outputs: number[]): number[] {
    const needed = new Set<number>();
    const stack = [...outputs];
    while (stack.length) {
      const t = stack.pop()!;
      const opIndex = this.producer.get(t);
      if (opIndex === undefined || needed.has(opIndex)) continue;
      needed.add(opIndex);
      for (const i of this.subgraph.operators[opIndex].inputs) if (i >= 0) stack.push(i);
    }
    return [...needed].sort((a, b) => a - b);
  }

  private isConstant(index: number): boolean {
    const t = this.subgraph.tensors[index];
    return !this.producer.has(index) && (this.model.buffers[t.buffer]?.length ?? 0) > 0;
  }

  private constant(index: number): { tensor: TfliteTensor; values: Float32Array } {
    const tensor = this.subgraph.tensors[index];
    return { tensor, values: dequantizeTensor(this.model, tensor) };
  }

  /** Integer values of a constant (shapes, axes). */
  private intConstant(index: number): number[] {
    return Array.from(this.constant(index).values, (v) => Math.round(v));
  }

  private compile(opIndex: number): CompiledOp {
    const cached = this.compiled.get(opIndex);
    if (cached) return cached;
    const op = this.subgraph.operators[opIndex];
    const compiledOp = this.compileOp(op);
    this.compiled.set(opIndex, compiledOp);
    return compiledOp;
  }

  private compileOp(op: TfliteOperator): CompiledOp {
    const output = op.outputs[0];
    const o = op.options;
    const first = op.inputs[0];
    switch (op.op) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        if (o.kind !== 'conv2d' && o.kind !== 'depthwise') throw new Error(`TFLite ${op.op}: missing options`);
        const w = this.constant(op.inputs[1]);
        const [outOrOne, kh, kw, inOrCh] = w.tensor.shape;
        let filter: tf.Tensor4D;
        if (op.op === 'CONV_2D') {
          // TFLite OHWI → tfjs HWIO.
          filter = tf.tidy(() => tf.transpose(tf.tensor4d(w.values, [outOrOne, kh, kw, inOrCh]), [1, 2, 3, 0]));
        } else {
          // TFLite [1, kh, kw, in·mult] (channel c·mult + m) → tfjs [kh, kw, in, mult].
          const mult = o.kind === 'depthwise' ? o.depthMultiplier : 1;
          filter = tf.tensor4d(w.values, [kh, kw, inOrCh / mult, mult]);
        }
        const biasIndex = op.inputs[2];
        const bias = biasIndex !== undefined && biasIndex >= 0 ? tf.tensor1d(this.constant(biasIndex).values) : null;
        const conv: ConvParams = {
          depthwise: op.op === 'DEPTHWISE_CONV_2D',
          filter,
          bias,
          strides: [o.strideH, o.strideW],
          pad: o.padding,
          dilations: [o.dilationH, o.dilationW],
          activation: activationOf(o.activation, op.op),
        };
        return {
          inputs: [first],
          output,
          conv,
          constants: [],
          exec: ([x], forGradient) => applyConv(x as tf.Tensor4D, conv, forGradient),
        };
      }
      case 'ADD':
      case 'MUL': {
        if (o.kind !== 'activation') throw new Error(`TFLite ${op.op}: missing options`);
        const act = activationOf(o.activation, op.op);
        const constants: tf.Tensor[] = [];
        const operands = op.inputs.map((i) => {
          if (!this.isConstant(i)) return i;
          const c = this.constant(i);
          const t = tf.tensor(c.values, c.tensor.shape);
          constants.push(t);
          return t;
        });
        const inputs = operands.filter((x): x is number => typeof x === 'number');
        return {
          inputs,
          output,
          constants,
          exec: (xs) => {
            let k = 0;
            const [a, b] = operands.map((v) => (typeof v === 'number' ? xs[k++] : v));
            return applyActivation(op.op === 'ADD' ? tf.add(a, b) : tf.mul(a, b), act);
          },
        };
      }
      case 'AVERAGE_POOL_2D':
      case 'MAX_POOL_2D': {
        if (o.kind !== 'pool2d') throw new Error(`TFLite ${op.op}: missing options`);
        const act = activationOf(o.activation, op.op);
        return {
          inputs: [first],
          output,
          constants: [],
          exec: ([x]) => {
            const pool = op.op === 'AVERAGE_POOL_2D' ? tf.avgPool : tf.maxPool;
            return applyActivation(pool(x as tf.Tensor4D, [o.filterH, o.filterW], [o.strideH, o.strideW], o.padding), act);
          },
        };
      }
      case 'MEAN': {
        const axes = this.intConstant(op.inputs[1]);
        const keepDims = o.kind === 'reducer' ? o.keepDims : false;
        return { inputs: [first], output, constants: [], exec: ([x]) => tf.mean(x, axes, keepDims) };
      }
      case 'RESHAPE': {
        let shape = o.kind === 'reshape' && o.newShape.length > 0 ? o.newShape : [];
        if (shape.length === 0 && op.inputs[1] !== undefined && op.inputs[1] >= 0) shape = this.intConstant(op.inputs[1]);
        if (shape.length === 0) shape = this.subgraph.tensors[output].shape;
        // The file records batch 1; keep the batch of the actual input.
        const target = shape.map((d, i) => (i === 0 ? -1 : d));
        return { inputs: [first], output, constants: [], exec: ([x]) => tf.reshape(x, target) };
      }
      case 'SQUEEZE': {
        const shape = this.subgraph.tensors[output].shape;
        return { inputs: [first], output, constants: [], exec: ([x]) => tf.reshape(x, [x.shape[0], ...shape.slice(1)]) };
      }
      case 'SOFTMAX': {
        const beta = o.kind === 'softmax' ? o.beta : 1;
        return { inputs: [first], output, constants: [], exec: ([x]) => tf.softmax(beta === 1 ? x : tf.mul(x, beta)) };
      }
      case 'FULLY_CONNECTED': {
        const w = this.constant(op.inputs[1]);
        const [units, inDim] = w.tensor.shape;
        const weights = tf.tidy(() => tf.transpose(tf.tensor2d(w.values, [units, inDim])));
        const biasIndex = op.inputs[2];
        const bias = biasIndex !== undefined && biasIndex >= 0 ? tf.tensor1d(this.constant(biasIndex).values) : null;
        const act = activationOf(o.kind === 'fullyConnected' ? o.activation : 'none', op.op);
        return {
          inputs: [first],
          output,
          constants: [weights, ...(bias ? [bias] : [])],
          exec: ([x]) => {
            const y = tf.matMul(tf.reshape(x, [-1, inDim]), weights);
            return applyActivation(bias ? tf.add(y, bias) : y, act);
          },
        };
      }
      case 'CONCATENATION': {
        if (o.kind !== 'concat') throw new Error(`TFLite ${op.op}: missing options`);
        const act = activationOf(o.activation, op.op);
        return { inputs: op.inputs, output, constants: [], exec: (xs) => applyActivation(tf.concat(xs, o.axis), act) };
      }
      case 'PAD': {
        const p = this.intConstant(op.inputs[1]);
        const pairs: Array<[number, number]> = [];
        for (let i = 0; i < p.length; i += 2) pairs.push([p[i], p[i + 1]]);
        return { inputs: [first], output, constants: [], exec: ([x]) => tf.pad(x, pairs) };
      }
      case 'RELU':
      case 'RELU6':
      case 'LOGISTIC': {
        const act: Activation = op.op === 'RELU' ? 'relu' : op.op === 'RELU6' ? 'relu6' : 'sigmoid';
        return { inputs: [first], output, constants: [], exec: ([x]) => applyActivation(x, act) };
      }
      case 'QUANTIZE':
      case 'DEQUANTIZE':
        // Activations stay float: (de)quantization is the identity here.
        return { inputs: [first], output, constants: [], exec: ([x]) => tf.clone(x) };
      default:
        throw new Error(`TFLite operator ${op.op} is not supported (output "${this.subgraph.tensors[output].name}")`);
    }
  }

  /** Compile (without running) what `outputs` need: load-time errors surface here. */
  prepare(outputs: number[]): void {
    for (const i of this.plan(outputs)) this.compile(i);
  }

  /**
   * Run the graph on `input` (already in the model's input range, NHWC float)
   * and return the tensors `outputs` (indices). Intermediates are freed as soon
   * as their last reader has run (the gradient tape keeps its own copies).
   */
  run(input: tf.Tensor4D, outputs: number[], forGradient = false): tf.Tensor[] {
    const order = this.plan(outputs);
    const steps = order.map((i) => this.compile(i));
    const lastUse = new Map<number, number>();
    steps.forEach((s, k) => s.inputs.forEach((i) => lastUse.set(i, k)));
    const keep = new Set(outputs);
    return tf.tidy(() => {
      const values = new Map<number, tf.Tensor>([[this.subgraph.inputs[0], input]]);
      steps.forEach((step, k) => {
        const xs = step.inputs.map((i) => {
          const v = values.get(i);
          if (!v) throw new Error(`TFLite tensor "${this.subgraph.tensors[i].name}" is not computed by any operator`);
          return v;
        });
        values.set(step.output, step.exec(xs, forGradient));
        for (const i of step.inputs) {
          if (lastUse.get(i) === k && !keep.has(i) && i !== this.subgraph.inputs[0]) {
            values.get(i)!.dispose();
            values.delete(i);
          }
        }
      });
      return outputs.map((i) => {
        const v = i === this.subgraph.inputs[0] ? input : values.get(i);
        if (!v) throw new Error(`TFLite tensor "${this.subgraph.tensors[i].name}" was not computed`);
        return v;
      });
    });
  }

  /** Convs compiled so far, as trainable variables. */
  variables(): tf.Variable[] {
    return [...this.compiled.values()].flatMap((c) => (c.conv ? convToVariables(c.conv) : []));
  }

  dispose(): void {
    for (const c of this.compiled.values()) {
      c.conv?.filter.dispose();
      c.conv?.bias?.dispose();
      for (const t of c.constants) t.dispose();
    }
    this.compiled.clear();
  }
}

// ---------------------------------------------------------------------------
// Backbones.
// ---------------------------------------------------------------------------

export interface TfliteBackboneOptions {
  /** Tensor names of the stride-8/16/32 taps (exact or first ';'-separated part). */
  taps: [string, string, string];
  /**
   * Range the graph expects its input in; [0,1] input is mapped onto it. Default:
   * the range the quantized input tensor represents (e.g. [-1, 1) for scale 1/128, zero point 128).
   */
  inputRange?: [number, number];
  name?: string;
  warning?: string;
}

/** The input range a quantized uint8/int8 input tensor represents, or null. */
export function quantizedInputRange(t: TfliteTensor): [number, number] | null {
  const q = t.quantization;
  if (!q || q.scale.length !== 1) return null;
  const [qmin, qmax] = t.type === 9 ? [-128, 127] : t.type === 3 ? [0, 255] : [NaN, NaN];
  if (Number.isNaN(qmin)) return null;
  return [q.scale[0] * (qmin - q.zeroPoint[0]), q.scale[0] * (qmax + 1 - q.zeroPoint[0])];
}

/** A Backbone from any TFLite model with three NHWC taps. */
export async function loadTfliteBackbone(path: string, opts: TfliteBackboneOptions): Promise<Backbone> {
  const graph = await TfliteGraph.fromFile(path);
  return tfliteBackboneFromGraph(graph, opts, path);
}

export function tfliteBackboneFromGraph(graph: TfliteGraph, opts: TfliteBackboneOptions, path = '(in memory)'): Backbone {
  const input = graph.inputTensor;
  const inputRange = opts.inputRange ?? quantizedInputRange(input);
  if (!inputRange) {
    throw new InputError(
      'the TFLite model has a float input: say which range it expects',
      path,
      'pass inputRange, e.g. [-1, 1] for MobileNets or [0, 1]',
    );
  }
  let taps: TfliteTensor[];
  try {
    taps = opts.taps.map((n) => graph.findTensor(n));
  } catch (err) {
    throw new InputError((err as Error).message, path, 'list the tensor names with `multicue weights inspect FILE` and pass existing ones');
  }
  const [, inH, inW] = input.shape;
  const strides = taps.map((t) => {
    if (t.shape.length !== 4) throw new InputError(`tap "${t.name}" is not a 4-D NHWC tensor (shape [${t.shape}])`, path, 'pick conv feature maps as taps');
    return Math.round(inH / t.shape[1]);
  }) as [number, number, number];
  if (taps.some((t) => Math.round(inW / t.shape[2]) !== Math.round(inH / t.shape[1]))) {
    throw new InputError('taps with different strides along height and width are not supported', path, 'pick square-stride taps');
  }
  const indices = taps.map((t) => t.index);
  graph.prepare(indices);
  return graphBackbone(
    {
      name: opts.name ?? 'tflite',
      tapNames: taps.map((t) => t.name.split(';')[0]) as [string, string, string],
      tapChannels: taps.map((t) => t.shape[3]) as [number, number, number],
      tapStrides: strides,
      weightsId: graph.weightsId,
      warning: opts.warning,
      inputRange,
    },
    {
      run: (x, forGradient) => graph.run(x, indices, forGradient) as tf.Tensor4D[],
      trainableVariables: () => graph.variables(),
      dispose: () => graph.dispose(),
    },
  );
}

/**
 * Taps of the Coral MobileNetV2 1.0 (TF-slim names): expanded_conv_6/expand
 * (stride 8, 192 ch), expanded_conv_13/expand (stride 16, 576 ch), Conv_1
 * (stride 32, 1280 ch), each after its ReLU6; the Keras equivalents are
 * block_6_expand_relu, block_13_expand_relu, out_relu.
 */
export const MOBILENETV2_TFLITE_TAPS: [string, string, string] = [
  'MobilenetV2/expanded_conv_6/expand/Relu6',
  'MobilenetV2/expanded_conv_13/expand/Relu6',
  'MobilenetV2/Conv_1/Relu6',
];

/** The `mobilenetv2` preset: Coral's quantized MobileNetV2 1.0 224 (ImageNet), input x·2−1. */
export async function loadMobileNetV2Tflite(path: string): Promise<Backbone> {
  return loadTfliteBackbone(path, { taps: MOBILENETV2_TFLITE_TAPS, inputRange: [-1, 1], name: 'mobilenetv2' });
}
