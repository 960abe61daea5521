import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, parseConfig } from '../../src/training/config.ts';
import { InputError } from '../../src/util/errors.ts';

test("the default config carries METHOD's values", () => {
  const c = defaultConfig();
  assert.equal(c.reweighting.alpha, 0.1);
  assert.equal(c.reweighting.lambda, 0.1);
  assert.equal(c.reweighting.lambdaSchedule, false);
  assert.equal(c.loss.margin, 10);
  assert.equal(c.loss.referenceCount, 5000);
  assert.equal(c.model.kappa, 0.1);
  assert.equal(c.loss.burnInFraction, 0.06);
  assert.equal(c.loss.clusterProbability, 0.6);
  assert.equal(c.loss.focalGamma, 2);
  assert.equal(c.loss.focalSmoothing, 1e-5);
  assert.deepEqual(
    [c.optimizer.learningRate, c.optimizer.weightDecay, c.optimizer.decayFactor, c.optimizer.decayEveryEpochs, c.optimizer.clipNorm],
    [2e-4, 1e-5, 0.1, 10, 1.0],
  );
  assert.deepEqual([c.schedule.batchSize, c.schedule.stepsPerEpoch, c.schedule.epochs], [48, 20, 25]);
  assert.equal(c.scoring.rho, 0.01);
  assert.deepEqual(c.scoring.fusionWeights, { deviation: 0.5, uncertainty: 0.2, segmentation: 0.3 });
  assert.equal(c.scoring.deviationScale, 1);
  assert.equal(c.localization.sigmaAt256, 4);
  assert.equal(c.model.freezeEncoder, true);
  assert.equal(c.model.segmentationHead, 'full');
});

test('partial configs keep the other defaults; bad values name the field', () => {
  const c = parseConfig({ reweighting: { alpha: 0.5 }, schedule: { epochs: 3 } });
  assert.equal(c.reweighting.alpha, 0.5);
  assert.equal(c.reweighting.lambda, 0.1);
  assert.equal(c.schedule.epochs, 3);
  assert.equal(c.schedule.batchSize, 48);
  assert.throws(() => parseConfig({ schedule: { batchSize: 7 } }, 'run.json'), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /schedule\.batchSize: batchSize must be even/);
    assert.equal(err.path, 'run.json');
    return true;
  });
  assert.throws(() => parseConfig({ scoring: { fusionWeights: { deviation: 0.9 } } }), /fusion weights must sum to 1/);
  assert.throws(() => parseConfig({ optimizer: { learningrate: 1 } }), /Unrecognized key/);
});
