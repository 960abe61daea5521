import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { globToRegExp, expandGlob } from '../../src/data/glob.ts';
import { readImage, readMask, writePng } from '../../src/data/image.ts';
import { checkDataset, formatSummary, summarizeDataset } from '../../src/data/inspect.ts';
import { loadDataset } from '../../src/data/load-dataset.ts';
import { dataSpecFromOptions, parseDataSpec, readDataSpecFile } from '../../src/data/spec.ts';
import type { Dataset, RgbImage } from '../../src/data/types.ts';
import { REPO_ROOT, sharedPath } from '../../src/util/paths.ts';

function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `multicue-${name}-`));
}

function tinyImage(value: number, size = 8): RgbImage {
  return { width: size, height: size, data: new Float32Array(size * size * 3).fill(value) };
}

async function png(path: string, value = 0.5): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await writePng(path, tinyImage(value));
}

async function maskPng(path: string, size = 8): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const data = new Uint8Array(size * size);
  data.fill(1, 0, size * 2); // top two rows are the defect
  await writePng(path, { width: size, height: size, data });
}

function countBy(ds: Dataset, key: (i: Dataset['items'][number]) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of ds.items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

function assertIdsUniqueAndSorted(ds: Dataset): void {
  const ids = ds.items.map((i) => i.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  assert.deepEqual(ids, [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'items sorted by id');
}

test('glob: segments, classes, braces and ** compile to the right matches', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['*.jpg', ['a.jpg', '.jpg'], ['a.png', 'd/a.jpg', 'a.jpg.png']],
    ['MT_[!F]*/Imgs', ['MT_Blowhole/Imgs', 'MT_Uneven/Imgs'], ['MT_Free/Imgs', 'MT_Fray/Imgs', 'MT_/Imgs']],
    ['MT_{Blowhole,Fray}/Imgs', ['MT_Blowhole/Imgs', 'MT_Fray/Imgs'], ['MT_Free/Imgs']],
    ['img_??.png', ['img_01.png'], ['img_1.png', 'img_001.png']],
    ['[a-c]*.{png,JPG}', ['b1.png', 'c.JPG'], ['d.png', 'b.jpg']],
    ['**/*.png', ['a.png', 'x/a.png', 'x/y/a.png'], ['a.jpg']],
    ['a\\*b', ['a*b'], ['axb']],
  ];
  for (const [pattern, yes, no] of cases) {
    const regex = globToRegExp(pattern);
    for (const s of yes) assert.ok(regex.test(s), `${pattern} should match ${s}`);
    for (const s of no) assert.ok(!regex.test(s), `${pattern} should not match ${s}`);
  }
  assert.ok(globToRegExp('*.jpg', { caseInsensitive: true }).test('A.JPG'));
});

test('glob: expandGlob finds folders and files under a base folder', () => {
  const root = tempDir('glob');
  for (const d of ['A_one/imgs', 'A_two/imgs', 'B/imgs', 'A_three/other']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'A_one/imgs/x.png'), '');
  assert.deepEqual(expandGlob(root, 'A_*/imgs', 'dir').map((m) => m.rel), ['A_one/imgs', 'A_two/imgs']);
  assert.deepEqual(expandGlob(root, 'A_one/imgs/*.png', 'file').map((m) => m.rel), ['A_one/imgs/x.png']);
  assert.deepEqual(expandGlob(root, '**/imgs', 'dir').map((m) => m.rel), ['A_one/imgs', 'A_two/imgs', 'B/imgs']);
  assert.deepEqual(expandGlob(root, 'B/imgs', 'dir').map((m) => m.rel), ['B/imgs']);
  assert.deepEqual(expandGlob(root, 'C/*', 'any'), []);
});

test('MVTec layout: splits, defect classes, masks and stable ids', async () => {
  const root = tempDir('mvtec');
  const cat = join(root, 'widget');
  for (const n of ['000', '001', '002']) await png(join(cat, 'train/good', `${n}.png`));
  for (const n of ['000', '001']) await png(join(cat, 'test/good', `${n}.png`));
  for (const n of ['000', '001']) {
    await png(join(cat, 'test/crack', `${n}.png`), 0.9);
    await maskPng(join(cat, 'ground_truth/crack', `${n}_mask.png`));
  }
  await png(join(cat, 'test/scratch/000.png'), 0.1);
  await png(join(cat, 'test/scratch/001.png'), 0.1);
  await maskPng(join(cat, 'ground_truth/scratch/000_mask.png'));
  writeFileSync(join(cat, 'train/good/notes.txt'), 'not an image');
  // A second category must not leak in.
  await png(join(root, 'other/train/good/000.png'));

  const ds = loadDataset(parseDataSpec({ format: 'mvtec', root, category: 'widget' }));
  assert.equal(ds.format, 'mvtec');
  assert.equal(ds.category, 'widget');
  assert.deepEqual(countBy(ds, (i) => `${i.split}/${i.defect}/${i.label}`), {
    'train/good/0': 3,
    'test/good/0': 2,
    'test/crack/1': 2,
    'test/scratch/1': 2,
  });
  assertIdsUniqueAndSorted(ds);
  const crack = ds.items.find((i) => i.id === 'test/crack/001')!;
  assert.equal(crack.path, join(cat, 'test/crack/001.png'));
  assert.equal(crack.maskPath, join(cat, 'ground_truth/crack/001_mask.png'));
  assert.equal(ds.items.find((i) => i.id === 'test/scratch/001')!.maskPath, null);
  assert.equal(ds.items.find((i) => i.id === 'test/good/000')!.maskPath, null);
  assert.equal(ds.warnings.length, 1);
  assert.match(ds.warnings[0], /1 of 2 anomalous "scratch" images have no mask/);
  assert.match(ds.warnings[0], /001_mask\.png/);

  // Listing is deterministic.
  assert.deepEqual(loadDataset(parseDataSpec({ format: 'mvtec', root, category: 'widget' })), ds);

  const summary = summarizeDataset(ds);
  assert.equal(summary.nominal, 5);
  assert.equal(summary.anomalous, 4);
  assert.equal(summary.masksFound, 3);
  assert.equal(summary.masksMissing, 1);
  const text = formatSummary(summary);
  assert.match(text, /test\s+scratch\s+2\s+1\s+1/);

  const check = await checkDataset(ds, { silent: true });
  assert.equal(check.imagesChecked, 9);
  assert.equal(check.masksChecked, 3);
  assert.deepEqual(check.corrupt, []);
  assert.deepEqual(check.emptyMasks, []);
});

test('VisA layout: the 1-class split CSV, one category, anomalies with masks', async () => {
  const root = tempDir('visa');
  const rows = ['object,split,label,image,mask'];
  for (const n of ['0000', '0001', '0002']) {
    await png(join(root, `candle/Data/Images/Normal/${n}.JPG`));
    rows.push(`candle,train,normal,candle/Data/Images/Normal/${n}.JPG,`);
  }
  await png(join(root, 'candle/Data/Images/Normal/0003.JPG'));
  rows.push('candle,test,normal,candle/Data/Images/Normal/0003.JPG,');
  for (const n of ['000', '001']) {
    await png(join(root, `candle/Data/Images/Anomaly/${n}.JPG`), 0.8);
    rows.push(`candle,test,anomaly,candle/Data/Images/Anomaly/${n}.JPG,candle/Data/Masks/Anomaly/${n}.png`);
  }
  await maskPng(join(root, 'candle/Data/Masks/Anomaly/000.png')); // 001's mask is missing
  rows.push('"capsules",train,normal,capsules/Data/Images/Normal/0000.JPG,'); // other object, file absent: ignored
  mkdirSync(join(root, 'split_csv'), { recursive: true });
  writeFileSync(join(root, 'split_csv/1cls.csv'), rows.join('\r\n') + '\r\n');

  const ds = loadDataset(parseDataSpec({ format: 'visa', root, category: 'candle' }));
  assert.deepEqual(countBy(ds, (i) => `${i.split}/${i.defect}/${i.label}`), {
    'train/good/0': 3,
    'test/good/0': 1,
    'test/anomaly/1': 2,
  });
  assertIdsUniqueAndSorted(ds);
  const a0 = ds.items.find((i) => i.id === 'test/anomaly/000')!;
  assert.equal(a0.maskPath, join(root, 'candle/Data/Masks/Anomaly/000.png'));
  assert.equal(ds.items.find((i) => i.id === 'test/anomaly/001')!.maskPath, null);
  assert.equal(ds.warnings.length, 1);
  assert.match(ds.warnings[0], /1 of 2 anomalous "anomaly" images have no mask/);

  // A CSV elsewhere, named relative to the root.
  mkdirSync(join(root, 'splits'), { recursive: true });
  writeFileSync(join(root, 'splits/mine.csv'), rows.slice(0, 3).join('\n'));
  const custom = loadDataset(dataSpecFromOptions({ format: 'visa', root, category: 'candle', splitCsv: 'splits/mine.csv' }));
  assert.equal(custom.items.length, 2);
});

test('folder layout: {stem}_mask.png beside the images, defect class from the first folder, seeded hold-out', async () => {
  const root = tempDir('folder');
  const nominalNames = Array.from({ length: 10 }, (_, i) => `n${String(i).padStart(2, '0')}`);
  for (const n of nominalNames) await png(join(root, 'good/imgs', `${n}.png`));
  for (const [cls, names] of [
    ['hole', ['a', 'b']],
    ['dent', ['a', 'c']],
  ] as const) {
    for (const n of names) {
      await png(join(root, cls, 'imgs', `${n}.png`), 0.2);
      await maskPng(join(root, cls, 'imgs', `${n}_mask.png`));
    }
  }
  await png(join(root, 'dent/imgs/nomask.png'), 0.2);

  const options = { format: 'folder', root, nominal: ['good/imgs'], anomalous: ['hole/imgs', 'dent/*'] };
  const ds = loadDataset(dataSpecFromOptions(options));
  assert.equal(ds.category, root.split('/').pop());
  assert.deepEqual(countBy(ds, (i) => `${i.split}/${i.defect}/${i.label}`), {
    'train/good/0': 8,
    'test/good/0': 2, // round(0.2 · 10)
    'test/hole/1': 2,
    'test/dent/1': 3,
  });
  assertIdsUniqueAndSorted(ds);
  // The masks matched the default image filter but are not images.
  assert.ok(!ds.items.some((i) => i.path.endsWith('_mask.png')));
  assert.ok(ds.warnings.some((w) => /4 files .* masks of other images/.test(w)));
  assert.ok(ds.warnings.some((w) => /1 of 3 anomalous "dent" images have no mask/.test(w)));
  assert.equal(ds.items.find((i) => i.id === 'test/hole/a')!.maskPath, join(root, 'hole/imgs/a_mask.png'));
  assert.equal(ds.items.find((i) => i.id === 'test/dent/nomask')!.maskPath, null);

  // Same seed → same hold-out; the hold-out moves with the seed.
  const heldOut = (seed: number) =>
    loadDataset(dataSpecFromOptions({ ...options, splitSeed: String(seed) }))
      .items.filter((i) => i.split === 'test' && i.label === 0)
      .map((i) => i.id);
  assert.deepEqual(heldOut(0), heldOut(0));
  const seeds = [1, 2, 3, 4, 5].map((s) => heldOut(s).join());
  assert.ok(new Set(seeds).size > 1, 'different seeds give different hold-outs');

  // Explicit nominal test folders replace the hold-out.
  for (const n of ['t0', 't1', 't2']) await png(join(root, 'good_test', `${n}.png`));
  const withTest = loadDataset(dataSpecFromOptions({ ...options, testNominal: ['good_test'] }));
  assert.equal(withTest.items.filter((i) => i.split === 'train').length, 10);
  assert.equal(withTest.items.filter((i) => i.split === 'test' && i.label === 0).length, 3);

  // Masks in their own tree: --mask-dir with {defect}.
  const root2 = tempDir('folder-maskdir');
  for (const n of ['x', 'y', 'z']) await png(join(root2, 'ok', `${n}.png`));
  await png(join(root2, 'crack/p.png'), 0.9);
  await maskPng(join(root2, 'masks/crack/p.png'));
  const ds2 = loadDataset(
    dataSpecFromOptions({ format: 'folder', root: root2, category: 'demo', nominal: ['ok'], anomalous: ['crack'], maskDir: 'masks/{defect}', maskPattern: '{stem}.png', testFraction: '0' }),
  );
  assert.equal(ds2.category, 'demo');
  assert.equal(ds2.items.find((i) => i.label === 1)!.maskPath, join(root2, 'masks/crack/p.png'));
  assert.equal(ds2.items.filter((i) => i.split === 'train').length, 3);
  assert.ok(!ds2.warnings.some((w) => /pattern uses/.test(w)), 'the mask folder counts as used');
  assert.ok(ds2.warnings.some((w) => /no nominal test images/.test(w)), 'test fraction 0 leaves no nominal test images');

  // A class folder that no pattern names is pointed out (e.g. MT_[!F]* also drops MT_Fray).
  await png(join(root2, 'forgotten/q.png'), 0.9);
  const ds3 = loadDataset(dataSpecFromOptions({ format: 'folder', root: root2, nominal: ['ok'], anomalous: ['crack'], maskDir: 'masks/{defect}', maskPattern: '{stem}.png' }));
  assert.ok(ds3.warnings.some((w) => /no --nominal\/--anomalous pattern uses: forgotten$/.test(w)), ds3.warnings.join());
});

test('data specs: JSON file roots are relative to the file, CLI options override it, defaults filled in', () => {
  const dir = tempDir('spec');
  mkdirSync(join(dir, 'configs'), { recursive: true });
  const file = join(dir, 'configs/spec.json');
  writeFileSync(file, JSON.stringify({ format: 'folder', root: '../data', nominal: ['good'], anomalous: ['bad/*'] }));
  const spec = readDataSpecFile(file);
  assert.equal(spec.root, join(dir, 'data'));
  assert.equal(spec.format, 'folder');
  if (spec.format !== 'folder') throw new Error('unreachable');
  assert.equal(spec.maskPattern, '{stem}_mask.png');
  assert.equal(spec.testFraction, 0.2);
  assert.equal(spec.seed, 0);
  const overridden = dataSpecFromOptions({ data: file, maskPattern: '{stem}.png', splitSeed: '3' });
  assert.ok(overridden.format === 'folder' && overridden.maskPattern === '{stem}.png' && overridden.seed === 3);
  assert.equal(overridden.root, join(dir, 'data'));
});

const MAGNETIC_TILE_OPTIONS = {
  format: 'folder',
  root: sharedPath('data', 'magnetic-tile'),
  category: 'magnetic-tile',
  nominal: ['MT_Free/Imgs'],
  anomalous: ['MT_{Blowhole,Break,Crack,Fray,Uneven}/Imgs'],
  images: '*.jpg',
  maskPattern: '{stem}.png',
};

test('magnetic tile (real data): 952 nominal, 392 defective, every mask found', async () => {
  const ds = loadDataset(dataSpecFromOptions(MAGNETIC_TILE_OPTIONS));
  const summary = summarizeDataset(ds);
  assert.equal(summary.nominal, 952);
  assert.equal(summary.anomalous, 392);
  assert.equal(summary.masksFound, 392);
  assert.equal(summary.masksMissing, 0);
  assert.deepEqual(ds.warnings, []);
  // Per-class counts as SOURCE.md lists them.
  assert.deepEqual(countBy(ds, (i) => i.defect), {
    good: 952,
    MT_Blowhole: 115,
    MT_Break: 85,
    MT_Crack: 57,
    MT_Fray: 32,
    MT_Uneven: 103,
  });
  assert.equal(ds.items.filter((i) => i.split === 'test' && i.label === 0).length, Math.round(0.2 * 952));
  assertIdsUniqueAndSorted(ds);
  assert.ok(ds.items.every((i) => i.path.endsWith('.jpg')));

  // The same dataset spelled with one --anomalous per class.
  const perClass = loadDataset(
    dataSpecFromOptions({ ...MAGNETIC_TILE_OPTIONS, anomalous: ['MT_Blowhole/Imgs', 'MT_Break/Imgs', 'MT_Crack/Imgs', 'MT_Fray/Imgs', 'MT_Uneven/Imgs'] }),
  );
  assert.deepEqual(perClass.items, ds.items);

  // A handful decode: grayscale JPEG → RGB, soft mask → binary with some defect pixels.
  const anomalies = ds.items.filter((i) => i.label === 1 && i.defect !== 'MT_Uneven').slice(0, 3);
  for (const item of anomalies) {
    const image = await readImage(item.path);
    assert.equal(image.data.length, image.width * image.height * 3);
    const mask = await readMask(item.maskPath!, null, image);
    assert.equal(mask.width, image.width);
    assert.ok(mask.data.some((v) => v === 1) && mask.data.some((v) => v === 0));
  }
});

test('CLI: the documented magnetic tile command reports the counts', () => {
  const result = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'bin/multicue.mjs'),
      'data',
      'inspect',
      '--format', 'folder',
      '--root', MAGNETIC_TILE_OPTIONS.root,
      '--category', 'magnetic-tile',
      '--nominal', 'MT_Free/Imgs',
      '--anomalous', 'MT_{Blowhole,Break,Crack,Fray,Uneven}/Imgs',
      '--images', '*.jpg',
      '--mask-pattern', '{stem}.png',
      '--json',
    ],
    { encoding: 'utf8', cwd: REPO_ROOT },
  );
  assert.equal(result.status, 0, result.stderr);
  const { summary } = JSON.parse(result.stdout);
  assert.equal(summary.nominal, 952);
  assert.equal(summary.anomalous, 392);
  assert.equal(summary.masksFound, 392);
});
