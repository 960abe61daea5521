import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { float16ToFloat32, type CachedFeatures } from '../training/feature-cache.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';

/**
 * The small API every unsupervised baseline (PatchCore, PaDiM) shares.
 *
 * Baselines see only the backbone's three taps of each image. `fit` takes the
 * training pool's taps and ignores labels, so a contaminated pool enters their
 * memory exactly as the protocol builds it; few-shot anomalies are not passed in.
 */

/** One image's feature map from one tap: HWC, row-major, float32. */
export interface FeatureMap {
  height: number;
  width: number;
  channels: number;
  data: Float32Array;
}

/** Row-major rows×cols float32 matrix: one point (patch feature) per row. */
export interface PointMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** One image's taps at strides 8, 16, 32 (the `Backbone.forward` order). */
export type ImageTaps = readonly [FeatureMap, FeatureMap, FeatureMap];

/** What callers may pass for one image: plain arrays, or tensors [1,H,W,C] / [H,W,C]. */
export type TapsInput = ImageTaps | readonly [tf.Tensor, tf.Tensor, tf.Tensor];

export interface BaselinePrediction {
  /** Higher = more anomalous. */
  imageScore: number;
  /** Anomaly map at `mapHeight`×`mapWidth` (the input size by default), upsampled and smoothed. */
  map: Float32Array;
  mapHeight: number;
  mapWidth: number;
  /** Raw per-patch scores on the stride-8 grid, before upsampling and smoothing. */
  patchScores: Float32Array;
  gridHeight: number;
  gridWidth: number;
}

export interface PredictOptions {
  /** Size of the returned map; default: the stride-8 grid times 8 (the input size). */
  mapSize?: { height: number; width: number };
}

export type BaselineMethod = 'patchcore' | 'padim';
export const BASELINE_METHODS: readonly BaselineMethod[] = ['patchcore', 'padim'];

export interface FitReport {
  method: BaselineMethod;
  trainImages: number;
  /** Method-specific numbers worth recording (memory size, coreset radius, ...). */
  details: Record<string, number | string>;
}

export interface UnsupervisedBaseline {
  readonly method: BaselineMethod;
  /** Learn from the training pool's taps (labels are never seen). Replaces any earlier fit. */
  fit(train: Iterable<TapsInput> | AsyncIterable<TapsInput>): Promise<FitReport>;
  /** Score one image. Throws if not fitted. */
  predict(taps: TapsInput, opts?: PredictOptions): BaselinePrediction;
  /** Save the fitted state to a folder (every file written atomically, the manifest last). */
  save(dir: string): Promise<void>;
  /** Free any tensors held (the baseline must be fitted or loaded again afterwards). */
  dispose(): void;
}

/** The name of the manifest every saved baseline folder holds. */
export const BASELINE_MANIFEST = 'baseline.json';

/** Which method a saved baseline folder holds (so a loader can dispatch). */
export function savedBaselineMethod(dir: string): BaselineMethod {
  const path = join(dir, BASELINE_MANIFEST);
  if (!existsSync(path)) {
    throw new InputError('no saved baseline here', path, 'point at a folder written by a baseline save (fit first)');
  }
  const method = (JSON.parse(readFileSync(path, 'utf8')) as { method?: string }).method;
  if (!BASELINE_METHODS.includes(method as BaselineMethod)) {
    throw new InputError(`unknown baseline method "${method}"`, path, `expected one of ${BASELINE_METHODS.join(', ')}`);
  }
  return method as BaselineMethod;
}

/** Copy tensor taps into plain arrays (one image); plain taps pass through. */
export function toImageTaps(input: TapsInput): ImageTaps {
  return input.map((tap) => (tap instanceof tf.Tensor ? tensorToFeatureMap(tap) : tap)) as unknown as ImageTaps;
}

function tensorToFeatureMap(t: tf.Tensor): FeatureMap {
  const shape = t.shape;
  if (!(shape.length === 3 || (shape.length === 4 && shape[0] === 1))) {
    throw new Error(`baseline taps must be [1,H,W,C] or [H,W,C] tensors of one image, got [${shape.join(',')}]`);
  }
  const [height, width, channels] = shape.slice(-3);
  return { height, width, channels, data: t.dataSync() as Float32Array };
}

/** Split batched backbone taps [N,H,W,C]×3 into per-image plain taps. */
export function splitBatchTaps(taps: readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]): ImageTaps[] {
  const n = taps[0].shape[0];
  const perTap = taps.map((t) => {
    const [, height, width, channels] = t.shape;
    const data = t.dataSync() as Float32Array;
    const size = height * width * channels;
    return Array.from({ length: n }, (_, i): FeatureMap => ({
      height,
      width,
      channels,
      data: data.slice(i * size, (i + 1) * size),
    }));
  });
  return Array.from({ length: n }, (_, i) => [perTap[0][i], perTap[1][i], perTap[2][i]] as const);
}

/**
 * One feature-cache entry's taps as float32 baseline input, so baselines reuse
 * the detector's cache: `model.fit(cache.group('pool').map(tapsFromCache))`
 * (the pool includes contaminated images, exactly as the protocol built it).
 */
export function tapsFromCache(entry: Pick<CachedFeatures, 'taps'>): ImageTaps {
  return entry.taps.map(({ shape: [height, width, channels], data }) => ({
    height,
    width,
    channels,
    data: float16ToFloat32(data),
  })) as unknown as ImageTaps;
}

/** Checks one image's taps against the shapes seen at fit time; the error says what differs. */
export function checkTapShapes(taps: ImageTaps, expected: readonly (readonly [number, number, number])[]): void {
  taps.forEach((tap, i) => {
    const [h, w, c] = expected[i];
    if (tap.height !== h || tap.width !== w || tap.channels !== c) {
      throw new Error(
        `tap ${i} is ${tap.height}x${tap.width}x${tap.channels} but the baseline was fitted on ${h}x${w}x${c}: ` +
          'use the same backbone and image size as at fit time',
      );
    }
    if (tap.data.length !== h * w * c) {
      throw new Error(`tap ${i} holds ${tap.data.length} values, expected ${h * w * c}`);
    }
  });
}

/** A saved baseline folder: a JSON manifest plus one raw little-endian float32 file per array. */
export interface SavedState {
  method: BaselineMethod;
  /** Config, shapes, fit report: anything JSON. */
  meta: Record<string, unknown>;
  arrays: Record<string, Float32Array>;
}

interface ManifestArray {
  file: string;
  length: number;
  sha256: string;
}

/**
 * Save a baseline's state. Each array file is written atomically and the manifest,
 * which records every file's length and sha256, goes last: a crash mid-save leaves
 * either the old manifest (whose hashes then fail loudly) or the complete new state.
 */
export async function saveBaselineState(dir: string, state: SavedState): Promise<void> {
  const arrays: Record<string, ManifestArray> = {};
  for (const [name, values] of Object.entries(state.arrays)) {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const file = `${name}.f32`;
    await writeFileAtomic(join(dir, file), bytes);
    arrays[name] = { file, length: values.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  const manifest = { format: 'multicue-baseline', version: 1, method: state.method, meta: state.meta, arrays };
  await writeFileAtomic(join(dir, BASELINE_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}

/** Load what `saveBaselineState` wrote, checking every file against the manifest. */
export async function loadBaselineState(dir: string, method: BaselineMethod): Promise<SavedState> {
  const found = savedBaselineMethod(dir);
  const manifestPath = join(dir, BASELINE_MANIFEST);
  if (found !== method) {
    throw new InputError(`this folder holds a ${found} baseline, not ${method}`, manifestPath, `load it as ${found}`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    meta: Record<string, unknown>;
    arrays: Record<string, ManifestArray>;
  };
  const arrays: Record<string, Float32Array> = {};
  for (const [name, entry] of Object.entries(manifest.arrays)) {
    const path = join(dir, entry.file);
    const refit = 'the saved state is incomplete or was overwritten half-way: fit and save the baseline again';
    if (!existsSync(path)) throw new InputError(`missing state file for "${name}"`, path, refit);
    const bytes = readFileSync(path);
    if (bytes.byteLength !== entry.length * 4 || createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
      throw new InputError(`state file for "${name}" does not match its manifest`, path, refit);
    }
    // Copy into a fresh, aligned buffer (Buffer slices may be unaligned for Float32Array).
    const values = new Float32Array(entry.length);
    new Uint8Array(values.buffer).set(bytes);
    arrays[name] = values;
  }
  return { method, meta: manifest.meta, arrays };
}
