import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import { WEIGHT_SOURCES, writeFetchRecord, weightsCacheDir, type DownloadableBackbone, type FetchedFile, type WeightSource } from './weights-cache.ts';

/**
 * Downloads weights into the cache: HTTP(S) with redirects followed, the whole
 * body checked (length, sha256) before anything is written, then written
 * atomically (temp file + rename), so an interrupted or corrupt download never
 * leaves a file the loaders would pick up.
 */

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export type ProgressFn = (info: { file: string; received: number; total: number | null }) => void;

export interface DownloadOptions {
  /** Expected sha256 (hex); a mismatch refuses the download. */
  sha256?: string;
  onProgress?: ProgressFn;
  /** Label for progress callbacks (default: the URL's last path part). */
  label?: string;
  signal?: AbortSignal;
}

export interface Downloaded {
  url: string;
  /** The URL after redirects. */
  finalUrl: string;
  bytes: Uint8Array;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** GET `url` into memory, following redirects; checks length and (optionally) sha256. */
export async function downloadBytes(url: string, opts: DownloadOptions = {}): Promise<Downloaded> {
  const label = opts.label ?? posix.basename(new URL(url).pathname);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: opts.signal });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DownloadError(`cannot reach ${url} (${cause?.code ?? cause?.message ?? (err as Error).message})`, url);
  }
  if (!response.ok) {
    throw new DownloadError(`${url} answered HTTP ${response.status} ${response.statusText}`.trim(), url);
  }
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  const hash = createHash('sha256');
  const chunks: Uint8Array[] = [];
  let received = 0;
  opts.onProgress?.({ file: label, received, total });
  try {
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(chunk);
        hash.update(chunk);
        received += chunk.length;
        opts.onProgress?.({ file: label, received, total });
      }
    }
  } catch (err) {
    throw new DownloadError(`download of ${url} broke off after ${received} bytes (${(err as Error).message})`, url);
  }
  if (total !== null && received !== total) {
    throw new DownloadError(`download of ${url} is truncated: ${received} of ${total} bytes`, url);
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  const sha256 = hash.digest('hex');
  if (opts.sha256 && sha256 !== opts.sha256.toLowerCase()) {
    throw new DownloadError(
      `sha256 mismatch for ${url}: expected ${opts.sha256.toLowerCase()}, got ${sha256}. The file was not kept ` +
        '(a changed or corrupted download; retry, or check the expected hash)',
      url,
    );
  }
  return { url, finalUrl: response.url || url, bytes, sha256 };
}

/** Download `url` to `dest` atomically; nothing is written when a check fails. */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<Downloaded> {
  const got = await downloadBytes(url, opts);
  await writeFileAtomic(dest, got.bytes);
  return got;
}

// ---------------------------------------------------------------------------
// tfjs layers models: model.json, then its shards.
// ---------------------------------------------------------------------------

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * sha256 over the sorted sha256s of each weight tensor's bytes: identifies the
 * weights whatever the sharding, file names or tensor order. `include` filters
 * tensors by name (e.g. to leave out a classifier head).
 */
export function tensorsSha256(
  groups: Array<{ weights: ManifestEntry[] }>,
  data: Uint8Array,
  include: (name: string) => boolean = () => true,
): string {
  const digests: string[] = [];
  let offset = 0;
  for (const w of groups.flatMap((g) => g.weights)) {
    const size = w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.quantization?.dtype ?? w.dtype] ?? NaN);
    if (!Number.isFinite(size)) throw new Error(`weight "${w.name}": unknown dtype`);
    if (include(w.name)) digests.push(sha256Hex(data.subarray(offset, offset + size)));
    offset += size;
  }
  if (offset !== data.length) throw new Error(`weights manifest describes ${offset} bytes, shards hold ${data.length}`);
  return sha256Hex(new TextEncoder().encode(digests.sort().join('\n')));
}

// ---------------------------------------------------------------------------
// Fetching a backbone into the cache.
// ---------------------------------------------------------------------------

export interface FetchOptions {
  cacheDir?: string;
  /** Expected sha256 of the main file (overrides the built-in one). */
  sha256?: string;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

export interface FetchResult {
  name: string;
  /** The file loaders open. */
  path: string;
  files: FetchedFile[];
  /** True when the main file's sha256 was not known beforehand (it is now recorded). */
  sha256WasUnknown: boolean;
}

function relative(source: WeightSource, file: string): string {
  return posix.join(source.subdir, file);
}

/**
 * Download a source into `cacheDir/<subdir>/`. Every byte is checked before the
 * first file is written; for tfjs models the shards are written before
 * model.json, so a present model.json means a complete model.
 */
export async function fetchSource(source: WeightSource, opts: FetchOptions = {}): Promise<FetchResult> {
  const cacheDir = opts.cacheDir ?? weightsCacheDir();
  const dir = join(cacheDir, source.subdir);
  const expected = opts.sha256 ?? source.sha256;
  const main = await downloadBytes(source.url, {
    sha256: expected,
    onProgress: opts.onProgress,
    label: `${source.name}: ${source.mainFile}`,
    signal: opts.signal,
  });
  const files: FetchedFile[] = [{ path: relative(source, source.mainFile), url: source.url, bytes: main.bytes.length, sha256: main.sha256 }];
  const writes: Array<{ path: string; bytes: Uint8Array }> = [];

  if (source.kind === 'tfjs-layers') {
    let json: { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: ManifestEntry[] }> };
    try {
      json = JSON.parse(new TextDecoder().decode(main.bytes));
    } catch {
      throw new DownloadError(`${source.url} is not JSON: not a tfjs model.json`, source.url);
    }
    const groups = json.weightsManifest ?? [];
    if (!json.modelTopology || groups.length === 0) throw new DownloadError(`${source.url} is not a tfjs layers model.json`, source.url);
    const shardBytes: Uint8Array[] = [];
    for (const group of groups) {
      for (const p of group.paths) {
        if (p.includes('..') || posix.isAbsolute(p)) throw new DownloadError(`model.json lists an unsafe shard path "${p}"`, source.url);
        // Shards sit beside model.json (tfjs resolves them against its URL the same way).
        const url = new URL(p, source.url).toString();
        const shard = await downloadBytes(url, { onProgress: opts.onProgress, label: `${source.name}: ${p}`, signal: opts.signal });
        shardBytes.push(shard.bytes);
        writes.push({ path: join(dir, p), bytes: shard.bytes });
        files.push({ path: relative(source, p), url, bytes: shard.bytes.length, sha256: shard.sha256 });
      }
    }
    if (source.tensorsSha256) {
      const all = new Uint8Array(shardBytes.reduce((a, b) => a + b.length, 0));
      let offset = 0;
      for (const b of shardBytes) {
        all.set(b, offset);
        offset += b.length;
      }
      let got: string;
      try {
        got = tensorsSha256(groups, all);
      } catch (err) {
        throw new DownloadError(`the downloaded model is inconsistent: ${(err as Error).message}. Nothing was kept`, source.url);
      }
      if (got !== source.tensorsSha256) {
        throw new DownloadError(
          `the weights served at ${source.url} differ from the ones multicue was validated with ` +
            `(tensor sha256 ${got}, expected ${source.tensorsSha256}). Nothing was kept`,
          source.url,
        );
      }
    }
  }
  // All checks passed: shards first, the main file last.
  for (const w of writes) await writeFileAtomic(w.path, w.bytes);
  const path = join(dir, source.mainFile);
  await writeFileAtomic(path, main.bytes);
  writeFetchRecord(cacheDir, { name: source.name, fetchedAt: new Date().toISOString(), files });
  return { name: source.name, path, files, sha256WasUnknown: !expected };
}

/** Fetch a named backbone's weights into the cache. */
export async function fetchWeights(name: string, opts: FetchOptions = {}): Promise<FetchResult> {
  if (!Object.hasOwn(WEIGHT_SOURCES, name)) {
    throw new InputError(
      `no download for backbone "${name}"`,
      undefined,
      `use one of: ${Object.keys(WEIGHT_SOURCES).join(', ')} (nsfwjs-mobilenetv2 is built in and needs no download)`,
    );
  }
  return fetchSource(WEIGHT_SOURCES[name as DownloadableBackbone], opts);
}
