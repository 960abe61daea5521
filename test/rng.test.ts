import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/util/rng.ts';

test('same seed gives the same stream, different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 100 }, () => a.next());
  const sb = Array.from({ length: 100 }, () => b.next());
  const sc = Array.from({ length: 100 }, () => c.next());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('uniform and normal draws have the right moments', () => {
  const rng = new Rng(1);
  const n = 20000;
  let sum = 0;
  let sq = 0;
  let min = 1;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    min = Math.min(min, u);
    max = Math.max(max, u);
    sum += u;
  }
  assert.ok(min >= 0 && max < 1);
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  sum = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03);
  assert.ok(Math.abs(sq / n - 1) < 0.05);
});

test('sample draws distinct items and refuses too many', () => {
  const rng = new Rng(7);
  const s = rng.sample([1, 2, 3, 4, 5, 6], 4);
  assert.equal(new Set(s).size, 4);
  assert.throws(() => rng.sample([1, 2], 3));
});
