import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../util/errors.ts';
import { FoldedConv, foldBatchNorm } from './conv.ts';
import { parseSafetensors, type NamedTensor } from './safetensors.ts';
import type { Backbone } from './types.ts';

/**
 * ResNet-18 in torchvision's layout (timm's `resnet18.*` uses the same names),
 * NHWC, eval-mode batch norm folded into the convolutions:
 * conv1 7×7/2 → bn1 → relu → maxpool 3×3/2 → layer1..layer4 (2 BasicBlocks each;
 * the first block of layers 2–4 has stride 2 and a 1×1 conv+bn downsample).
 */

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
const BN_EPS = 1e-5;

/** Outputs of resnet18Forward, in order (conv1 = after bn1 + relu, before the max pool). */
export const RESNET18_OUTPUTS = ['conv1', 'layer1', 'layer2', 'layer3', 'layer4'] as const;
export type ResNet18Output = (typeof RESNET18_OUTPUTS)[number];

const LAYER_CHANNELS = [64, 128, 256, 512] as const;

export interface BasicBlockParams {
  conv1: FoldedConv;
  conv2: FoldedConv;
  downsample?: FoldedConv;
}

export interface ResNet18Params {
  stem: FoldedConv;
  /** layer1..layer4, two blocks each. */
  layers: BasicBlockParams[][];
}

/** Checkpoint prefixes that wrap the model (Lightning, DataParallel). */
const WRAPPER_PREFIXES = ['module.', 'model.'];

/** Strip wrapper prefixes and drop entries the encoder does not use (classifier, BN counters). */
export function canonicalResNetNames(tensors: Map<string, NamedTensor>): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const [raw, t] of tensors) {
    let name = raw;
    for (let stripped = true; stripped; ) {
      stripped = false;
      for (const prefix of WRAPPER_PREFIXES) {
        if (name.startsWith(prefix)) {
          name = name.slice(prefix.length);
          stripped = true;
        }
      }
    }
    if (name.startsWith('fc.') || name.endsWith('.num_batches_tracked')) continue;
    out.set(name, t);
  }
  return out;
}

/** The names and shapes a torchvision ResNet-18 state_dict has (without fc and counters). */
export function expectedResNet18Shapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const addBn = (prefix: string, c: number) => {
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) shapes.set(`${prefix}.${p}`, [c]);
  };
  shapes.set('conv1.weight', [64, 3, 7, 7]);
  addBn('bn1', 64);
  let inC = 64;
  LAYER_CHANNELS.forEach((c, li) => {
    for (let b = 0; b < 2; b++) {
      const p = `layer${li + 1}.${b}`;
      const blockIn = b === 0 ? inC : c;
      shapes.set(`${p}.conv1.weight`, [c, blockIn, 3, 3]);
      addBn(`${p}.bn1`, c);
      shapes.set(`${p}.conv2.weight`, [c, c, 3, 3]);
      addBn(`${p}.bn2`, c);
      if (b === 0 && li > 0) {
        shapes.set(`${p}.downsample.0.weight`, [c, blockIn, 1, 1]);
        addBn(`${p}.downsample.1`, c);
      }
    }
    inC = c;
  });
  return shapes;
}

/** Check names and shapes, then fold every conv+bn pair. Throws InputError naming `path`. */
export function resnet18ParamsFromTensors(raw: Map<string, NamedTensor>, path: string): ResNet18Params {
  const tensors = canonicalResNetNames(raw);
  const expected = expectedResNet18Shapes();
  const fix =
    'export a torchvision or timm ResNet-18 state_dict, e.g. safetensors.torch.save_file(torchvision.models.resnet18(weights="IMAGENET1K_V1").state_dict(), path)';
  const missing = [...expected.keys()].filter((n) => !tensors.has(n));
  if (missing.length > 0) {
    throw new InputError(
      `Not a ResNet-18 checkpoint: ${missing.length} tensors missing (${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', ...' : ''})`,
      path,
      fix,
    );
  }
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  if (unexpected.length > 0) {
    throw new InputError(
      `Not a ResNet-18 checkpoint: unexpected tensors (${unexpected.slice(0, 4).join(', ')}${unexpected.length > 4 ? ', ...' : ''}); a deeper ResNet or another model?`,
      path,
      fix,
    );
  }
  for (const [name, shape] of expected) {
    const got = tensors.get(name)!.shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new InputError(`Tensor "${name}" has shape [${got}], ResNet-18 needs [${shape}]`, path, fix);
    }
  }
  const conv = (convName: string, bnName: string, stride: number, pad: number): FoldedConv => {
    const w = tensors.get(`${convName}.weight`)!;
    const bn = {
      gamma: tensors.get(`${bnName}.weight`)!.data,
      beta: tensors.get(`${bnName}.bias`)!.data,
      mean: tensors.get(`${bnName}.running_mean`)!.data,
      variance: tensors.get(`${bnName}.running_var`)!.data,
    };
    const shape = w.shape as [number, number, number, number];
    return new FoldedConv(foldBatchNorm(w.data, shape, bn, BN_EPS), stride, pad);
  };
  const stem = conv('conv1', 'bn1', 2, 3);
  const layers = LAYER_CHANNELS.map((_, li) =>
    [0, 1].map((b): BasicBlockParams => {
      const p = `layer${li + 1}.${b}`;
      const stride = b === 0 && li > 0 ? 2 : 1;
      return {
        conv1: conv(`${p}.conv1`, `${p}.bn1`, stride, 1),
        conv2: conv(`${p}.conv2`, `${p}.bn2`, 1, 1),
        downsample: stride === 2 ? conv(`${p}.downsample.0`, `${p}.downsample.1`, 2, 0) : undefined,
      };
    }),
  );
  return { stem, layers };
}

export function resnet18Variables(params: ResNet18Params): tf.Variable[] {
  const convs = [params.stem, ...params.layers.flat().flatMap((b) => [b.conv1, b.conv2, b.downsample])];
  return convs.filter((c): c is FoldedConv => c !== undefined).flatMap((c) => c.variables());
}

export function disposeResNet18(params: ResNet18Params): void {
  for (const v of resnet18Variables(params)) v.dispose();
}

function basicBlock(block: BasicBlockParams, x: tf.Tensor4D, fused: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const h = block.conv1.apply(x, { relu: true, fused });
    const y = block.conv2.apply(h, { fused });
    const shortcut = block.downsample ? block.downsample.apply(x, { fused }) : x;
    return tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
  });
}

/**
 * The network on an already-normalised NHWC input; returns every stage output
 * (the caller owns them). `fused: false` uses unfused conv ops (for gradients).
 */
export function resnet18Forward(
  params: ResNet18Params,
  x: tf.Tensor4D,
  opts: { fused?: boolean } = {},
): Record<ResNet18Output, tf.Tensor4D> {
  const fused = opts.fused ?? true;
  return tf.tidy(() => {
    const conv1 = params.stem.apply(x, { relu: true, fused });
    // PyTorch pads the max pool with -inf; tfjs's explicit pad also never wins the max.
    let h = tf.maxPool(conv1, 3, 2, 1);
    const out: Partial<Record<ResNet18Output, tf.Tensor4D>> = { conv1 };
    params.layers.forEach((blocks, li) => {
      for (const block of blocks) h = basicBlock(block, h, fused);
      out[`layer${li + 1}` as ResNet18Output] = h;
    });
    return out as Record<ResNet18Output, tf.Tensor4D>;
  });
}

/** [0,1] RGB → ImageNet-normalised (what torchvision models expect). */
export function normaliseImageNet(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])) as tf.Tensor4D);
}

/** sha256 of the file, first 16 hex digits: identifies the exact weights. */
export function weightsIdOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

export async function loadResNet18Params(path: string): Promise<{ params: ResNet18Params; weightsId: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new InputError(
      `Cannot read ResNet-18 weights (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      path,
      'give the path to a ResNet-18 .safetensors file (a torchvision or timm state_dict)',
    );
  }
  const file = parseSafetensors(bytes, path, { include: (n) => !/(^|\.)fc\./.test(n) });
  return { params: resnet18ParamsFromTensors(file.tensors, path), weightsId: weightsIdOf(bytes) };
}

/** A ResNet-18 Backbone from a torchvision/timm safetensors state_dict. Taps: layer2/3/4. */
export async function loadResNet18FromSafetensors(path: string): Promise<Backbone> {
  const { params, weightsId } = await loadResNet18Params(path);
  let disposed = false;
  return {
    name: 'resnet18',
    tapNames: ['layer2', 'layer3', 'layer4'],
    tapChannels: [128, 256, 512],
    tapStrides: [8, 16, 32],
    weightsId,
    forward(input, opts = {}) {
      if (disposed) throw new Error('resnet18: forward() after dispose()');
      if (input.rank !== 4 || input.shape[3] !== 3) {
        throw new Error(`resnet18: input must be [N, H, W, 3] RGB in [0,1], got [${input.shape}]`);
      }
      return tf.tidy(() => {
        const out = resnet18Forward(params, normaliseImageNet(input), { fused: !opts.forGradient });
        return [out.layer2, out.layer3, out.layer4] as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      });
    },
    trainableVariables: () => resnet18Variables(params),
    dispose() {
      if (!disposed) disposeResNet18(params);
      disposed = true;
    },
  };
}
