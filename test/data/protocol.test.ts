import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyContaminationNoise } from '../../src/data/contamination-noise.ts';
import { manifestJson, readManifest, writeManifest, type Manifest } from '../../src/data/manifest.ts';
import { buildManifest, contaminationCount } from '../../src/data/protocol.ts';
import { parseDataSpec, type DataSpec } from '../../src/data/spec.ts';
import type { Dataset, DatasetItem } from '../../src/data/types.ts';
import { InputError } from '../../src/util/errors.ts';
import { REPO_ROOT, sharedPath } from '../../src/util/paths.ts';

/** An in-memory dataset: the protocol only looks at the listing, never at pixels. */
function makeDataset(nominalTrain: number, nominalTest: number, anomaliesPerDefect: Record<string, number>): Dataset {
  const items: DatasetItem[] = [];
  const pad = (i: number) => String(i).padStart(3, '0');
  for (let i = 0; i < nominalTrain; i++) {
    items.push({ id: `train/good/${pad(i)}`, path: `/d/train/good/${pad(i)}.png`, split: 'train', label: 0, defect: 'good', maskPath: null });
  }
  for (let i = 0; i < nominalTest; i++) {
    items.push({ id: `test/good/${pad(i)}`, path: `/d/test/good/${pad(i)}.png`, split: 'test', label: 0, defect: 'good', maskPath: null });
  }
  for (const [defect, n] of Object.entries(anomaliesPerDefect)) {
    for (let i = 0; i < n; i++) {
      items.push({
        id: `test/${defect}/${pad(i)}`,
        path: `/d/test/${defect}/${pad(i)}.png`,
        split: 'test',
        label: 1,
        defect,
        maskPath: i % 4 === 3 ? null : `/d/ground_truth/${defect}/${pad(i)}_mask.png`,
      });
    }
  }
  items.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { format: 'mvtec', category: 'toy', root: '/d', items, warnings: [] };
}

const SPEC: DataSpec = parseDataSpec({ format: 'mvtec', root: '/d', category: 'toy' });
const DATASET = makeDataset(180, 30, { crack: 20, hole: 25, stain: 15 });
const silent = () => {};

function roleIds(m: Manifest, role: string): string[] {
  return m.items.filter((i) => i.role === role).map((i) => i.id);
}

test('contaminationCount is floor(r/(1-r)·N), exact on integer ratios', () => {
  for (const percent of [5, 10, 15, 20, 25, 50]) {
    for (let n = 0; n <= 1000; n += 7) {
      // Integer arithmetic: r/(1-r)·N = p·N/(100-p).
      assert.equal(contaminationCount(percent / 100, n), Math.floor((percent * n) / (100 - percent)), `r=${percent}% N=${n}`);
    }
  }
  assert.equal(contaminationCount(0.2, 800), 200);
  assert.equal(contaminationCount(0, 500), 0);
});

test('protocol: counts follow the formula, k few-shot, nominal pool = train good', () => {
  for (const ratio of [0, 0.05, 0.1, 0.15, 0.2]) {
    for (const shots of [0, 1, 5, 10]) {
      const m = buildManifest(DATASET, SPEC, { ratio, shots, seed: 3 }, silent);
      const nc = contaminationCount(ratio, 180);
      assert.equal(m.counts.contamination, nc);
      assert.equal(roleIds(m, 'contamination').length, nc);
      assert.equal(m.counts.fewshot, shots);
      assert.equal(m.counts.nominal, 180);
      assert.equal(m.counts.test, 30 + 60 - shots - nc);
      assert.equal(m.counts.testNominal, 30);
      assert.equal(m.counts.testAnomalous, 60 - shots - nc);
      assert.equal(m.counts.contaminationRepeats, 0);
      assert.deepEqual(m.warnings, []);
    }
  }
});

test('protocol: the test set is disjoint from every training anomaly, and the test split is partitioned', () => {
  const m = buildManifest(DATASET, SPEC, { ratio: 0.15, shots: 10, seed: 11 }, silent);
  const trainPaths = new Set(m.items.filter((i) => i.role !== 'test').map((i) => i.path));
  const testItems = m.items.filter((i) => i.role === 'test');
  for (const item of testItems) assert.ok(!trainPaths.has(item.path), `${item.id} is in training and test`);
  // Every test-split image is either drawn for training or kept for testing, once.
  const used = m.items.filter((i) => i.role === 'fewshot' || i.role === 'contamination').map((i) => i.path);
  const all = [...used, ...testItems.map((i) => i.path)].sort();
  const testSplit = DATASET.items.filter((i) => i.split === 'test').map((i) => i.path).sort();
  assert.deepEqual(all, testSplit);
  // Roles, labels and what the learner sees.
  for (const item of m.items) {
    if (item.role === 'nominal') assert.ok(item.label === 0 && item.trainLabel === 0 && item.noiseSeed === undefined);
    if (item.role === 'contamination') assert.ok(item.label === 1 && item.trainLabel === 0 && Number.isInteger(item.noiseSeed));
    if (item.role === 'fewshot') assert.ok(item.label === 1 && item.trainLabel === 1 && item.noiseSeed === undefined);
    if (item.role === 'test') assert.ok(!('trainLabel' in item) && item.noiseSeed === undefined);
  }
  const ids = m.items.map((i) => i.id);
  assert.equal(new Set(ids).size, ids.length);
  // Masks travel with the items (null where the dataset has none).
  const withMask = DATASET.items.find((i) => i.label === 1 && i.maskPath)!;
  assert.equal(m.items.find((i) => i.path === withMask.path)!.maskPath, withMask.maskPath);
});

test('protocol: same seed gives identical JSON, another seed a different draw; draws are nested', () => {
  const a = manifestJson(buildManifest(DATASET, SPEC, { ratio: 0.1, shots: 10, seed: 0 }, silent));
  const b = manifestJson(buildManifest(DATASET, SPEC, { ratio: 0.1, shots: 10, seed: 0 }, silent));
  const c = buildManifest(DATASET, SPEC, { ratio: 0.1, shots: 10, seed: 1 }, silent);
  assert.equal(a, b);
  assert.notEqual(a, manifestJson(c));
  assert.notDeepEqual(roleIds(JSON.parse(a), 'fewshot'), roleIds(c, 'fewshot'));

  const k5 = roleIds(buildManifest(DATASET, SPEC, { ratio: 0.1, shots: 5, seed: 0 }, silent), 'fewshot');
  const k10 = roleIds(JSON.parse(a), 'fewshot');
  for (const id of k5) assert.ok(k10.includes(id), 'the 5-shot set is inside the 10-shot set');
  const r05 = buildManifest(DATASET, SPEC, { ratio: 0.05, shots: 10, seed: 0 }, silent);
  const r20 = buildManifest(DATASET, SPEC, { ratio: 0.2, shots: 10, seed: 0 }, silent);
  const r20ById = new Map(r20.items.map((i) => [i.id, i]));
  for (const item of r05.items.filter((i) => i.role === 'contamination')) {
    const same = r20ById.get(item.id);
    assert.ok(same && same.role === 'contamination', '5% contamination is inside 20% contamination');
    assert.equal(same.noiseSeed, item.noiseSeed, 'an image keeps its noise across ratios');
  }
});

test('protocol: too few anomalies is refused, --with-replacement repeats with distinct ids and noise', () => {
  const small = makeDataset(100, 10, { crack: 8, hole: 6 }); // 14 anomalies
  // r = 0.2 → n_c = 25, plus 3 few-shot = 28 > 14.
  assert.throws(
    () => buildManifest(small, SPEC, { ratio: 0.2, shots: 3, seed: 0 }, silent),
    (err: unknown) =>
      err instanceof InputError &&
      /needs .*25 contaminating anomalies plus 3 few-shot anomalies = 28/.test(err.message) &&
      /only 14 anomalous test images/.test(err.message) &&
      /--with-replacement/.test(err.message),
  );
  assert.throws(() => buildManifest(small, SPEC, { ratio: 0, shots: 15, seed: 0 }, silent), /lower --shots to at most 14/);

  const warnings: string[] = [];
  const m = buildManifest(small, SPEC, { ratio: 0.2, shots: 3, seed: 0, withReplacement: true }, (w) => warnings.push(w));
  assert.equal(m.params.withReplacement, true);
  assert.equal(m.counts.contamination, 25);
  assert.equal(m.counts.fewshot, 3);
  assert.equal(m.counts.contaminationRepeats, 25 - 11);
  assert.equal(m.counts.testAnomalous, 0);
  assert.ok(warnings.some((w) => /WITH REPLACEMENT/.test(w)));
  assert.ok(m.warnings.some((w) => /WITH REPLACEMENT/.test(w)));
  assert.ok(m.warnings.some((w) => /no anomalous images left/.test(w)));
  const contamination = m.items.filter((i) => i.role === 'contamination');
  assert.equal(new Set(contamination.map((i) => i.id)).size, 25);
  assert.equal(new Set(contamination.map((i) => i.noiseSeed)).size, 25);
  assert.ok(contamination.some((i) => i.id.endsWith('#2')));
  // Every remaining anomaly is used before any is used a third time (25 = 2·11 + 3).
  const uses = new Map<string, number>();
  for (const item of contamination) uses.set(item.path, (uses.get(item.path) ?? 0) + 1);
  assert.equal(uses.size, 11);
  assert.ok([...uses.values()].every((n) => n >= 2 && n <= 3));
  // The flag changes nothing when there are enough anomalies.
  const plenty = { ratio: 0.05, shots: 2, seed: 0 };
  const without = buildManifest(small, SPEC, plenty, silent);
  const withFlag = buildManifest(small, SPEC, { ...plenty, withReplacement: true }, silent);
  assert.deepEqual(withFlag.items, without.items);
});

test('protocol: bad parameters name the option', () => {
  assert.throws(() => buildManifest(DATASET, SPEC, { ratio: 1, shots: 1, seed: 0 }, silent), /ratio \(--ratio\)/);
  assert.throws(() => buildManifest(DATASET, SPEC, { ratio: 0.1, shots: 1.5, seed: 0 }, silent), /shots \(--shots\)/);
  assert.throws(() => buildManifest(DATASET, SPEC, { ratio: 0.1, shots: 1, seed: -1 }, silent), /seed \(--seed\)/);
});

test('manifest: write then read gives the same manifest and bytes; a bad key is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-manifest-'));
  const m = buildManifest(DATASET, SPEC, { ratio: 0.1, shots: 4, seed: 5, noiseStd: 0.2 }, silent);
  const path = join(dir, 'sub/manifest.json');
  writeManifest(path, m);
  const back = readManifest(path);
  assert.deepEqual(back, m);
  assert.equal(manifestJson(back), readFileSync(path, 'utf8'));
  assert.equal(back.params.noiseStd, 0.2);
  assert.doesNotMatch(readFileSync(path, 'utf8'), /20\d\d-\d\d-\d\dT/, 'no timestamps');

  const raw = JSON.parse(readFileSync(path, 'utf8'));
  raw.items[3].role = 'bogus';
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(raw));
  assert.throws(
    () => readManifest(join(dir, 'bad.json')),
    (err: unknown) => err instanceof InputError && /items\[3\]\.role/.test(err.message) && err.path === join(dir, 'bad.json'),
  );
  const raw2 = JSON.parse(readFileSync(path, 'utf8'));
  raw2.counts.fewshot = 99;
  delete raw2.items.find((i: { role: string }) => i.role === 'contamination').noiseSeed;
  writeFileSync(join(dir, 'bad2.json'), JSON.stringify(raw2));
  assert.throws(() => readManifest(join(dir, 'bad2.json')), /counts\.fewshot: says 99.*noiseSeed: required|noiseSeed: required.*counts\.fewshot/s);
  writeFileSync(join(dir, 'bad3.json'), '{"version": 1,');
  assert.throws(() => readManifest(join(dir, 'bad3.json')), /not valid JSON/);
  assert.throws(() => readManifest(join(dir, 'missing.json')), (err: unknown) => err instanceof InputError && /not found/.test(err.message));
});

test('contamination noise: zero-mean Gaussian of the given std, clamped, reproducible from its seed', () => {
  const size = 64;
  const grey = { width: size, height: size, data: new Float32Array(size * size * 3).fill(0.5) };
  const a = applyContaminationNoise(grey, 0.1, 1234);
  const b = applyContaminationNoise(grey, 0.1, 1234);
  const c = applyContaminationNoise(grey, 0.1, 1235);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.equal(grey.data[0], 0.5, 'the input is not modified');
  let sum = 0;
  let sq = 0;
  for (const v of a.data) {
    sum += v - 0.5;
    sq += (v - 0.5) ** 2;
  }
  const n = a.data.length;
  const mean = sum / n;
  const std = Math.sqrt(sq / n - mean * mean);
  assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.1) < 0.005, `std ${std}`);

  const bright = { width: size, height: size, data: new Float32Array(size * size * 3).fill(0.98) };
  const clamped = applyContaminationNoise(bright, 0.3, 7);
  assert.ok(clamped.data.every((v) => v >= 0 && v <= 1));
  assert.ok(clamped.data.some((v) => v === 1));
  assert.deepEqual(applyContaminationNoise(grey, 0, 9).data, grey.data);
});

test('CLI split on magnetic tile: counts printed, same seed → byte-identical manifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-split-'));
  const args = (out: string, seed: string) => [
    join(REPO_ROOT, 'bin/multicue.mjs'),
    'split',
    '--format', 'folder',
    '--root', sharedPath('data', 'magnetic-tile'),
    '--nominal', 'MT_Free/Imgs',
    '--anomalous', 'MT_{Blowhole,Break,Crack,Fray,Uneven}/Imgs',
    '--images', '*.jpg',
    '--mask-pattern', '{stem}.png',
    '--ratio', '0.1',
    '--shots', '10',
    '--seed', seed,
    '--out', out,
  ];
  const first = spawnSync(process.execPath, args(join(dir, 'a.json'), '0'), { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  const second = spawnSync(process.execPath, args(join(dir, 'b.json'), '0'), { encoding: 'utf8' });
  assert.equal(second.status, 0, second.stderr);
  assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), readFileSync(join(dir, 'b.json'), 'utf8'));
  const m = readManifest(join(dir, 'a.json'));
  const nominalTrain = 952 - Math.round(0.2 * 952);
  const nc = contaminationCount(0.1, nominalTrain);
  assert.deepEqual(
    [m.counts.nominal, m.counts.contamination, m.counts.fewshot, m.counts.testAnomalous, m.counts.testNominal],
    [nominalTrain, nc, 10, 392 - 10 - nc, 952 - nominalTrain],
  );
  assert.match(first.stdout, new RegExp(`contamination\\s+${nc}\\b`));
  assert.match(first.stdout, new RegExp(`fewshot\\s+10\\b`));
});
