import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../util/errors.ts';
import { applyActivation, applyConv, convToVariables, graphBackbone, sha256Prefix, type Activation, type ConvParams } from './tflite.ts';
import type { Backbone } from './types.ts';

/**
 * Backbones from tfjs layers models (model.json + weight shards), read from
 * disk without tfjs-node. The layers between the input and the taps are
 * rebuilt as plain tfjs ops with every Conv2D/DepthwiseConv2D → BatchNorm
 * (→ ReLU) chain folded into one fused conv: about twice as fast as running the
 * Keras layers, and the unfused variant for input gradients is a switch.
 * Layers the rebuild does not know run through their own Keras `apply`.
 */

// ---------------------------------------------------------------------------
// Reading model.json and its weights.
// ---------------------------------------------------------------------------

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes a weight entry occupies in the shards (quantized entries use their stored dtype). */
function entryBytes(w: tf.io.WeightsManifestEntry): number {
  const count = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype;
  const size = DTYPE_BYTES[dtype];
  if (size === undefined) throw new Error(`weight "${w.name}": unsupported dtype ${dtype}`);
  return count * size;
}

export interface LoadedArtifacts {
  artifacts: tf.io.ModelArtifacts;
  /** sha256 prefix of the weight bytes (all shards, manifest order). */
  weightsId: string;
}

/**
 * Model artifacts from a parsed model.json whose weight shards are given as bytes
 * (shard path → bytes). Checks the byte counts so a truncated shard is reported
 * by name instead of failing deep inside tfjs.
 */
export function artifactsFromJson(
  json: { modelTopology?: unknown; weightsManifest?: WeightsGroup[]; format?: string; generatedBy?: string; convertedBy?: string | null },
  shards: Map<string, Uint8Array>,
  where: string,
): LoadedArtifacts {
  if (!json.modelTopology) {
    throw new InputError('model.json has no modelTopology: not a tfjs layers model', where, 'give a tfjs layers model (graph models are not supported)');
  }
  const groups = json.weightsManifest ?? [];
  const parts: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of groups) {
    const bytes = group.paths.map((p) => {
      const b = shards.get(p);
      if (!b) throw new InputError(`weight shard "${p}" listed in model.json is missing`, join(dirname(where), p), 'fetch the model again (every shard listed in model.json is needed)');
      return b;
    });
    const have = bytes.reduce((a, b) => a + b.length, 0);
    const want = group.weights.reduce((a, w) => a + entryBytes(w), 0);
    if (have !== want) {
      throw new InputError(
        `weight shards ${group.paths.join(', ')} hold ${have} bytes, model.json describes ${want}`,
        join(dirname(where), group.paths[0]),
        'the download is truncated or the shards belong to another model: fetch it again',
      );
    }
    parts.push(...bytes);
    specs.push(...group.weights);
  }
  const total = parts.reduce((a, b) => a + b.length, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.length;
  }
  return {
    artifacts: {
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: specs,
      weightData: weightData.buffer,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? undefined,
    },
    weightsId: sha256Prefix(...parts),
  };
}

/** Read model.json and every weight shard it lists (relative to its folder). */
export async function readTfjsArtifacts(modelJsonPath: string): Promise<LoadedArtifacts> {
  if (!existsSync(modelJsonPath)) {
    throw new InputError('model.json not found', modelJsonPath, 'give the path of a tfjs layers model.json (its weight shards beside it)');
  }
  let json: { modelTopology?: unknown; weightsManifest?: WeightsGroup[] };
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  } catch (err) {
    throw new InputError(`model.json is not valid JSON (${(err as Error).message})`, modelJsonPath, 'fetch the model again');
  }
  const shards = new Map<string, Uint8Array>();
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) {
      const file = join(dirname(modelJsonPath), p);
      if (!existsSync(file)) continue; // reported with the shard's name by artifactsFromJson
      shards.set(p, await readFile(file));
    }
  }
  return artifactsFromJson(json, shards, modelJsonPath);
}

/**
 * Dispose a layers model and every weight of its nested models: tfjs-layers 4.22
 * leaves the weights of a Sequential nested in a Sequential alive on dispose().
 */
export function disposeLayersModel(model: tf.LayersModel): void {
  model.dispose();
  const visit = (m: tf.LayersModel): void => {
    for (const layer of m.layers) {
      for (const w of layer.weights) {
        try {
          w.dispose();
        } catch {
          // already disposed by model.dispose()
        }
      }
      if (isContainer(layer)) visit(layer);
    }
  };
  visit(model);
}

/** tf.loadLayersModel from artifacts already in memory (no browser, no tfjs-node). */
export async function layersModelFromArtifacts(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  const handler: tf.io.IOHandler = { load: async () => artifacts };
  return tf.loadLayersModel(handler);
}

// ---------------------------------------------------------------------------
// The layer graph between the input and the taps.
// ---------------------------------------------------------------------------

type AnyLayer = tf.layers.Layer;

interface GraphNode {
  layer: AnyLayer;
  inputs: string[];
}

interface LayerGraph {
  container: tf.LayersModel;
  inputName: string;
  nodes: Map<string, GraphNode>;
}

function isContainer(layer: unknown): layer is tf.LayersModel {
  return layer instanceof tf.LayersModel;
}

/** The (possibly nested) model whose own layers include every tap. */
export function findTapContainer(model: tf.LayersModel, taps: readonly string[]): tf.LayersModel | null {
  const names = new Set(model.layers.map((l) => l.name));
  if (taps.every((t) => names.has(t))) return model;
  for (const layer of model.layers) {
    if (isContainer(layer)) {
      const found = findTapContainer(layer, taps);
      if (found) return found;
    }
  }
  return null;
}

/** Every layer name in the model, nested models included (for error messages). */
export function allLayerNames(model: tf.LayersModel): string[] {
  return model.layers.flatMap((l) => (isContainer(l) ? [l.name, ...allLayerNames(l)] : [l.name]));
}

function layerGraph(container: tf.LayersModel): LayerGraph {
  const c = container as unknown as { inputLayers: AnyLayer[]; containerNodes?: Set<string> };
  if (c.inputLayers.length !== 1) throw new Error(`model "${container.name}" has ${c.inputLayers.length} inputs; one image input is needed`);
  const inputName = c.inputLayers[0].name;
  const nodes = new Map<string, GraphNode>();
  for (const layer of container.layers) {
    if (layer.name === inputName) continue;
    const inbound = (layer as unknown as { inboundNodes: Array<{ inboundLayers: AnyLayer[]; tensorIndices: number[] }> }).inboundNodes;
    const own = inbound.filter((_, i) => c.containerNodes?.has(`${layer.name}_ib-${i}`) ?? i === 0);
    if (own.length !== 1) {
      throw new Error(`layer "${layer.name}" is used ${own.length} times in "${container.name}"; shared layers are not supported`);
    }
    if (own[0].tensorIndices.some((t) => t !== 0)) {
      throw new Error(`layer "${layer.name}" reads a second output of a multi-output layer; not supported`);
    }
    nodes.set(layer.name, { layer, inputs: own[0].inboundLayers.map((l) => l.name) });
  }
  return { container, inputName, nodes };
}

// ---------------------------------------------------------------------------
// Plain-ops program with folded batch norm.
// ---------------------------------------------------------------------------

type Step =
  | { kind: 'conv'; inputs: string[]; output: string; conv: ConvParams }
  | { kind: 'affine'; inputs: string[]; output: string; scale: tf.Tensor1D; shift: tf.Tensor1D }
  | { kind: 'op'; inputs: string[]; output: string; run: (xs: tf.Tensor[]) => tf.Tensor }
  | { kind: 'keras'; inputs: string[]; output: string; layer: AnyLayer };

type Config = Record<string, unknown>;

function weightsByName(layer: AnyLayer): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const short = w.originalName.split('/').pop()!;
    out.set(short, values[i].dataSync() as Float32Array);
  });
  return out;
}

function pair(v: unknown, fallback: number): [number, number] {
  if (Array.isArray(v)) return [Number(v[0]), Number(v[1] ?? v[0])];
  if (typeof v === 'number') return [v, v];
  return [fallback, fallback];
}

/** The activation of a ReLU/Activation layer, or null when it is something else. */
function activationLayerKind(layer: AnyLayer): Activation | null {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  if (cls === 'ReLU') {
    const max = cfg.maxValue as number | null | undefined;
    if (max === undefined || max === null) return 'relu';
    return max === 6 ? 'relu6' : null;
  }
  if (cls === 'Activation') return kerasActivation(cfg.activation);
  return null;
}

function kerasActivation(name: unknown): Activation | null {
  switch (name) {
    case undefined:
    case null:
    case 'linear':
      return 'linear';
    case 'relu':
    case 'relu6':
    case 'tanh':
    case 'sigmoid':
      return name;
    default:
      return null;
  }
}

function channelsLast(cfg: Config): boolean {
  return cfg.dataFormat === undefined || cfg.dataFormat === 'channelsLast';
}

/** Conv weights (kernel, bias) and its own activation, before any folding. */
function convParams(layer: AnyLayer): { kernel: Float32Array; shape: number[]; bias: Float32Array | null; cfg: Config; act: Activation | null } {
  const cfg = layer.getConfig() as Config;
  const w = weightsByName(layer);
  const depthwise = layer.getClassName() === 'DepthwiseConv2D';
  const kernel = w.get(depthwise ? 'depthwise_kernel' : 'kernel');
  if (!kernel) throw new Error(`layer "${layer.name}" has no kernel weight`);
  const kw = layer.weights.find((x) => x.originalName.endsWith(depthwise ? 'depthwise_kernel' : 'kernel'))!;
  return { kernel, shape: kw.shape as number[], bias: w.get('bias') ?? null, cfg, act: kerasActivation(cfg.activation) };
}

/** BN's per-channel affine y = x·scale + shift (eval mode). */
function batchNormAffine(layer: AnyLayer, channels: number): { scale: Float32Array; shift: Float32Array } {
  const cfg = layer.getConfig() as Config;
  const w = weightsByName(layer);
  const eps = Number(cfg.epsilon ?? 1e-3);
  const mean = w.get('moving_mean')!;
  const variance = w.get('moving_variance')!;
  const gamma = w.get('gamma');
  const beta = w.get('beta');
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    scale[c] = s;
    shift[c] = (beta ? beta[c] : 0) - mean[c] * s;
  }
  return { scale, shift };
}

function isFoldableBatchNorm(layer: AnyLayer): boolean {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const axis = (layer.getConfig() as Config).axis;
  return axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3));
}

function buildConv(
  layer: AnyLayer,
  bn: AnyLayer | null,
  activation: Activation,
): ConvParams {
  const depthwise = layer.getClassName() === 'DepthwiseConv2D';
  const p = convParams(layer);
  const outChannels = depthwise ? p.shape[2] * p.shape[3] : p.shape[3];
  const kernel = new Float32Array(p.kernel);
  const bias = new Float32Array(outChannels);
  if (p.bias) bias.set(p.bias);
  if (bn) {
    // bn(conv(x, W) + b) = conv(x, W·s) + (b·s + shift); output channel = last index of the
    // kernel (conv) or (in channel, multiplier) flattened (depthwise): both are i % outChannels.
    const { scale, shift } = batchNormAffine(bn, outChannels);
    for (let i = 0; i < kernel.length; i++) kernel[i] *= scale[i % outChannels];
    for (let c = 0; c < outChannels; c++) bias[c] = bias[c] * scale[c] + shift[c];
  }
  const pad = p.cfg.padding === 'same' ? 'same' : 'valid';
  return {
    depthwise,
    filter: tf.tensor4d(kernel, p.shape as [number, number, number, number]),
    bias: p.bias || bn ? tf.tensor1d(bias) : null,
    strides: pair(p.cfg.strides, 1),
    pad,
    dilations: pair(p.cfg.dilationRate, 1),
    activation,
  };
}

/** Plain tfjs ops for weightless layers; null when the layer needs its Keras implementation. */
function plainOp(layer: AnyLayer): ((xs: tf.Tensor[]) => tf.Tensor) | null {
  const cfg = layer.getConfig() as Config;
  switch (layer.getClassName()) {
    case 'ZeroPadding2D': {
      const p = cfg.padding as number | [number, number] | [[number, number], [number, number]];
      const [[t, b], [l, r]] =
        typeof p === 'number'
          ? [[p, p], [p, p]]
          : Array.isArray(p[0])
            ? (p as [[number, number], [number, number]])
            : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
      if (!channelsLast(cfg)) return null;
      return ([x]) => tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
    }
    case 'Add':
      return (xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs));
    case 'Multiply':
      return (xs) => xs.reduce((a, b) => tf.mul(a, b));
    case 'Concatenate': {
      const axis = Number(cfg.axis ?? -1);
      return (xs) => tf.concat(xs, axis);
    }
    case 'ReLU':
    case 'Activation': {
      const act = activationLayerKind(layer);
      return act ? ([x]) => applyActivation(x, act) : null;
    }
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
      // Inference: the identity.
      return ([x]) => tf.clone(x);
    case 'GlobalAveragePooling2D':
      return channelsLast(cfg) ? ([x]) => tf.mean(x, [1, 2]) : null;
    case 'AveragePooling2D':
    case 'MaxPooling2D': {
      if (!channelsLast(cfg)) return null;
      const size = pair(cfg.poolSize, 2);
      const strides = pair(cfg.strides ?? cfg.poolSize, 2);
      const pad = cfg.padding === 'same' ? 'same' : 'valid';
      const pool = layer.getClassName() === 'AveragePooling2D' ? tf.avgPool : tf.maxPool;
      return ([x]) => pool(x as tf.Tensor4D, size, strides, pad);
    }
    default:
      return null;
  }
}

class FoldedProgram {
  readonly steps: Step[] = [];
  /** True when some step still runs a Keras layer (the model must stay alive). */
  private usesKeras = false;

  constructor(
    private readonly graph: LayerGraph,
    private readonly taps: readonly string[],
    fold: boolean,
  ) {
    const order = this.order();
    const tapSet = new Set(taps);
    const consumers = new Map<string, string[]>();
    for (const name of order) {
      for (const i of graph.nodes.get(name)!.inputs) consumers.set(i, [...(consumers.get(i) ?? []), name]);
    }
    /** The single layer reading `name`, when nothing else (no tap either) needs its output. */
    const soleReader = (name: string): AnyLayer | null => {
      const readers = consumers.get(name) ?? [];
      return readers.length === 1 && !tapSet.has(name) ? graph.nodes.get(readers[0])!.layer : null;
    };
    const absorbed = new Set<string>();
    for (const name of order) {
      if (absorbed.has(name)) continue;
      const node = graph.nodes.get(name)!;
      const layer = node.layer;
      const cls = layer.getClassName();
      const cfg = layer.getConfig() as Config;
      if ((cls === 'Conv2D' || cls === 'DepthwiseConv2D') && channelsLast(cfg) && kerasActivation(cfg.activation)) {
        let output = name;
        let bn: AnyLayer | null = null;
        let activation = kerasActivation(cfg.activation)!;
        if (fold && activation === 'linear') {
          const next = soleReader(name);
          if (next && isFoldableBatchNorm(next)) {
            bn = next;
            output = next.name;
            absorbed.add(next.name);
            const after = soleReader(next.name);
            const act = after ? activationLayerKind(after) : null;
            if (after && act) {
              activation = act;
              output = after.name;
              absorbed.add(after.name);
            }
          }
        }
        this.steps.push({ kind: 'conv', inputs: node.inputs, output, conv: buildConv(layer, bn, activation) });
        continue;
      }
      if (isFoldableBatchNorm(layer)) {
        const channels = layer.weights.find((w) => w.originalName.endsWith('moving_mean'))!.shape[0]!;
        const { scale, shift } = batchNormAffine(layer, channels);
        this.steps.push({ kind: 'affine', inputs: node.inputs, output: name, scale: tf.tensor1d(scale), shift: tf.tensor1d(shift) });
        continue;
      }
      const run = plainOp(layer);
      if (run) {
        this.steps.push({ kind: 'op', inputs: node.inputs, output: name, run });
        continue;
      }
      this.usesKeras = true;
      this.steps.push({ kind: 'keras', inputs: node.inputs, output: name, layer });
    }
  }

  /** Layers the taps depend on, inputs before readers. */
  private order(): string[] {
    const out: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string) => {
      if (name === this.graph.inputName || state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`cycle at layer "${name}"`);
      const node = this.graph.nodes.get(name);
      if (!node) throw new Error(`layer "${name}" not found in "${this.graph.container.name}"`);
      state.set(name, 'visiting');
      for (const i of node.inputs) visit(i);
      state.set(name, 'done');
      out.push(name);
    };
    for (const t of this.taps) visit(t);
    return out;
  }

  /** True when the Keras model is no longer needed after construction. */
  get standalone(): boolean {
    return !this.usesKeras;
  }

  run(x: tf.Tensor4D, forGradient: boolean): tf.Tensor4D[] {
    const lastUse = new Map<string, number>();
    this.steps.forEach((s, k) => s.inputs.forEach((i) => lastUse.set(i, k)));
    const tapSet = new Set(this.taps);
    const inputName = this.graph.inputName;
    return tf.tidy(() => {
      const values = new Map<string, tf.Tensor>([[inputName, x]]);
      this.steps.forEach((step, k) => {
        const xs = step.inputs.map((i) => values.get(i)!);
        let y: tf.Tensor;
        switch (step.kind) {
          case 'conv':
            y = applyConv(xs[0] as tf.Tensor4D, step.conv, forGradient);
            break;
          case 'affine':
            y = tf.add(tf.mul(xs[0], step.scale), step.shift);
            break;
          case 'op':
            y = step.run(xs);
            break;
          case 'keras':
            y = step.layer.apply(xs.length === 1 ? xs[0] : xs) as tf.Tensor;
            break;
        }
        values.set(step.output, y);
        // Free activations after their last reader (the gradient tape keeps its own copies).
        for (const i of step.inputs) {
          if (lastUse.get(i) === k && !tapSet.has(i) && i !== inputName) {
            values.get(i)!.dispose();
            values.delete(i);
          }
        }
      });
      return this.taps.map((t) => values.get(t)! as tf.Tensor4D);
    });
  }

  variables(): tf.Variable[] {
    const vars = this.steps.flatMap((s) => (s.kind === 'conv' ? convToVariables(s.conv) : []));
    return vars;
  }

  dispose(): void {
    for (const s of this.steps) {
      if (s.kind === 'conv') {
        s.conv.filter.dispose();
        s.conv.bias?.dispose();
      } else if (s.kind === 'affine') {
        s.scale.dispose();
        s.shift.dispose();
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Backbones.
// ---------------------------------------------------------------------------

export interface TfjsBackboneOptions {
  /** Layer names of the stride-8/16/32 taps (nested models are searched). */
  taps: [string, string, string];
  /** The range the model expects its input in; [0,1] input is mapped onto it. */
  inputRange: [number, number];
  name?: string;
  warning?: string;
  /** Fold batch norm into convs (default true; false runs BN as a separate affine op). */
  fold?: boolean;
}

/**
 * The Keras sub-model from the input of the tap container to the taps, unfolded
 * (what the folded program must reproduce). Shares weights with `model`.
 */
export function tapSubModel(model: tf.LayersModel, taps: readonly string[]): tf.LayersModel {
  const container = findTapContainer(model, taps);
  if (!container) throw new Error(`no (nested) model holds all of ${taps.join(', ')}`);
  return tf.model({
    inputs: container.inputs,
    outputs: taps.map((t) => container.getLayer(t).output as tf.SymbolicTensor),
  });
}

/** A Backbone from a loaded layers model; takes ownership of `model` (disposed with the backbone). */
export function tfjsModelBackbone(model: tf.LayersModel, weightsId: string, opts: TfjsBackboneOptions, where = '(in memory)'): Backbone {
  const container = findTapContainer(model, opts.taps);
  if (!container) {
    const names = allLayerNames(model);
    const missing = opts.taps.filter((t) => !names.includes(t));
    disposeLayersModel(model);
    throw new InputError(
      missing.length
        ? `the model has no layer named ${missing.map((m) => `"${m}"`).join(', ')}`
        : 'the taps are not all in the same (nested) model',
      where,
      `pick taps among its layers (e.g. ${names.filter((n) => /relu|add/i.test(n)).slice(-6).join(', ')})`,
    );
  }
  let program: FoldedProgram;
  try {
    program = new FoldedProgram(layerGraph(container), opts.taps, opts.fold ?? true);
  } catch (err) {
    disposeLayersModel(model);
    throw err;
  }
  // Everything now lives in the program's own tensors: free the Keras weights.
  if (program.standalone) disposeLayersModel(model);

  const tapLayers = opts.taps.map((t) => container.getLayer(t));
  const inputShape = (container.inputs[0].shape ?? []) as Array<number | null>;
  const tapShapes = tapLayers.map((l) => l.outputShape as Array<number | null>);
  const channels = tapShapes.map((s) => s[s.length - 1]) as [number, number, number];
  let strides: [number, number, number];
  if (inputShape[1] && tapShapes.every((s) => s[1])) {
    strides = tapShapes.map((s) => Math.round(inputShape[1]! / s[1]!)) as [number, number, number];
  } else {
    // Unknown spatial size in the config: measure on a small probe.
    const probe = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
    const outs = program.run(probe, false);
    strides = outs.map((o) => Math.round(64 / o.shape[1])) as [number, number, number];
    tf.dispose([probe, ...outs]);
  }
  return graphBackbone(
    {
      name: opts.name ?? 'tfjs-model',
      tapNames: opts.taps,
      tapChannels: channels,
      tapStrides: strides,
      weightsId,
      warning: opts.warning,
      inputRange: opts.inputRange,
    },
    {
      run: (x, forGradient) => program.run(x, forGradient),
      trainableVariables: () => program.variables(),
      dispose: () => {
        program.dispose();
        if (!program.standalone) disposeLayersModel(model);
      },
    },
  );
}

/** Load a tfjs layers model.json (+ shards) from disk as a Backbone. */
export async function loadTfjsModelBackbone(modelJsonPath: string, opts: TfjsBackboneOptions): Promise<Backbone> {
  const { artifacts, weightsId } = await readTfjsArtifacts(modelJsonPath);
  let model: tf.LayersModel;
  try {
    model = await layersModelFromArtifacts(artifacts);
  } catch (err) {
    throw new InputError(`tfjs could not build the model (${(err as Error).message})`, modelJsonPath, 'check that it is a tfjs layers model, or fetch it again');
  }
  return tfjsModelBackbone(model, weightsId, opts, modelJsonPath);
}

/** Keras MobileNetV2 taps at strides 8/16/32 (the ones measured best on magnetic tile). */
export const MOBILENETV2_KERAS_TAPS: [string, string, string] = ['block_6_expand_relu', 'block_13_expand_relu', 'out_relu'];

/** The `mobilenetv2-0.35` preset: Keras MobileNetV2 α=0.35 (ImageNet), input x·2−1. */
export async function loadMobileNetV2Tfjs(modelJsonPath: string, name = 'mobilenetv2-0.35'): Promise<Backbone> {
  return loadTfjsModelBackbone(modelJsonPath, { taps: MOBILENETV2_KERAS_TAPS, inputRange: [-1, 1], name });
}
