import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeJsonAtomicSync } from '../util/atomic.ts';

/**
 * Where downloaded backbone weights live, and where each comes from.
 *
 * Cache folder: `MULTICUE_WEIGHTS` (the weights folder itself), else
 * `$MULTICUE_CACHE/weights`, else `$XDG_CACHE_HOME/multicue/weights`, else
 * `~/.cache/multicue/weights`. Each backbone has a fixed sub-path in it, the same
 * layout as the team's shared/weights folder, so `MULTICUE_WEIGHTS=../shared/weights`
 * works for tests and CI.
 */

export type DownloadableBackbone = 'resnet18' | 'mobilenetv2' | 'mobilenetv2-0.35';

export interface WeightSource {
  name: DownloadableBackbone;
  /** Folder under the cache. */
  subdir: string;
  /** The file the loader opens (the safetensors / .tflite file, or model.json). */
  mainFile: string;
  /** Public URL of mainFile. */
  url: string;
  /** 'file': one file. 'tfjs-layers': model.json, then every shard it lists (URLs relative to it). */
  kind: 'file' | 'tfjs-layers';
  /** sha256 of mainFile when known (downloads that differ are refused). */
  sha256?: string;
  /**
   * tfjs models only: sha256 over the sorted per-tensor sha256s of the weights, so the
   * check holds however the server shards the bytes or names the files.
   */
  tensorsSha256?: string;
  description: string;
  origin: string;
  licence: string;
}

export const WEIGHT_SOURCES: Record<DownloadableBackbone, WeightSource> = {
  resnet18: {
    name: 'resnet18',
    subdir: 'resnet18-tv_in1k',
    mainFile: 'model.safetensors',
    url: 'https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors',
    kind: 'file',
    // Unknown here: recorded (and printed) on the first download; pin it with --sha256.
    description: 'ResNet-18, torchvision ImageNet weights (the paper\'s encoder), 45 MB safetensors',
    origin: 'timm/resnet18.tv_in1k on the Hugging Face hub',
    licence: 'BSD-3-Clause (torchvision)',
  },
  mobilenetv2: {
    name: 'mobilenetv2',
    subdir: 'mobilenetv2-coral',
    mainFile: 'mobilenet_v2_1.0_224_quant.tflite',
    url: 'https://github.com/google-coral/test_data/raw/master/mobilenet_v2_1.0_224_quant.tflite',
    kind: 'file',
    sha256: '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776',
    description: 'MobileNetV2 1.0, ImageNet, quantization-aware uint8 TFLite (Coral), 3.6 MB',
    origin: 'google-coral/test_data on GitHub',
    licence: 'Apache-2.0',
  },
  'mobilenetv2-0.35': {
    name: 'mobilenetv2-0.35',
    subdir: 'mobilenetv2-035-tfjs',
    mainFile: 'model.json',
    url: 'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top/model.json',
    kind: 'tfjs-layers',
    // The 260 tensors of the Keras-applications MobileNetV2 α=0.35 no-top ImageNet weights, as
    // in shared/weights/mobilenetv2-035-tfjs (its classifier head left out). Not checked against
    // the live server from here (no network): a differently stored copy (e.g. float16) is refused.
    tensorsSha256: '289b1d2ed9e86684ad2cca762638c1f3a422e0252db459b9042c24f66c4e8c62',
    description: 'MobileNetV2 α=0.35, Keras ImageNet weights, tfjs layers model, 1.7 MB',
    origin: 'the Teachable Machine library\'s public copy (storage.googleapis.com/teachable-machine-models)',
    licence: 'Apache-2.0 (Keras applications weights)',
  },
};

export function isDownloadable(name: string): name is DownloadableBackbone {
  return Object.hasOwn(WEIGHT_SOURCES, name);
}

/** The weights cache folder (see the file comment for the order of lookups). */
export function weightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MULTICUE_WEIGHTS) return env.MULTICUE_WEIGHTS;
  if (env.MULTICUE_CACHE) return join(env.MULTICUE_CACHE, 'weights');
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'multicue', 'weights');
  return join(homedir(), '.cache', 'multicue', 'weights');
}

/** Where a backbone's main weight file sits in a cache folder. */
export function cachedWeightPath(name: DownloadableBackbone, cacheDir: string = weightsCacheDir()): string {
  const s = WEIGHT_SOURCES[name];
  return join(cacheDir, s.subdir, s.mainFile);
}

/** Shard paths a tfjs model.json lists (relative to its folder); [] when unreadable. */
export function tfjsShardPaths(modelJsonPath: string): string[] {
  try {
    const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as { weightsManifest?: Array<{ paths: string[] }> };
    return (json.weightsManifest ?? []).flatMap((g) => g.paths);
  } catch {
    return [];
  }
}

/** True when the backbone's weights are complete in the cache (for tfjs: model.json and every shard). */
export function isCached(name: DownloadableBackbone, cacheDir: string = weightsCacheDir()): boolean {
  const main = cachedWeightPath(name, cacheDir);
  if (!existsSync(main)) return false;
  if (WEIGHT_SOURCES[name].kind !== 'tfjs-layers') return true;
  const shards = tfjsShardPaths(main);
  return shards.length > 0 && shards.every((p) => existsSync(join(dirname(main), p)));
}

// ---------------------------------------------------------------------------
// What was fetched: <cache>/fetched.json records each download's files and hashes.
// ---------------------------------------------------------------------------

export interface FetchedFile {
  /** Relative to the cache folder. */
  path: string;
  url: string;
  bytes: number;
  sha256: string;
}

export interface FetchRecord {
  name: string;
  fetchedAt: string;
  files: FetchedFile[];
}

export const FETCH_RECORDS_FILE = 'fetched.json';

export function readFetchRecords(cacheDir: string = weightsCacheDir()): Record<string, FetchRecord> {
  const file = join(cacheDir, FETCH_RECORDS_FILE);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, FetchRecord>;
  } catch {
    return {};
  }
}

export function writeFetchRecord(cacheDir: string, record: FetchRecord): void {
  const records = readFetchRecords(cacheDir);
  records[record.name] = record;
  writeJsonAtomicSync(join(cacheDir, FETCH_RECORDS_FILE), records);
}

export interface CacheEntry {
  name: DownloadableBackbone;
  path: string;
  present: boolean;
  /** Bytes of the main file plus shards, when present. */
  bytes: number | null;
  /** sha256 of the main file as recorded at download (null when fetched by hand). */
  sha256: string | null;
  fetchedAt: string | null;
}

/** What the cache holds, one entry per downloadable backbone. */
export function listCache(cacheDir: string = weightsCacheDir()): CacheEntry[] {
  const records = readFetchRecords(cacheDir);
  return (Object.keys(WEIGHT_SOURCES) as DownloadableBackbone[]).map((name) => {
    const path = cachedWeightPath(name, cacheDir);
    const present = isCached(name, cacheDir);
    let bytes: number | null = null;
    if (present) {
      const extra = WEIGHT_SOURCES[name].kind === 'tfjs-layers' ? tfjsShardPaths(path).map((p) => join(dirname(path), p)) : [];
      bytes = [path, ...extra].reduce((sum, f) => sum + statSync(f).size, 0);
    }
    const record = records[name];
    const mainRel = join(WEIGHT_SOURCES[name].subdir, WEIGHT_SOURCES[name].mainFile);
    return {
      name,
      path,
      present,
      bytes,
      sha256: record?.files.find((f) => f.path === mainRel)?.sha256 ?? null,
      fetchedAt: record?.fetchedAt ?? null,
    };
  });
}
