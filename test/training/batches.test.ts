import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BalancedBatchSampler } from '../../src/training/batches.ts';
import { Rng } from '../../src/util/rng.ts';

const nominal = Array.from({ length: 10 }, (_, i) => `n${i}`);
const pseudo = Array.from({ length: 30 }, (_, i) => `p${i}`);
const fewShot = ['f0', 'f1'];

test('batches are half nominal, half pseudo ∪ few-shot, and every nominal item is seen once per pass', () => {
  const sampler = new BalancedBatchSampler({ nominal, pseudo, fewShot }, 10, null, new Rng(1));
  const seen = new Map<string, number>();
  for (let b = 0; b < 4; b++) {
    const batch = sampler.next();
    assert.equal(batch.length, 10);
    assert.ok(batch.slice(0, 5).every((id) => id.startsWith('n')));
    assert.ok(batch.slice(5).every((id) => id.startsWith('p') || id.startsWith('f')));
    for (const id of batch.slice(0, 5)) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  // 4 batches × 5 = 20 = two full passes over the 10 nominal items.
  assert.ok(nominal.every((id) => seen.get(id) === 2));
});

test('fewShotShare fixes the few-shot count per batch; same seed, same batches', () => {
  const a = new BalancedBatchSampler({ nominal, pseudo, fewShot }, 10, 0.4, new Rng(2));
  const b = new BalancedBatchSampler({ nominal, pseudo, fewShot }, 10, 0.4, new Rng(2));
  for (let i = 0; i < 5; i++) {
    const batch = a.next();
    assert.deepEqual(batch, b.next());
    assert.equal(batch.filter((id) => id.startsWith('f')).length, 2);
  }
  assert.throws(() => new BalancedBatchSampler({ nominal, pseudo: [], fewShot: [] }, 10, null, new Rng(1)), /no anomalous training items/);
  assert.throws(() => new BalancedBatchSampler({ nominal, pseudo, fewShot }, 9, null, new Rng(1)), /even/);
});
