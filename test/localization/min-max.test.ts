import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sigmaForSize } from '../../src/localization/localize.ts';
import { minMaxNormalize } from '../../src/localization/min-max.ts';

test('min-max normalisation maps to [0,1]; a constant map becomes zeros', () => {
  assert.deepEqual(Array.from(minMaxNormalize([2, 4, 3])), [0, 1, 0.5]);
  assert.deepEqual(Array.from(minMaxNormalize([5, 5, 5])), [0, 0, 0]);
  assert.deepEqual(Array.from(minMaxNormalize([0, NaN, 1])).map((v) => (Number.isNaN(v) ? 'NaN' : v)), [0, 'NaN', 1]);
});

test('the smoothing σ is 4 px at 256² and scales with the input size', () => {
  assert.equal(sigmaForSize(4, 256), 4);
  assert.equal(sigmaForSize(4, 512), 8);
  assert.equal(sigmaForSize(4, 64), 1);
});
