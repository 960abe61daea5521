import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  downloadFile,
  DownloadError,
  fetchSource,
  fetchWeights,
  sha256Hex,
  tensorsSha256,
} from '../../src/backbones/download.ts';
import { isCached, listCache, readFetchRecords, WEIGHT_SOURCES, type WeightSource } from '../../src/backbones/weights-cache.ts';
import { InputError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';

// Everything runs against a local server on 127.0.0.1: tests never reach outside hosts.

const rng = new Rng(5);
const payload = Uint8Array.from({ length: 300_000 }, () => rng.int(0, 255));
const PAYLOAD_SHA = sha256Hex(payload);

// A tiny tfjs layers model: two float32 tensors split over two shards.
const tensorA = Float32Array.from({ length: 10 }, () => rng.normal());
const tensorB = Float32Array.from({ length: 20 }, () => rng.normal());
const weightBytes = new Uint8Array([...new Uint8Array(tensorA.buffer), ...new Uint8Array(tensorB.buffer)]);
const manifest = [
  {
    paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
    weights: [
      { name: 'a/kernel', shape: [10], dtype: 'float32' },
      { name: 'b/kernel', shape: [5, 4], dtype: 'float32' },
    ],
  },
];
const modelJson = JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential', config: { layers: [] } }, weightsManifest: manifest });
const shards: Record<string, Uint8Array> = {
  'group1-shard1of2.bin': weightBytes.subarray(0, 50),
  'group1-shard2of2.bin': weightBytes.subarray(50),
};

let server: Server;
let base: string;
const requests: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'multicue-fetch-'));

before(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const send = (body: Uint8Array, type = 'application/octet-stream') => {
      res.writeHead(200, { 'content-type': type, 'content-length': String(body.length) });
      // Several chunks, so progress is reported more than once.
      for (let i = 0; i < body.length; i += 65536) res.write(body.subarray(i, i + 65536));
      res.end();
    };
    if (url === '/file.bin') return send(payload);
    if (url === '/redirect') {
      res.writeHead(302, { location: '/file.bin' });
      return res.end();
    }
    if (url === '/redirect-twice') {
      res.writeHead(301, { location: `${base}/redirect` });
      return res.end();
    }
    if (url === '/truncated') {
      res.writeHead(200, { 'content-length': String(payload.length) });
      res.write(payload.subarray(0, 100_000));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    if (url === '/tm/model.json') return send(new TextEncoder().encode(modelJson), 'application/json');
    const shard = /^\/tm\/(.+)$/.exec(url)?.[1];
    if (shard && shards[shard]) return send(shards[shard]);
    if (url === '/evil/model.json') {
      const evil = JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['../file.bin'], weights: [] }] });
      return send(new TextEncoder().encode(evil));
    }
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** Temporary files left behind in a folder (an atomic write leaves none). */
function leftovers(folder: string): string[] {
  return existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.tmp')) : [];
}

test('download with progress: bytes arrive, counts rise to the total, sha256 checked', async () => {
  const dest = join(dir, 'plain', 'file.bin');
  const events: Array<{ received: number; total: number | null }> = [];
  const got = await downloadFile(`${base}/file.bin`, dest, { sha256: PAYLOAD_SHA, onProgress: (e) => events.push(e) });
  assert.equal(got.sha256, PAYLOAD_SHA);
  assert.deepEqual(new Uint8Array(readFileSync(dest)), payload);
  assert.ok(events.length >= 3, `only ${events.length} progress events`);
  assert.ok(events.every((e) => e.total === payload.length));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].received >= events[i - 1].received);
  assert.equal(events.at(-1)!.received, payload.length);
  assert.deepEqual(leftovers(join(dir, 'plain')), []);
});

test('redirects are followed', async () => {
  const dest = join(dir, 'redirected', 'file.bin');
  const got = await downloadFile(`${base}/redirect-twice`, dest, { sha256: PAYLOAD_SHA });
  assert.ok(got.finalUrl.endsWith('/file.bin'), got.finalUrl);
  assert.deepEqual(new Uint8Array(readFileSync(dest)), payload);
});

test('a sha256 mismatch is refused: nothing written, an existing file is left as it was', async () => {
  const folder = join(dir, 'mismatch');
  const dest = join(folder, 'file.bin');
  await assert.rejects(downloadFile(`${base}/file.bin`, dest, { sha256: '0'.repeat(64) }), (err: unknown) => {
    return err instanceof DownloadError && /sha256 mismatch/.test(err.message) && err.message.includes(PAYLOAD_SHA) && /not kept/.test(err.message);
  });
  assert.equal(existsSync(dest), false);
  mkdirSync(folder, { recursive: true });
  writeFileSync(dest, 'previous good copy');
  await assert.rejects(downloadFile(`${base}/file.bin`, dest, { sha256: 'f'.repeat(64) }), DownloadError);
  assert.equal(readFileSync(dest, 'utf8'), 'previous good copy');
  assert.deepEqual(leftovers(folder), []);
});

test('a connection that breaks off, a 404 and a closed port are errors; nothing is written', async () => {
  const dest = join(dir, 'broken', 'file.bin');
  await assert.rejects(downloadFile(`${base}/truncated`, dest), (err: unknown) => err instanceof DownloadError && /broke off|truncated/.test(err.message));
  await assert.rejects(downloadFile(`${base}/nothing-here`, dest), (err: unknown) => err instanceof DownloadError && /404/.test(err.message));
  await assert.rejects(downloadFile('http://127.0.0.1:1/file.bin', dest), (err: unknown) => err instanceof DownloadError && /cannot reach/.test(err.message));
  assert.equal(existsSync(dest), false);
  assert.deepEqual(leftovers(join(dir, 'broken')), []);
});

const fileSource = (overrides: Partial<WeightSource> = {}): WeightSource => ({
  ...WEIGHT_SOURCES.resnet18,
  url: `${base}/redirect`,
  ...overrides,
});

test('fetch into a cache: unknown sha256 is recorded; --sha256 pins it; the cache lists it', async () => {
  const cacheDir = join(dir, 'cache-file');
  const result = await fetchSource(fileSource(), { cacheDir });
  assert.equal(result.sha256WasUnknown, true);
  assert.equal(result.path, join(cacheDir, 'resnet18-tv_in1k', 'model.safetensors'));
  assert.deepEqual(new Uint8Array(readFileSync(result.path)), payload);
  assert.equal(readFetchRecords(cacheDir).resnet18.files[0].sha256, PAYLOAD_SHA);
  assert.equal(isCached('resnet18', cacheDir), true);
  const entry = listCache(cacheDir).find((e) => e.name === 'resnet18')!;
  assert.equal(entry.present, true);
  assert.equal(entry.sha256, PAYLOAD_SHA);
  assert.equal(entry.bytes, payload.length);

  // A pinned hash that does not match: refused, the cached copy untouched.
  await assert.rejects(fetchSource(fileSource(), { cacheDir, sha256: 'a'.repeat(64) }), DownloadError);
  assert.deepEqual(new Uint8Array(readFileSync(result.path)), payload);
  const pinned = await fetchSource(fileSource(), { cacheDir, sha256: PAYLOAD_SHA });
  assert.equal(pinned.sha256WasUnknown, false);
  assert.deepEqual(leftovers(join(cacheDir, 'resnet18-tv_in1k')), []);
});

test('a built-in sha256 that does not match is refused', async () => {
  const cacheDir = join(dir, 'cache-coral');
  await assert.rejects(
    fetchSource({ ...WEIGHT_SOURCES.mobilenetv2, url: `${base}/file.bin` }, { cacheDir }),
    (err: unknown) => err instanceof DownloadError && err.message.includes(WEIGHT_SOURCES.mobilenetv2.sha256!),
  );
  assert.equal(isCached('mobilenetv2', cacheDir), false);
});

test('tfjs models: model.json then every shard; tensor hash checked; nothing kept when it differs', async () => {
  const expected = tensorsSha256(manifest, weightBytes);
  // The hash does not depend on sharding: one shard with the same tensors gives the same value.
  assert.equal(tensorsSha256([{ weights: manifest[0].weights }], weightBytes), expected);
  assert.notEqual(tensorsSha256(manifest, weightBytes, (n) => n !== 'b/kernel'), expected);

  const source: WeightSource = { ...WEIGHT_SOURCES['mobilenetv2-0.35'], url: `${base}/tm/model.json`, tensorsSha256: expected };
  const badDir = join(dir, 'cache-tm-bad');
  await assert.rejects(
    fetchSource({ ...source, tensorsSha256: 'b'.repeat(64) }, { cacheDir: badDir }),
    (err: unknown) => err instanceof DownloadError && /differ/.test(err.message),
  );
  assert.equal(existsSync(join(badDir, source.subdir)), false);

  const cacheDir = join(dir, 'cache-tm');
  const labels = new Set<string>();
  const result = await fetchSource(source, { cacheDir, onProgress: (e) => labels.add(e.file) });
  assert.equal(result.files.length, 3);
  assert.deepEqual([...labels], ['mobilenetv2-0.35: model.json', 'mobilenetv2-0.35: group1-shard1of2.bin', 'mobilenetv2-0.35: group1-shard2of2.bin']);
  const folder = join(cacheDir, source.subdir);
  assert.equal(readFileSync(join(folder, 'model.json'), 'utf8'), modelJson);
  assert.deepEqual(new Uint8Array(readFileSync(join(folder, 'group1-shard2of2.bin'))), shards['group1-shard2of2.bin']);
  assert.equal(isCached('mobilenetv2-0.35', cacheDir), true);
  // A missing shard makes the cached model incomplete.
  rmSync(join(folder, 'group1-shard1of2.bin'));
  assert.equal(isCached('mobilenetv2-0.35', cacheDir), false);
});

test('shard paths that climb out of the model folder are refused', async () => {
  const source: WeightSource = { ...WEIGHT_SOURCES['mobilenetv2-0.35'], url: `${base}/evil/model.json`, tensorsSha256: undefined };
  const seen = requests.length;
  await assert.rejects(fetchSource(source, { cacheDir: join(dir, 'cache-evil') }), (err: unknown) => err instanceof DownloadError && /unsafe/.test(err.message));
  assert.deepEqual(requests.slice(seen), ['/evil/model.json']);
});

test('unknown names: the error lists what can be fetched', async () => {
  await assert.rejects(fetchWeights('nsfwjs-mobilenetv2', { cacheDir: dir }), (err: unknown) => err instanceof InputError && /mobilenetv2-0.35/.test(err.message));
});
