import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backbone } from '../backbones/types.ts';
import { imageSize as imageFileSize, readImage, readMask } from '../data/image.ts';
import type { AnomalySource } from '../data/anomaly-source.ts';
import { applyContaminationNoise } from '../data/contamination-noise.ts';
import type { Manifest } from '../data/manifest.ts';
import { makePseudoAnomaly } from '../data/pseudo-anomaly.ts';
import type { DatasetItem, ImageGeometry, Mask, RgbImage } from '../data/types.ts';
import { backboneIdentity, type BackboneIdentity } from '../model/spec.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError, type WarnFn, warnToStderr } from '../util/errors.ts';
import { progress } from '../util/progress.ts';
import { hashString, Rng } from '../util/rng.ts';

/**
 * Feature cache. With a frozen encoder every image goes through the backbone
 * once: pool images, a fixed seeded set of P pseudo-anomaly variants per pool
 * image, few-shot anomalies and test images. The three taps are kept at native
 * resolution in float16, in memory and optionally on disk, where they are
 * keyed by what the pixels came from (file path + mtime + size, the noise or
 * pseudo-anomaly seed) under a folder per backbone weights and geometry, so
 * later runs and every cell of a sweep reuse them. The trainer and the scorer
 * touch only this cache.
 *
 * What an item's pixels are is up to a FeatureSource, a small provider the
 * caller writes (or builds with the helpers below): the CLI plugs dataset
 * loading, contamination noise and pseudo-anomaly generation in there.
 */

// ---------------------------------------------------------------------------
// float16 storage

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a number, rounded to nearest even (overflow → ±Inf, NaN kept). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-one mantissa into place.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Every binary16 bit pattern decoded once (256 KiB): decoding is then one lookup. */
const HALF_TABLE: Float32Array = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
})();

export function fromFloat16Bits(bits: number): number {
  return HALF_TABLE[bits & 0xffff];
}

export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]);
  return out;
}

export function float16ToFloat32(bits: Uint16Array, out = new Float32Array(bits.length), offset = 0): Float32Array {
  for (let i = 0; i < bits.length; i++) out[offset + i] = HALF_TABLE[bits[i]];
  return out;
}

// ---------------------------------------------------------------------------
// What goes in

/** Role of an item: training pool, pseudo-anomaly variant, few-shot anomaly, test. */
export type FeatureGroup = 'pool' | 'pseudo' | 'fewshot' | 'test';

export interface LoadedImage {
  /** RGB in [0,1] at the cache's image size. */
  image: RgbImage;
  /** Pixel truth at the same size; null when unknown (those pixels are ignored in training). */
  mask: Mask | null;
}

/** An item and how to get its pixels. */
export interface FeatureSource {
  /** Unique within the cache (e.g. "train/good/001", "train/good/001#pseudo2"). */
  id: string;
  group: FeatureGroup;
  /** The label the learner is told: pool 0 (even when contaminated), pseudo/few-shot 1, test: its label. */
  trainLabel: 0 | 1;
  /** Ground truth, for diagnostics and evaluation only (a contaminated pool image has 1). */
  trueLabel: 0 | 1;
  /** Defect class, or "good". */
  defect?: string;
  /** Identifies the pixels (file, mtime, size, noise/pseudo seed) for the disk cache; null: memory only. */
  contentKey: string | null;
  load(): Promise<LoadedImage>;
}

/** Cache key of a file: path, modification time and size (so an edited file is re-extracted). */
export function fileContentKey(path: string): string {
  if (!existsSync(path)) throw new InputError('file not found', path, 'check the dataset folder or regenerate its listing');
  const st = statSync(path);
  return `${path}|${Math.round(st.mtimeMs)}|${st.size}`;
}

export interface DatasetItemSourceOptions {
  group: FeatureGroup;
  /** Defaults: pool 0, pseudo/few-shot 1, test: the item's label. */
  trainLabel?: 0 | 1;
  /** Pixel change applied after reading (e.g. contamination noise); its key joins the content key. */
  transform?: { key: string; apply(image: RgbImage): RgbImage };
  /** Also read the ground-truth mask (default: for few-shot and test items). */
  withMask?: boolean;
  warn?: WarnFn;
}

/** A FeatureSource for a dataset item read at a geometry. Nominal items get an all-zero mask. */
export function datasetItemSource(item: DatasetItem, geometry: ImageGeometry, opts: DatasetItemSourceOptions): FeatureSource {
  const { group } = opts;
  const trainLabel = opts.trainLabel ?? (group === 'pool' ? 0 : group === 'test' ? item.label : 1);
  const withMask = opts.withMask ?? (group === 'fewshot' || group === 'test');
  const parts = [fileContentKey(item.path)];
  if (opts.transform) parts.push(`transform:${opts.transform.key}`);
  if (withMask && item.maskPath) parts.push(`mask:${fileContentKey(item.maskPath)}`);
  return {
    id: item.id,
    group,
    trainLabel,
    trueLabel: item.label,
    defect: item.defect,
    contentKey: parts.join('|'),
    async load() {
      let image = await readImage(item.path, geometry);
      if (opts.transform) image = opts.transform.apply(image);
      let mask: Mask | null = null;
      if (withMask) {
        if (item.label === 0) mask = { width: image.width, height: image.height, data: new Uint8Array(image.width * image.height) };
        else if (item.maskPath) mask = await readMask(item.maskPath, geometry, await imageFileSize(item.path), opts.warn ?? warnToStderr);
      }
      return { image, mask };
    },
  };
}

/** Makes one pseudo-anomaly of an image (e.g. makePseudoAnomaly bound to an anomaly source). */
export type PseudoAnomalyGenerator = (image: RgbImage, rng: Rng) => { image: RgbImage; mask: Mask } | Promise<{ image: RgbImage; mask: Mask }>;

export interface PseudoAnomalySourceOptions {
  /** Variants per pool image (P). */
  variants: number;
  /** Run seed: variant v of item i is drawn from Rng(hash(seed, i, v)), fixed across runs. */
  seed: number | string;
  generate: PseudoAnomalyGenerator;
  /** Identifies the generator and its anomaly source in disk-cache keys (change it when they change). */
  generatorKey: string;
}

/** P seeded pseudo-anomaly variants of each pool source (group "pseudo", train label 1). */
export function pseudoAnomalySources(pool: readonly FeatureSource[], opts: PseudoAnomalySourceOptions): FeatureSource[] {
  const out: FeatureSource[] = [];
  for (const base of pool) {
    for (let v = 0; v < opts.variants; v++) {
      const variantSeed = hashString(`${opts.seed}|${base.id}|${v}`);
      out.push({
        id: `${base.id}#pseudo${v}`,
        group: 'pseudo',
        trainLabel: 1,
        trueLabel: 1,
        defect: 'pseudo',
        contentKey: base.contentKey ? `${base.contentKey}|pseudo:${opts.generatorKey}:${variantSeed}` : null,
        async load() {
          const { image } = await base.load();
          const made = await opts.generate(image, new Rng(variantSeed));
          return { image: made.image, mask: made.mask };
        },
      });
    }
  }
  return out;
}

/** The usual generator: METHOD Eq. 1 with a texture drawn from `source` (all draws from the variant's Rng). */
export function pseudoAnomalyGenerator(source: AnomalySource): PseudoAnomalyGenerator {
  return async (image, rng) => {
    const texture = await source.draw(rng.fork('source'), image.width, image.height);
    const made = makePseudoAnomaly(image, texture, rng.fork('blend'));
    return { image: made.image, mask: made.mask };
  };
}

export interface ManifestSourcesOptions {
  /** Pseudo-anomaly variants of every pool image (nominal and contamination); omitted: none. */
  pseudo?: PseudoAnomalySourceOptions;
  warn?: WarnFn;
}

/**
 * Every item of an experiment's manifest as a FeatureSource: nominal and
 * contamination images form the pool (train label 0; contamination gets its
 * seeded noise), few-shot anomalies (label 1, with their masks when known),
 * test images (with masks), plus P pseudo-anomaly variants per pool image.
 */
export function manifestFeatureSources(manifest: Manifest, geometry: ImageGeometry, opts: ManifestSourcesOptions = {}): FeatureSource[] {
  const noiseStd = manifest.params.noiseStd;
  const pool: FeatureSource[] = [];
  const rest: FeatureSource[] = [];
  for (const m of manifest.items) {
    const item: DatasetItem = {
      id: m.id,
      path: m.path,
      split: m.role === 'nominal' ? 'train' : 'test',
      label: m.label,
      defect: m.defect,
      maskPath: m.maskPath,
    };
    const warn = opts.warn ?? warnToStderr;
    if (m.role === 'nominal') pool.push(datasetItemSource(item, geometry, { group: 'pool', warn }));
    else if (m.role === 'contamination') {
      const seed = m.noiseSeed ?? 0;
      pool.push(
        datasetItemSource(item, geometry, {
          group: 'pool',
          trainLabel: 0,
          warn,
          transform: { key: `noise:${noiseStd}:${seed}`, apply: (image) => applyContaminationNoise(image, noiseStd, seed) },
        }),
      );
    } else rest.push(datasetItemSource(item, geometry, { group: m.role, warn }));
  }
  const pseudo = opts.pseudo && opts.pseudo.variants > 0 ? pseudoAnomalySources(pool, opts.pseudo) : [];
  return [...pool, ...pseudo, ...rest];
}

// ---------------------------------------------------------------------------
// What is kept

/** A float16 HWC tensor. */
export interface HalfTensor {
  shape: [number, number, number];
  data: Uint16Array;
}

export interface CachedFeatures {
  id: string;
  group: FeatureGroup;
  trainLabel: 0 | 1;
  trueLabel: 0 | 1;
  defect?: string;
  /** Taps at strides 8, 16, 32. */
  taps: [HalfTensor, HalfTensor, HalfTensor];
  /** imageSize² pixel truth; null when unknown. */
  mask: Uint8Array | null;
}

export class FeatureCache {
  private readonly byId = new Map<string, CachedFeatures>();

  constructor(
    readonly backbone: BackboneIdentity,
    readonly imageSize: number,
    readonly entries: readonly CachedFeatures[],
  ) {
    for (const e of entries) {
      if (this.byId.has(e.id)) throw new Error(`feature cache: duplicate item id ${e.id}`);
      this.byId.set(e.id, e);
    }
  }

  group(group: FeatureGroup): CachedFeatures[] {
    return this.entries.filter((e) => e.group === group);
  }

  get(id: string): CachedFeatures {
    const entry = this.byId.get(id);
    if (!entry) throw new Error(`feature cache: no item ${id}`);
    return entry;
  }

  /** Bytes held by the features and masks. */
  byteSize(): number {
    return this.entries.reduce(
      (sum, e) => sum + e.taps.reduce((s, t) => s + t.data.byteLength, 0) + (e.mask?.byteLength ?? 0),
      0,
    );
  }

  /** The taps of a batch as float32 tensors [B, h, w, c] (caller disposes). */
  tapTensors(items: readonly CachedFeatures[]): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
    return tapTensors(items);
  }
}

export function tapTensors(items: readonly CachedFeatures[]): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  if (items.length === 0) throw new Error('tapTensors: empty batch');
  return [0, 1, 2].map((t) => {
    const shape = items[0].taps[t].shape;
    const size = shape[0] * shape[1] * shape[2];
    const values = new Float32Array(items.length * size);
    items.forEach((item, i) => {
      const tap = item.taps[t];
      if (tap.shape.join() !== shape.join()) {
        throw new Error(`tapTensors: ${item.id} has tap ${t} of shape ${tap.shape} but ${items[0].id} has ${shape}`);
      }
      float16ToFloat32(tap.data, values, i * size);
    });
    return tf.tensor4d(values, [items.length, ...shape]);
  }) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}

// ---------------------------------------------------------------------------
// Disk entries: "MCF1", u32 header length, JSON header, float16 taps, mask bytes.

const MAGIC = 'MCF1';

interface DiskHeader {
  contentKey: string;
  shapes: [number, number, number][];
  maskLength: number;
}

/** The folder holding one backbone's features at one geometry. */
export function featureCacheFolder(root: string, backbone: BackboneIdentity, geometry: ImageGeometry): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(root, `${safe(backbone.name)}@${safe(backbone.weightsId)}`, `${geometry.size}-${geometry.resize}`);
}

function entryPath(folder: string, contentKey: string): string {
  return join(folder, `${createHash('sha256').update(contentKey).digest('hex').slice(0, 40)}.mcf`);
}

function encodeEntry(contentKey: string, taps: HalfTensor[], mask: Uint8Array | null): Uint8Array {
  const header: DiskHeader = { contentKey, shapes: taps.map((t) => t.shape), maskLength: mask ? mask.length : -1 };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length % 2) json = Buffer.concat([json, Buffer.from(' ')]); // keep the float16 data 2-byte aligned
  const tapBytes = taps.reduce((s, t) => s + t.data.byteLength, 0);
  const out = new Uint8Array(8 + json.length + tapBytes + (mask?.length ?? 0));
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  let offset = 8 + json.length;
  for (const t of taps) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offset);
    offset += t.data.byteLength;
  }
  if (mask) out.set(mask, offset);
  return out;
}

function decodeEntry(bytes: Buffer, contentKey: string): { taps: HalfTensor[]; mask: Uint8Array | null } | null {
  if (bytes.length < 8 || bytes.toString('ascii', 0, 4) !== MAGIC) return null;
  const headerLength = bytes.readUInt32LE(4);
  let header: DiskHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength)) as DiskHeader;
  } catch {
    return null;
  }
  // A hash collision or a stale file: only an exact key match counts.
  if (header.contentKey !== contentKey) return null;
  let offset = 8 + headerLength;
  const taps: HalfTensor[] = [];
  for (const shape of header.shapes) {
    const count = shape[0] * shape[1] * shape[2];
    if (offset + count * 2 > bytes.length) return null;
    // Copy into a fresh aligned buffer (the file buffer may be a pooled slice).
    const data = new Uint16Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + count * 2));
    taps.push({ shape, data });
    offset += count * 2;
  }
  let mask: Uint8Array | null = null;
  if (header.maskLength >= 0) {
    if (offset + header.maskLength > bytes.length) return null;
    mask = new Uint8Array(bytes.subarray(offset, offset + header.maskLength));
  }
  return { taps, mask };
}

// ---------------------------------------------------------------------------
// Building

export interface BuildFeatureCacheOptions {
  geometry: ImageGeometry;
  /** Root of the on-disk cache (e.g. .cache/features); null/undefined keeps everything in memory. */
  cacheDir?: string | null;
  /** Images per backbone pass. */
  batchSize?: number;
  silent?: boolean;
  /** Called after each batch with (done, total, reusedFromDisk). */
  onProgress?: (done: number, total: number, reused: number) => void;
}

export interface FeatureCacheStats {
  extracted: number;
  reusedFromDisk: number;
  seconds: number;
}

/**
 * Extract (or reuse from disk) the taps of every source with a frozen backbone.
 * Sources are read a batch ahead of the backbone so decoding overlaps compute.
 */
export async function buildFeatureCache(
  backbone: Backbone,
  sources: readonly FeatureSource[],
  opts: BuildFeatureCacheOptions,
): Promise<{ cache: FeatureCache; stats: FeatureCacheStats }> {
  const started = Date.now();
  const identity = backboneIdentity(backbone);
  const size = opts.geometry.size;
  const folder = opts.cacheDir ? featureCacheFolder(opts.cacheDir, identity, opts.geometry) : null;
  const found = new Map<string, { taps: HalfTensor[]; mask: Uint8Array | null }>();
  const seen = new Set<string>();
  for (const s of sources) {
    if (seen.has(s.id)) throw new Error(`buildFeatureCache: duplicate source id ${s.id}`);
    seen.add(s.id);
    if (!folder || !s.contentKey) continue;
    const path = entryPath(folder, s.contentKey);
    if (!existsSync(path)) continue;
    const decoded = decodeEntry(await readFile(path), s.contentKey);
    if (decoded) found.set(s.id, decoded);
  }
  const todo = sources.filter((s) => !found.has(s.id));
  const bar = progress('features', sources.length, { silent: opts.silent, unit: 'img' });
  bar.tick(found.size, 'from disk');
  opts.onProgress?.(found.size, sources.length, found.size);

  const batchSize = Math.max(1, opts.batchSize ?? 8);
  const load = (start: number) => {
    const batch = Promise.all(
      todo.slice(start, start + batchSize).map(async (s) => {
        const loaded = await s.load();
        checkLoaded(s, loaded, size);
        return loaded;
      }),
    );
    // Read ahead: the rejection is handled when the batch is awaited, not at once.
    batch.catch(() => {});
    return batch;
  };
  const extracted = new Map<string, { taps: HalfTensor[]; mask: Uint8Array | null }>();
  let pending = todo.length ? load(0) : null;
  for (let start = 0; start < todo.length; start += batchSize) {
    const loaded = await pending!;
    pending = start + batchSize < todo.length ? load(start + batchSize) : null;
    const batch = todo.slice(start, start + batchSize);
    const tapsPerItem = await extractHalfTaps(backbone, loaded.map((l) => l.image), size);
    const writes: Promise<void>[] = [];
    batch.forEach((s, i) => {
      const mask = loaded[i].mask ? loaded[i].mask!.data : null;
      extracted.set(s.id, { taps: tapsPerItem[i], mask });
      if (folder && s.contentKey) {
        writes.push(writeFileAtomic(entryPath(folder, s.contentKey), encodeEntry(s.contentKey, tapsPerItem[i], mask)));
      }
    });
    await Promise.all(writes);
    bar.tick(batch.length);
    opts.onProgress?.(found.size + start + batch.length, sources.length, found.size);
  }
  bar.done();

  const entries: CachedFeatures[] = sources.map((s) => {
    const f = found.get(s.id) ?? extracted.get(s.id)!;
    return {
      id: s.id,
      group: s.group,
      trainLabel: s.trainLabel,
      trueLabel: s.trueLabel,
      ...(s.defect !== undefined ? { defect: s.defect } : {}),
      taps: f.taps as [HalfTensor, HalfTensor, HalfTensor],
      mask: f.mask,
    };
  });
  return {
    cache: new FeatureCache(identity, size, entries),
    stats: { extracted: todo.length, reusedFromDisk: found.size, seconds: (Date.now() - started) / 1000 },
  };
}

function checkLoaded(source: FeatureSource, loaded: LoadedImage, size: number): void {
  const { image, mask } = loaded;
  if (image.width !== size || image.height !== size || image.data.length !== size * size * 3) {
    throw new InputError(
      `item ${source.id} is ${image.width}×${image.height}, the cache needs ${size}×${size} RGB`,
      undefined,
      'read images with the run geometry (readImage(path, geometry))',
    );
  }
  if (mask && (mask.width !== size || mask.height !== size)) {
    throw new InputError(`mask of item ${source.id} is ${mask.width}×${mask.height}, expected ${size}×${size}`);
  }
}

/** Stack images into [N, S, S, 3] (caller disposes). */
export function imagesToTensor(images: readonly RgbImage[], size: number): tf.Tensor4D {
  const values = new Float32Array(images.length * size * size * 3);
  images.forEach((img, i) => values.set(img.data, i * size * size * 3));
  return tf.tensor4d(values, [images.length, size, size, 3]);
}

/** One backbone pass over a batch of images; taps per image in float16. */
export async function extractHalfTaps(backbone: Backbone, images: readonly RgbImage[], size: number): Promise<HalfTensor[][]> {
  const input = imagesToTensor(images, size);
  const taps = backbone.forward(input);
  input.dispose();
  try {
    const perItem: HalfTensor[][] = images.map(() => []);
    for (const tap of taps) {
      const [n, h, w, c] = tap.shape;
      const values = (await tap.data()) as Float32Array;
      const per = h * w * c;
      for (let i = 0; i < n; i++) {
        perItem[i].push({ shape: [h, w, c], data: float32ToFloat16(values.subarray(i * per, (i + 1) * per)) });
      }
    }
    return perItem;
  } finally {
    for (const t of taps) t.dispose();
  }
}
