import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { encodePng, readImage, readMask, writePng } from '../../src/data/image.ts';
import { checkDataset } from '../../src/data/inspect.ts';
import { loadDataset } from '../../src/data/load-dataset.ts';
import { buildManifest } from '../../src/data/protocol.ts';
import { dataSpecFromOptions, parseDataSpec, readDataSpecFile } from '../../src/data/spec.ts';
import type { RgbImage } from '../../src/data/types.ts';
import { InputError } from '../../src/util/errors.ts';

function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `multicue-bad-${name}-`));
}

function noiseImage(size: number): RgbImage {
  const data = new Float32Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 255) / 255;
  return { width: size, height: size, data };
}

async function png(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await writePng(path, noiseImage(8));
}

/** An InputError whose message matches every pattern and whose `at:` names `path`. */
function inputError(path: string | null, ...patterns: RegExp[]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    if (path !== null) assert.equal(err.path, path);
    for (const p of patterns) assert.match(err.message, p);
    assert.ok(err.fix && err.fix.length > 0, 'says how to fix it');
    return true;
  };
}

test('MVTec: missing root, missing category, root inside the category, empty train/good', async () => {
  const root = tempDir('mvtec');
  assert.throws(
    () => loadDataset(parseDataSpec({ format: 'mvtec', root: join(root, 'nope'), category: 'bottle' })),
    inputError(join(root, 'nope'), /MVTec root folder not found/),
  );
  await png(join(root, 'bottle/train/good/000.png'));
  await png(join(root, 'bottle/test/good/000.png'));
  assert.throws(
    () => loadDataset(parseDataSpec({ format: 'mvtec', root, category: 'cable' })),
    (err: unknown) => inputError(join(root, 'cable/train/good'), /"cable" has no train\/good/)(err) && /found under the root: bottle/.test((err as InputError).fix!),
  );
  assert.throws(
    () => loadDataset(parseDataSpec({ format: 'mvtec', root: join(root, 'bottle'), category: 'bottle' })),
    (err: unknown) => inputError(null)(err) && /pass its parent folder as --root/.test((err as InputError).fix!),
  );
  mkdirSync(join(root, 'empty/train/good'), { recursive: true });
  mkdirSync(join(root, 'empty/test/good'), { recursive: true });
  writeFileSync(join(root, 'empty/train/good/readme.txt'), 'x');
  assert.throws(
    () => loadDataset(parseDataSpec({ format: 'mvtec', root, category: 'empty' })),
    (err: unknown) => inputError(join(root, 'empty/train/good'), /no training images/)(err) && /readme\.txt/.test((err as InputError).fix!),
  );
});

test('folder layout: a pattern that matches nothing, or folders without images, is named', async () => {
  const root = tempDir('folder');
  for (const n of ['a', 'b', 'c']) await png(join(root, 'good', `${n}.png`));
  await png(join(root, 'MT_Hole/Imgs/x.png'));
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs/readme.txt'), 'x');
  const base = { format: 'folder', root, nominal: ['good'], anomalous: ['MT_Hole/Imgs'] };

  assert.throws(
    () => loadDataset(dataSpecFromOptions({ ...base, anomalous: ['MT_[!F]*/imgs'] })),
    inputError(join(root, 'MT_[!F]*/imgs'), /--anomalous "MT_\[!F\]\*\/imgs" matched no folder or file/),
  );
  assert.throws(
    () => loadDataset(dataSpecFromOptions({ ...base, nominal: ['docs'] })),
    inputError(join(root, 'docs'), /--nominal "docs" matched 1 folder\(s\)\/file\(s\) but no images/),
  );
  assert.throws(
    () => loadDataset(dataSpecFromOptions({ ...base, images: '*.jpg' })),
    inputError(join(root, 'good'), /--nominal "good" .* no images \(image filter "\*\.jpg"\)/),
  );
  assert.throws(() => loadDataset(dataSpecFromOptions({ ...base, root: join(root, 'missing') })), inputError(join(root, 'missing'), /root folder not found/));
  assert.throws(
    () => loadDataset(dataSpecFromOptions({ ...base, anomalous: ['MT_Hole/Imgs', 'good'] })),
    inputError(join(root, 'good/a.png'), /listed by both --nominal and --anomalous/),
  );
  assert.throws(() => loadDataset(dataSpecFromOptions({ ...base, maskPattern: '{base}.png' })), inputError(null, /unknown placeholder \{base\}/));
  assert.throws(
    () => loadDataset(dataSpecFromOptions({ ...base, testFraction: '0.99' })),
    inputError(root, /would hold out all 3 nominal images/),
  );
});

test('truncated or fake images: readImage throws an InputError naming the file; --check reports them', async () => {
  const dir = tempDir('truncated');
  const jpeg = await sharp(Buffer.from(new Uint8Array(64 * 64 * 3).map((_, i) => (i * 31) % 256)), { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  const pngBytes = await encodePng(noiseImage(64));
  const files = {
    jpeg: join(dir, 'cut.jpg'),
    png: join(dir, 'cut.png'),
    text: join(dir, 'fake.png'),
    empty: join(dir, 'empty.png'),
  };
  writeFileSync(files.jpeg, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  writeFileSync(files.png, pngBytes.subarray(0, Math.floor(pngBytes.length / 2)));
  writeFileSync(files.text, 'this is not a picture');
  writeFileSync(files.empty, '');
  for (const path of Object.values(files)) {
    await assert.rejects(() => readImage(path), inputError(path, /cannot read image/));
  }
  await assert.rejects(() => readImage(join(dir, 'absent.png')), inputError(join(dir, 'absent.png'), /not found/));

  // The whole image is fine when not cut.
  writeFileSync(join(dir, 'whole.jpg'), jpeg);
  assert.equal((await readImage(join(dir, 'whole.jpg'))).width, 64);

  // `data inspect --check` lists corrupt images and masks instead of stopping at the first.
  const root = tempDir('check');
  for (const n of ['a', 'b', 'c']) await png(join(root, 'good', `${n}.png`));
  await png(join(root, 'bad/x.png'));
  writeFileSync(join(root, 'bad/x_mask.png'), pngBytes.subarray(0, 40));
  writeFileSync(join(root, 'good/b.png'), pngBytes.subarray(0, 60));
  const ds = loadDataset(dataSpecFromOptions({ format: 'folder', root, nominal: ['good'], anomalous: ['bad'], testFraction: '0' }));
  const report = await checkDataset(ds, { silent: true });
  assert.deepEqual(
    report.corrupt.map((c) => [c.kind, c.path]),
    [
      ['mask', join(root, 'bad/x_mask.png')],
      ['image', join(root, 'good/b.png')],
    ],
  );
});

test('an anomalous image without a mask is kept with maskPath null and a warning', async () => {
  const root = tempDir('nomask');
  for (const n of ['a', 'b']) await png(join(root, 'good', `${n}.png`));
  await png(join(root, 'crack/with.png'));
  await png(join(root, 'crack/without.png'));
  await png(join(root, 'crack/with_mask.png'));
  const ds = loadDataset(dataSpecFromOptions({ format: 'folder', root, nominal: ['good'], anomalous: ['crack'], testFraction: '0' }));
  const without = ds.items.find((i) => i.path.endsWith('without.png'))!;
  assert.equal(without.label, 1);
  assert.equal(without.maskPath, null);
  assert.equal(ds.items.find((i) => i.path.endsWith('with.png'))!.maskPath, join(root, 'crack/with_mask.png'));
  assert.ok(ds.warnings.some((w) => /1 of 2 anomalous "crack" images have no mask .*without_mask\.png.*excluded from pixel metrics/.test(w)));
});

test('a mask whose size differs from its image is resized (nearest) with a warning', async () => {
  const dir = tempDir('masksize');
  // 4×4 mask, left half set; its image is 8×12.
  const small = new Uint8Array(16);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 2; x++) small[y * 4 + x] = 1;
  const path = join(dir, 'm.png');
  await writePng(path, { width: 4, height: 4, data: small });
  const warnings: string[] = [];
  const mask = await readMask(path, null, { width: 8, height: 12 }, (w) => warnings.push(w));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /m\.png is 4x4 but its image is 8x12; resized \(nearest\)/);
  assert.deepEqual([mask.width, mask.height], [8, 12]);
  for (let y = 0; y < 12; y++) {
    for (let x = 0; x < 8; x++) assert.equal(mask.data[y * 8 + x], x < 4 ? 1 : 0, `pixel ${x},${y}`);
  }
  // Into a model geometry as well: still binary, still the left half.
  const square = await readMask(path, { size: 16, resize: 'stretch' }, { width: 8, height: 12 }, () => {});
  assert.deepEqual([square.width, square.height], [16, 16]);
  assert.ok(square.data.every((v, i) => v === (i % 16 < 8 ? 1 : 0)));
  // Same size: no warning.
  const quiet: string[] = [];
  await readMask(path, null, { width: 4, height: 4 }, (w) => quiet.push(w));
  assert.deepEqual(quiet, []);
});

test('a ratio or shot count needing more anomalies than exist is refused with the numbers', async () => {
  const root = tempDir('few');
  for (let i = 0; i < 20; i++) await png(join(root, 'good', `${i}.png`));
  for (let i = 0; i < 3; i++) await png(join(root, 'dent', `${i}.png`));
  const spec = dataSpecFromOptions({ format: 'folder', root, nominal: ['good'], anomalous: ['dent'], testFraction: '0' });
  const ds = loadDataset(spec);
  // r = 0.2 over 20 nominal → 5 contaminating + 1 few-shot = 6 > 3.
  assert.throws(
    () => buildManifest(ds, spec, { ratio: 0.2, shots: 1, seed: 0 }, () => {}),
    inputError(root, /needs .* = 5 contaminating anomalies plus 1 few-shot anomalies = 6/, /only 3 anomalous test images/),
  );
  assert.throws(() => buildManifest(ds, spec, { ratio: 0, shots: 4, seed: 0 }, () => {}), inputError(root, /4 few-shot anomalies requested but .* only 3/));
  assert.throws(
    () => buildManifest(ds, spec, { ratio: 0.2, shots: 3, seed: 0, withReplacement: true }, () => {}),
    inputError(root, /all 3 anomalous test images are few-shot/),
  );
});

test('data spec errors name the key (and the file) and say what is allowed', () => {
  const dir = tempDir('spec');
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify({ format: 'folder', root: '.', nominal: ['good'], anomalus: ['bad'] }));
  assert.throws(
    () => readDataSpecFile(file),
    (err: unknown) =>
      inputError(file, /"anomalus": not used by format "folder"/, /"anomalous": required/)(err) &&
      /Keys for format "folder": .*anomalous/.test((err as InputError).fix!),
  );
  writeFileSync(file, JSON.stringify({ format: 'mvtec', root: '.', category: 'bottle', testFraction: 2 }));
  assert.throws(() => readDataSpecFile(file), inputError(file, /"testFraction": not used by format "mvtec"/));
  writeFileSync(file, JSON.stringify({ format: 'folder', root: '.', nominal: ['a'], anomalous: ['b'], testFraction: 1.5 }));
  assert.throws(() => readDataSpecFile(file), inputError(file, /"testFraction": .*below 1/));
  writeFileSync(file, '{"format": "mvtec",');
  assert.throws(() => readDataSpecFile(file), inputError(file, /not valid JSON/));
  writeFileSync(file, JSON.stringify({ format: 'coco', root: '.' }));
  assert.throws(() => readDataSpecFile(file), inputError(file, /"format": must be one of mvtec, visa, folder \(got "coco"\)/));
  assert.throws(() => readDataSpecFile(join(dir, 'absent.json')), inputError(join(dir, 'absent.json'), /not found/));

  // From CLI options the messages speak in options.
  assert.throws(() => dataSpecFromOptions({}), inputError(null, /no dataset given/));
  assert.throws(() => dataSpecFromOptions({ format: 'mvtec', category: 'x' }), inputError(null, /--root: required/));
  assert.throws(() => dataSpecFromOptions({ format: 'mvtec', root: '.', category: 'x', nominal: ['a'] }), inputError(null, /--nominal: not used by format "mvtec"/));
  assert.throws(
    () => dataSpecFromOptions({ format: 'folder', root: '.', nominal: ['a'], anomalous: ['b'], testFraction: 'lots' }),
    inputError(null, /--test-fraction must be a number \(got "lots"\)/),
  );
  assert.throws(() => dataSpecFromOptions({ format: 'folder', root: '.', anomalous: ['b'] }), inputError(null, /--nominal: required/));
});

test('VisA: a CSV without a needed column, an unknown category, or missing images is named', async () => {
  const root = tempDir('visa');
  const csv = join(root, 'split_csv/1cls.csv');
  mkdirSync(dirname(csv), { recursive: true });
  assert.throws(() => loadDataset(parseDataSpec({ format: 'visa', root, category: 'candle' })), inputError(csv, /split CSV not found/));
  writeFileSync(csv, 'object,split,label,image\ncandle,train,normal,candle/0.JPG\n');
  assert.throws(() => loadDataset(parseDataSpec({ format: 'visa', root, category: 'candle' })), inputError(csv, /no "mask" column/));
  writeFileSync(csv, 'object,split,label,image,mask\ncandle,train,normal,candle/0.JPG,\ncashew,train,normal,cashew/0.JPG,\n');
  assert.throws(
    () => loadDataset(parseDataSpec({ format: 'visa', root, category: 'pcb1' })),
    (err: unknown) => inputError(csv, /no rows for category "pcb1"/)(err) && /candle, cashew/.test((err as InputError).fix!),
  );
  assert.throws(() => loadDataset(parseDataSpec({ format: 'visa', root, category: 'candle' })), inputError(csv, /1 image file\(s\) named in the split CSV do not exist \(first: .*candle\/0\.JPG\)/));
  await png(join(root, 'candle/0.JPG'));
  writeFileSync(csv, 'object,split,label,image,mask\ncandle,train,good,candle/0.JPG,\n');
  assert.throws(() => loadDataset(parseDataSpec({ format: 'visa', root, category: 'candle' })), inputError(`${csv} line 2`, /label must be "normal" or "anomaly"/));
  assert.ok(readFileSync(csv, 'utf8').length > 0);
});
