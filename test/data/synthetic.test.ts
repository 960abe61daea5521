import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Rng } from '../../src/util/rng.ts';
import { InputError } from '../../src/util/errors.ts';
import { encodePng, readImage, readMask } from '../../src/data/image.ts';
import { generateSyntheticDataset } from '../../src/data/synthetic/generate.ts';
import { SYNTHETIC_CATEGORIES, syntheticCategory } from '../../src/data/synthetic/categories.ts';
import { DEFECT_AREA } from '../../src/data/synthetic/category.ts';
import { maskArea } from '../../src/data/synthetic/raster.ts';
import { montagePng } from '../../src/data/montage.ts';

const SIZE = 96; // small images keep the file tests fast; shapes scale with the size

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

function tempDir(t: { after(fn: () => void): void }, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `multicue-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const SMALL = { size: SIZE, train: 3, testGood: 2, testPerDefect: 2, silent: true };

test('synth writes an MVTec-AD layout: every defect image has a same-size binary non-empty mask, nominal ones none', async (t) => {
  const out = tempDir(t, 'synth');
  const summary = await generateSyntheticDataset({ ...SMALL, out, seed: 1 });
  assert.ok(summary.categories.length >= 3);
  assert.ok(summary.categories.some((c) => c.kind === 'texture') && summary.categories.some((c) => c.kind === 'object'));
  const defectKinds = new Set(summary.categories.flatMap((c) => Object.keys(c.defects)));
  assert.ok(defectKinds.size >= 5, `defect kinds: ${[...defectKinds].join(', ')}`);

  let files = 0;
  for (const category of summary.categories) {
    const dir = join(out, category.name);
    assert.deepEqual(readdirSync(join(dir, 'train', 'good')).sort(), ['000.png', '001.png', '002.png']);
    assert.deepEqual(readdirSync(join(dir, 'test')).sort(), ['good', ...Object.keys(category.defects)].sort());
    assert.deepEqual(readdirSync(join(dir, 'test', 'good')).sort(), ['000.png', '001.png']);
    // Nominal test images have no masks: ground_truth holds defect folders only.
    assert.deepEqual(readdirSync(join(dir, 'ground_truth')).sort(), Object.keys(category.defects).sort());
    for (const defect of Object.keys(category.defects)) {
      const images = readdirSync(join(dir, 'test', defect)).sort();
      assert.deepEqual(images, ['000.png', '001.png']);
      assert.deepEqual(readdirSync(join(dir, 'ground_truth', defect)).sort(), ['000_mask.png', '001_mask.png']);
      for (const name of images) {
        const image = await readImage(join(dir, 'test', defect, name));
        const maskPath = join(dir, 'ground_truth', defect, name.replace('.png', '_mask.png'));
        const mask = await readMask(maskPath);
        assert.equal(image.width, SIZE);
        assert.equal(mask.width, image.width);
        assert.equal(mask.height, image.height);
        const area = maskArea(mask);
        assert.ok(area > 0, `${category.name}/${defect}/${name}: empty mask`);
        assert.ok(area / (SIZE * SIZE) < 0.08, `${category.name}/${defect}/${name}: mask covers ${area}`);
        // The PNG itself is strictly binary (0 or 255), not just after readMask's threshold.
        const { data } = await import('sharp').then((m) => m.default(maskPath).raw().toBuffer({ resolveWithObject: true }));
        for (const v of data) assert.ok(v === 0 || v === 255);
      }
    }
    files += listFiles(dir).length;
  }
  assert.equal(files, summary.files);
  assert.ok(existsSync(join(out, 'synthetic.json')));
});

test('synth: same seed gives byte-identical files, another seed different files', async (t) => {
  const a = tempDir(t, 'synth-a');
  const b = tempDir(t, 'synth-b');
  const c = tempDir(t, 'synth-c');
  const opts = { ...SMALL, categories: ['carpet', 'washer'], train: 2, testGood: 1, testPerDefect: 1 };
  await generateSyntheticDataset({ ...opts, out: a, seed: 7 });
  await generateSyntheticDataset({ ...opts, out: b, seed: 7 });
  await generateSyntheticDataset({ ...opts, out: c, seed: 8 });
  const filesA = listFiles(a).map((f) => relative(a, f));
  assert.deepEqual(filesA, listFiles(b).map((f) => relative(b, f)));
  assert.deepEqual(filesA, listFiles(c).map((f) => relative(c, f)));
  let differing = 0;
  for (const rel of filesA) {
    assert.ok(readFileSync(join(a, rel)).equals(readFileSync(join(b, rel))), `${rel} differs between two runs of seed 7`);
    if (rel.endsWith('.png') && !readFileSync(join(a, rel)).equals(readFileSync(join(c, rel)))) differing++;
  }
  const pngs = filesA.filter((f) => f.endsWith('.png')).length;
  assert.equal(differing, pngs, 'every image and mask changes with the seed');
});

test('synth: a rerun with smaller counts leaves no stale files; foreign folders are never overwritten', async (t) => {
  const out = tempDir(t, 'synth-rerun');
  await generateSyntheticDataset({ ...SMALL, out, categories: ['wood'], train: 3 });
  await generateSyntheticDataset({ ...SMALL, out, categories: ['wood'], train: 1 });
  assert.deepEqual(readdirSync(join(out, 'wood', 'train', 'good')), ['000.png']);

  const foreign = tempDir(t, 'synth-foreign');
  mkdirSync(join(foreign, 'pill'));
  writeFileSync(join(foreign, 'pill', 'keep.txt'), 'user data');
  await assert.rejects(generateSyntheticDataset({ ...SMALL, out: foreign, categories: ['pill'] }), InputError);
  assert.ok(existsSync(join(foreign, 'pill', 'keep.txt')));
  await assert.rejects(generateSyntheticDataset({ ...SMALL, out: foreign, categories: ['nope'] }), /unknown synthetic category/);
  await assert.rejects(generateSyntheticDataset({ ...SMALL, out: foreign, train: 0 }), InputError);
});

test('rendered categories: defects sized like real ones, visible, deterministic; nominal images vary', () => {
  for (const category of SYNTHETIC_CATEGORIES) {
    const a = category.render(new Rng(`${category.name}/good/0`), 128, null);
    const b = category.render(new Rng(`${category.name}/good/1`), 128, null);
    assert.equal(a.mask, null);
    assert.notDeepEqual(a.image.data, b.image.data, `${category.name}: nominal images vary`);
    for (const v of a.image.data) assert.ok(v >= 0 && v <= 1);
    for (const defect of category.defects) {
      for (let i = 0; i < 3; i++) {
        const seed = `${category.name}/${defect}/${i}`;
        const { image, mask } = category.render(new Rng(seed), 128, defect);
        assert.ok(mask, `${seed}: mask`);
        const fraction = maskArea(mask) / (128 * 128);
        assert.ok(fraction >= DEFECT_AREA.min && fraction <= DEFECT_AREA.max, `${seed}: defect covers ${(100 * fraction).toFixed(2)}%`);
        assert.deepEqual(category.render(new Rng(seed), 128, defect).image.data, image.data, `${seed}: deterministic`);
        // Visible: mean colour inside the mask differs from the ring of pixels around it.
        const inside = meanColour(image.data, mask.data, 1);
        const around = meanColour(image.data, dilate(mask.data, 128, 4), 1, mask.data);
        const contrast = Math.hypot(inside[0] - around[0], inside[1] - around[1], inside[2] - around[2]);
        assert.ok(contrast > 0.06, `${seed}: colour contrast ${contrast.toFixed(3)} to its surroundings`);
      }
    }
    assert.throws(() => category.render(new Rng(1), 64, 'no-such-defect'), /unknown defect/);
  }
  assert.throws(() => syntheticCategory('nope'), InputError);
});

test('PNG encoding and montages are deterministic', async () => {
  const { image, mask } = syntheticCategory('pill').render(new Rng(3), 64, 'stain');
  assert.ok((await encodePng(image)).equals(await encodePng(image)));
  const rows = [[{ image, label: 'stain' }, { image, outline: mask!, label: 'mask' }, { image: mask! }]];
  const first = await montagePng(rows, { tileSize: 48, title: 'test', rowLabels: ['pill'] });
  const second = await montagePng(rows, { tileSize: 48, title: 'test', rowLabels: ['pill'] });
  assert.ok(first.equals(second));
  assert.equal(first.subarray(1, 4).toString(), 'PNG');
});

function meanColour(data: Float32Array, select: Uint8Array, value: number, exclude?: Uint8Array): [number, number, number] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < select.length; p++) {
    if (select[p] !== value || exclude?.[p]) continue;
    for (let c = 0; c < 3; c++) sum[c] += data[p * 3 + c];
    n++;
  }
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

function dilate(mask: Uint8Array, size: number, radius: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < size && yy < size) out[yy * size + xx] = 1;
        }
      }
    }
  }
  return out;
}
