import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Experiment } from '../../src/pipeline/experiment.ts';
import { gradientMapSelection } from '../../src/pipeline/run-cell.ts';
import type { CachedFeatures } from '../../src/training/feature-cache.ts';

/** Test items in file order: every kind's images together, as a folder listing gives them. */
function testSet(): CachedFeatures[] {
  const items: Array<Partial<CachedFeatures>> = [];
  for (const kind of ['blowhole', 'crack', 'fray']) {
    for (let i = 0; i < 10; i++) items.push({ id: `${kind}/${i}`, trueLabel: 1, defect: kind, mask: new Uint8Array(1) });
  }
  items.push({ id: 'unmasked/0', trueLabel: 1, defect: 'unmasked', mask: null });
  for (let i = 0; i < 20; i++) items.push({ id: `good/${i}`, trueLabel: 0, defect: 'good', mask: null });
  return items as CachedFeatures[];
}

const experiment = (gradientMaps: Experiment['gradientMaps'], seed = 0) => ({ gradientMaps, protocol: { seed } }) as unknown as Experiment;

test('a gradient-map budget covers every defect kind, half nominal, seeded', () => {
  const chosen = gradientMapSelection(experiment(12), testSet());
  assert.equal(chosen.length, 12);
  const kinds = new Map<string, number>();
  for (const c of chosen) kinds.set(c.defect!, (kinds.get(c.defect!) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(kinds), { blowhole: 2, crack: 2, fray: 2, good: 6 });
  assert.ok(!chosen.some((c) => c.id.startsWith('unmasked')), 'anomalies without a mask get no map');
  assert.deepEqual(gradientMapSelection(experiment(12), testSet()).map((c) => c.id), chosen.map((c) => c.id), 'same seed, same subset');
  const other = gradientMapSelection(experiment(12, 1), testSet()).map((c) => c.id);
  assert.notDeepEqual(other, chosen.map((c) => c.id), 'another seed draws other images');
  assert.equal(gradientMapSelection(experiment('all'), testSet()).length, 51);
  assert.equal(gradientMapSelection(experiment('none'), testSet()).length, 0);
  // Nominal images take at most half the budget (all 20 here); masked anomalies the rest.
  const large = gradientMapSelection(experiment(45), testSet());
  assert.equal(large.filter((c) => c.trueLabel === 0).length, 20);
  assert.equal(large.filter((c) => c.trueLabel === 1).length, 25);
});
