import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { initBackend } from '../engine/backend.ts';
import { InputError } from '../util/errors.ts';
import { disposeResNet18, loadResNet18Params, normaliseImageNet, resnet18Forward, RESNET18_OUTPUTS } from './resnet18.ts';

/**
 * Checks a ResNet-18 conversion against activations recorded in PyTorch.
 * Reference file (JSON): `{"layout": "NCHW" | "NHWC", "input": {shape, data},
 * "<layer>": {shape, data}, ...}` with layers among conv1, layer1..layer4
 * (conv1 = after bn1 + relu). `input` is what the network itself was fed: pass
 * `normaliseInput` when it holds [0,1] pixels and the recorded model normalised them.
 * Error per layer: max|ours − ref| / max|ref|.
 */

const recordedTensor = z.object({
  shape: z.array(z.number().int().nonnegative()),
  data: z.array(z.number()),
});
const referenceSchema = z
  .object({
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    input: recordedTensor,
  })
  .catchall(z.unknown());

export interface LayerError {
  layer: string;
  /** NHWC shape compared. */
  shape: number[];
  maxAbsDiff: number;
  maxAbsRef: number;
  /** max|diff| / max|ref|; NaN when our output has a non-finite value or the shapes differ. */
  relativeError: number;
  ok: boolean;
  note?: string;
}

export interface VerifyResult {
  weightsPath: string;
  referencePath: string;
  weightsId: string;
  tolerance: number;
  inputNormalised: boolean;
  layers: LayerError[];
  /** Reference entries that are not outputs we produce. */
  ignored: string[];
  ok: boolean;
}

export interface VerifyOptions {
  weights: string;
  reference: string;
  /** Largest accepted relative error per layer (default 1e-3). */
  tolerance?: number;
  /** Apply ImageNet normalisation to the reference input first (default false). */
  normaliseInput?: boolean;
}

/** max|a − ref| / max|ref| (pure; exported for tests). Non-finite values in `a` give NaN. */
export function relativeMaxError(
  a: ArrayLike<number>,
  ref: ArrayLike<number>,
): { maxAbsDiff: number; maxAbsRef: number; relativeError: number } {
  if (a.length !== ref.length) throw new Error(`relativeMaxError: lengths differ (${a.length} vs ${ref.length})`);
  let maxAbsDiff = 0;
  let maxAbsRef = 0;
  let finite = true;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) finite = false;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - ref[i]));
    maxAbsRef = Math.max(maxAbsRef, Math.abs(ref[i]));
  }
  if (!finite) return { maxAbsDiff: NaN, maxAbsRef, relativeError: NaN };
  const relativeError = maxAbsRef > 0 ? maxAbsDiff / maxAbsRef : maxAbsDiff === 0 ? 0 : Infinity;
  return { maxAbsDiff, maxAbsRef, relativeError };
}

function toNhwc(t: { shape: number[]; data: number[] }, layout: 'NCHW' | 'NHWC', name: string, path: string): tf.Tensor4D {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.length !== 4 || count !== t.data.length) {
    throw new InputError(
      `Reference "${name}" must be a 4-D tensor whose data length matches its shape (shape [${t.shape}], ${t.data.length} values)`,
      path,
      'record activations as {"shape": [N, C, H, W], "data": tensor.flatten().tolist()}',
    );
  }
  return tf.tidy(() => {
    const x = tf.tensor4d(t.data, t.shape as [number, number, number, number]);
    return layout === 'NCHW' ? tf.transpose(x, [0, 2, 3, 1]) : x;
  });
}

async function readReference(path: string): Promise<z.infer<typeof referenceSchema>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`Cannot read reference activations (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path, 'check the --reference path');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`Reference is not valid JSON (${(err as Error).message})`, path, 'write it with json.dump(...)');
  }
  const parsed = referenceSchema.safeParse(json);
  if (!parsed.success) {
    throw new InputError(
      `Reference file has the wrong structure: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      path,
      'expected {"layout": "NCHW", "input": {"shape": [...], "data": [...]}, "layer2": {...}, ...}',
    );
  }
  return parsed.data;
}

export async function verifyResNet18(opts: VerifyOptions): Promise<VerifyResult> {
  const tolerance = opts.tolerance ?? 1e-3;
  const inputNormalised = opts.normaliseInput ?? false;
  const ref = await readReference(opts.reference);
  const layerNames = RESNET18_OUTPUTS.filter((n) => n in ref);
  const ignored = Object.keys(ref).filter(
    (k) => k !== 'layout' && k !== 'input' && !(RESNET18_OUTPUTS as readonly string[]).includes(k),
  );
  if (layerNames.length === 0) {
    throw new InputError(
      `Reference holds no layer this model produces (looked for ${RESNET18_OUTPUTS.join(', ')})`,
      opts.reference,
      'record at least one of the layer outputs, e.g. with forward hooks on model.layer2',
    );
  }
  await initBackend();
  const { params, weightsId } = await loadResNet18Params(opts.weights);
  try {
    const input = toNhwc(ref.input, ref.layout, 'input', opts.reference);
    const outputs = tf.tidy(() => resnet18Forward(params, inputNormalised ? normaliseImageNet(input) : input));
    input.dispose();
    try {
      const layers: LayerError[] = [];
      for (const name of layerNames) {
        const recorded = recordedTensor.safeParse(ref[name]);
        if (!recorded.success) {
          throw new InputError(`Reference "${name}" is not {shape, data}`, opts.reference, 'record it as {"shape": [...], "data": [...]}');
        }
        const expected = toNhwc(recorded.data, ref.layout, name, opts.reference);
        const ours = outputs[name];
        if (expected.shape.some((d, i) => d !== ours.shape[i])) {
          layers.push({
            layer: name,
            shape: expected.shape,
            maxAbsDiff: NaN,
            maxAbsRef: NaN,
            relativeError: NaN,
            ok: false,
            note: `shape differs: ours [${ours.shape}] (NHWC)`,
          });
        } else {
          const err = relativeMaxError(await ours.data(), await expected.data());
          layers.push({ layer: name, shape: ours.shape, ...err, ok: err.relativeError <= tolerance });
        }
        expected.dispose();
      }
      return {
        weightsPath: opts.weights,
        referencePath: opts.reference,
        weightsId,
        tolerance,
        inputNormalised,
        layers,
        ignored,
        ok: layers.every((l) => l.ok),
      };
    } finally {
      for (const t of Object.values(outputs)) t.dispose();
    }
  } finally {
    disposeResNet18(params);
  }
}

/** A plain-text table of the per-layer errors. */
export function formatVerifyTable(result: VerifyResult): string {
  const rows = [
    ['layer', 'shape (NHWC)', 'max|diff|', 'max|ref|', 'rel. error', 'status'],
    ...result.layers.map((l) => [
      l.layer,
      `[${l.shape.join(',')}]`,
      l.maxAbsDiff.toExponential(2),
      l.maxAbsRef.toExponential(2),
      l.relativeError.toExponential(2),
      l.ok ? 'ok' : `FAIL${l.note ? ` (${l.note})` : ''}`,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}
