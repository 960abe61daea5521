import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/engine/backend.ts';
import { loadModel, saveModel } from '../../src/model/serialization.ts';
import { scoreImages } from '../../src/scoring/score.ts';
import { train } from '../../src/training/trainer.ts';
import { InputError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';
import { smallConfig, syntheticCache, TOY_IDENTITY } from './fixtures.ts';

before(async () => {
  await initBackend('cpu');
});

test('save then load gives identical parameters and scores; other backbones, weights and sizes are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-model-'));
  try {
    const config = smallConfig({
      model: { segmentationHead: 'lite', liteUpsampleBlocks: 1 },
      schedule: { batchSize: 8, stepsPerEpoch: 3, epochs: 1 },
    });
    const cache = syntheticCache({ pool: 8, pseudo: 8, fewShot: 2, testNominal: 4, testAnomalous: 4 });
    const { model } = await train(config, cache, new Rng(3), { silent: true });
    await saveModel(model, dir, { note: 'test' });
    // Saving again replaces the parameter file: one .bin remains.
    await saveModel(model, dir, { note: 'test' });
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.bin')).length, 1);

    const loaded = await loadModel(dir, { backbone: TOY_IDENTITY, imageSize: 64 });
    assert.deepEqual(loaded.spec, model.spec);
    assert.deepEqual(loaded.params.snapshot(), model.params.snapshot());
    const before = scoreImages(model, cache, config.scoring, { silent: true });
    const after = scoreImages(loaded, cache, config.scoring, { silent: true });
    assert.deepEqual(after.scores, before.scores);
    assert.deepEqual(after.maps, before.maps);

    const refusal = async (expect: Parameters<typeof loadModel>[1], pattern: RegExp) => {
      await assert.rejects(loadModel(dir, expect), (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.match(err.message, pattern);
        assert.equal(err.path, dir);
        return true;
      });
    };
    await refusal({ backbone: { ...TOY_IDENTITY, name: 'resnet18', tapChannels: [128, 256, 512] } }, /backbone "toy" \(now "resnet18"\)/);
    await refusal({ backbone: { ...TOY_IDENTITY, weightsId: 'other-weights' } }, /weights toy-v1 of toy/);
    await refusal({ backbone: TOY_IDENTITY, imageSize: 128 }, /image size 64 \(now 128\)/);
    await assert.rejects(loadModel(join(dir, 'missing')), InputError);
    model.dispose();
    loaded.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
