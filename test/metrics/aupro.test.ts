import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { aupro, AuproAccumulator, connectedComponents8 } from '../../src/evaluation/metrics/aupro.ts';
import type { ScoreMap } from '../../src/evaluation/metrics/base.ts';
import type { Mask } from '../../src/data/types.ts';

const W = 16;
const H = 12;

function maskWith(rects: [number, number, number, number][]): Mask {
  const data = new Uint8Array(W * H);
  for (const [x0, y0, w, h] of rects) for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * W + x] = 1;
  return { width: W, height: H, data };
}

function mapFrom(f: (i: number) => number): ScoreMap {
  return { width: W, height: H, data: Float32Array.from({ length: W * H }, (_, i) => f(i)) };
}

/**
 * AUPRO from its definition: for every distinct score t, FPR(t) and PRO(t)
 * counted directly, curve (0,0) -> points -> (1,1), integral of the linear
 * interpolation over [0, maxFpr], divided by maxFpr.
 */
function bruteAupro(maps: ScoreMap[], masks: Mask[], maxFpr: number): number {
  const regions = masks.map((m) => connectedComponents8(m.data, m.width, m.height));
  const thresholds = [...new Set(maps.flatMap((m) => Array.from(m.data)))].sort((a, b) => b - a);
  const points: [number, number][] = [[0, 0]];
  for (const t of thresholds) {
    let fp = 0;
    let ok = 0;
    let overlapSum = 0;
    let regionCount = 0;
    maps.forEach((map, k) => {
      const cc = regions[k];
      const hits = new Float64Array(cc.count + 1);
      for (let i = 0; i < map.data.length; i++) {
        if (cc.labels[i] === 0) {
          ok++;
          if (map.data[i] >= t) fp++;
        } else if (map.data[i] >= t) hits[cc.labels[i]]++;
      }
      for (let r = 1; r <= cc.count; r++) overlapSum += hits[r] / cc.sizes[r];
      regionCount += cc.count;
    });
    points.push([fp / ok, overlapSum / regionCount]);
  }
  points.push([1, 1]);
  let area = 0;
  for (let k = 1; k < points.length; k++) {
    const [x0, y0] = points[k - 1];
    const [x1, y1] = points[k];
    if (x0 >= maxFpr || x1 === x0) continue;
    const xe = Math.min(x1, maxFpr);
    const ye = y0 + ((y1 - y0) * (xe - x0)) / (x1 - x0);
    area += 0.5 * (y0 + ye) * (xe - x0);
  }
  return area / maxFpr;
}

test('8-connectivity: diagonal neighbours join one region, separate blocks do not', () => {
  const data = new Uint8Array([1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]);
  const cc = connectedComponents8(data, 5, 4);
  // Rows: 1 0 0 0 1 / 0 1 1 0 0 / 0 0 0 1 1 / 0 0 0 0 1 -> one chain through diagonals, and the (4,0) corner.
  assert.equal(cc.count, 2);
  assert.equal(cc.sizes[1] + cc.sizes[2], 7);
  assert.equal(cc.sizes[cc.labels[4]], 1);
  assert.equal(cc.labels[0], cc.labels[19]);
  assert.notEqual(cc.labels[4], cc.labels[0]);
});

test('a perfect map gives AUPRO 1', () => {
  const mask = maskWith([[1, 1, 3, 3], [10, 6, 4, 5]]);
  const map = mapFrom((i) => (mask.data[i] ? 0.9 : 0.1));
  assert.ok(Math.abs(aupro([map], [mask]) - 1) < 1e-12);
});

test('a map that finds one of two regions scores in between (0.575 by hand)', () => {
  const mask = maskWith([[1, 1, 3, 3], [10, 6, 4, 5]]);
  const found = maskWith([[1, 1, 3, 3]]);
  const map = mapFrom((i) => (found.data[i] ? 1 : 0));
  // Curve (0,0) (0,0.5) (1,1): mean of 0.5 + 0.5x over [0, 0.3] = 0.575.
  const value = aupro([map], [mask]);
  assert.ok(Math.abs(value - 0.575) < 1e-12, `${value}`);
  // Regions count equally whatever their size: finding the big one instead gives the same.
  const big = maskWith([[10, 6, 4, 5]]);
  assert.ok(Math.abs(aupro([mapFrom((i) => big.data[i])], [mask]) - 0.575) < 1e-12);
});

test('the FPR limit is respected: overlap reached only past FPR 0.3 counts for nothing', () => {
  const mask = maskWith([[4, 4, 4, 4]]);
  let k = 0;
  // 40% of the defect-free pixels outscore the defect.
  const okCount = W * H - 16;
  const map = mapFrom((i) => (mask.data[i] ? 0.5 : k++ < 0.4 * okCount ? 1 : 0));
  assert.equal(aupro([map], [mask], { maxFpr: 0.3 }), 0);
  const fprAtDefect = Math.ceil(0.4 * okCount) / okCount;
  // Past the limit the PRO is 1 from fprAtDefect on.
  assert.ok(Math.abs(aupro([map], [mask], { maxFpr: 0.6 }) - (0.6 - fprAtDefect) / 0.6) < 1e-12);
});

test('random maps: AUPRO equals the definition at several limits, and does not depend on chunking into maps', () => {
  const rng = new Rng(9);
  const masks = [maskWith([[2, 2, 3, 4], [9, 1, 5, 2]]), maskWith([[0, 0, 16, 2]]), maskWith([]), maskWith([[6, 5, 1, 1]])];
  const maps = masks.map((m) => mapFrom((i) => Math.round((rng.normal() + 1.5 * m.data[i]) * 8) / 8));
  for (const maxFpr of [0.05, 0.3, 1]) {
    const got = aupro(maps, masks, { maxFpr });
    const want = bruteAupro(maps, masks, maxFpr);
    assert.ok(Math.abs(got - want) < 1e-9, `maxFpr ${maxFpr}: ${got} vs ${want}`);
  }
  // Same maps through the accumulator in reverse order give the same AUPRO.
  const acc = new AuproAccumulator();
  for (let i = maps.length - 1; i >= 0; i--) acc.add(maps[i], masks[i]);
  assert.ok(Math.abs(acc.result() - aupro(maps, masks)) < 1e-12);
});

test('AUPRO errors: no regions, size mismatch, bad limit, NaN', () => {
  const empty = maskWith([]);
  assert.throws(() => aupro([mapFrom(() => 0)], [empty]), /no defect region/);
  assert.throws(
    () => aupro([{ width: 4, height: 4, data: new Float32Array(16) }], [maskWith([[0, 0, 1, 1]])]),
    /4×4 but its mask is 16×12/,
  );
  assert.throws(() => aupro([mapFrom(() => 0)], [maskWith([[0, 0, 1, 1]])], { maxFpr: 0 }), /maxFpr/);
  assert.throws(() => aupro([mapFrom(() => NaN)], [maskWith([[0, 0, 1, 1]])]), /NaN/);
});
