import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { auroc } from '../../src/evaluation/metrics/auroc.ts';
import { PixelAurocAccumulator, pixelAuroc } from '../../src/evaluation/metrics/pixel-auroc.ts';

interface MapsAndMasks {
  maps: Float32Array[];
  masks: Uint8Array[];
}

/** Random maps with a square defect each; defect pixels score higher on average. */
function randomMaps(rng: Rng, count: number, side: number, quantise: number | null): MapsAndMasks {
  const maps: Float32Array[] = [];
  const masks: Uint8Array[] = [];
  for (let m = 0; m < count; m++) {
    const map = new Float32Array(side * side);
    const mask = new Uint8Array(side * side);
    const x0 = rng.int(0, side - 8);
    const y0 = rng.int(0, side - 8);
    for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) mask[y * side + x] = 1;
    for (let i = 0; i < map.length; i++) {
      const v = 1 / (1 + Math.exp(-(rng.normal() + 1.2 * mask[i] - 1)));
      map[i] = quantise === null ? v : Math.round(v * quantise) / quantise;
    }
    maps.push(map);
    masks.push(mask);
  }
  return { maps, masks };
}

function concat<T extends Float32Array | Uint8Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('quantised maps: pixel AUROC is exact (equals AUROC over all pixels)', () => {
  const { maps, masks } = randomMaps(new Rng(1), 30, 48, 255);
  const acc = new PixelAurocAccumulator();
  maps.forEach((m, i) => acc.add(m, masks[i]));
  const details = acc.details();
  const exact = auroc(concat(maps, (n) => new Float32Array(n)), concat(masks, (n) => new Uint8Array(n)));
  assert.equal(details.exact, true);
  assert.equal(details.maxError, 0);
  assert.ok(Math.abs(details.auroc - exact) < 1e-12, `${details.auroc} vs ${exact}`);
  assert.equal(details.pixels, 30 * 48 * 48);
  assert.equal(details.anomalousPixels, 30 * 64);
});

test('continuous maps past the exact limit: binned pixel AUROC within 1e-4 and within its own error bound', () => {
  const { maps, masks } = randomMaps(new Rng(2), 40, 64, null);
  const exact = auroc(concat(maps, (n) => new Float32Array(n)), concat(masks, (n) => new Uint8Array(n)));
  for (const opts of [{ exactDistinctLimit: 5000 }, { exactDistinctLimit: 5000, histogramBits: 16 }]) {
    const acc = new PixelAurocAccumulator(opts);
    maps.forEach((m, i) => acc.add(m, masks[i]));
    const d = acc.details();
    assert.equal(d.exact, false);
    assert.ok(Math.abs(d.auroc - exact) <= d.maxError + 1e-12, `error ${Math.abs(d.auroc - exact)} > bound ${d.maxError}`);
    if (opts.histogramBits === undefined) {
      assert.ok(Math.abs(d.auroc - exact) < 1e-4, `default bins: ${d.auroc} vs ${exact}`);
      assert.ok(d.maxError < 1e-3, `bound ${d.maxError}`);
    }
  }
  // The default limit keeps these 164k continuous pixels exact.
  const acc = new PixelAurocAccumulator();
  maps.forEach((m, i) => acc.add(m, masks[i]));
  assert.equal(acc.details().exact, true);
  assert.ok(Math.abs(acc.result() - exact) < 1e-12);
});

test('chunked adds give exactly the same result as one add, in both regimes', () => {
  const { maps, masks } = randomMaps(new Rng(3), 12, 40, null);
  const allMaps = concat(maps, (n) => new Float32Array(n));
  const allMasks = concat(masks, (n) => new Uint8Array(n));
  for (const opts of [{}, { exactDistinctLimit: 3000 }]) {
    const whole = new PixelAurocAccumulator(opts);
    whole.add(allMaps, allMasks);
    const chunked = new PixelAurocAccumulator(opts);
    const rng = new Rng(4);
    for (let start = 0; start < allMaps.length; ) {
      const end = Math.min(allMaps.length, start + rng.int(1, 5000));
      chunked.add(allMaps.subarray(start, end), allMasks.subarray(start, end));
      start = end;
    }
    assert.deepEqual(chunked.details(), whole.details());
  }
});

test('pixelAuroc takes plain arrays or {width, height, data} and 255-valued masks', () => {
  const map = [0.1, 0.9, 0.2, 0.8];
  assert.equal(pixelAuroc([map], [[0, 255, 0, 255]]), 1);
  assert.equal(pixelAuroc([{ width: 2, height: 2, data: map }], [{ width: 2, height: 2, data: new Uint8Array([0, 1, 1, 0]) }]), 0.75);
});

test('bad input throws: NaN pixel, size mismatch, one class, count mismatch', () => {
  const acc = new PixelAurocAccumulator();
  assert.throws(() => acc.add(new Float32Array([0.1, NaN]), new Uint8Array([0, 1])), /map 0: pixel 1 has a NaN/);
  assert.throws(() => acc.add(new Float32Array(4), new Uint8Array(3)), /4 pixels but its mask has 3/);
  const nominalOnly = new PixelAurocAccumulator();
  nominalOnly.add(new Float32Array([0.1, 0.2]), new Uint8Array(2));
  assert.throws(() => nominalOnly.result(), /only one class/);
  assert.throws(() => pixelAuroc([new Float32Array(2)], []), /1 maps but 0 masks/);
});
