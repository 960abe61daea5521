import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../../src/data/types.ts';
import { initBackend } from '../../src/engine/backend.ts';
import { localize } from '../../src/localization/localize.ts';
import { createMultiCueModel } from '../../src/model/multicue-model.ts';
import { modelSpec } from '../../src/model/spec.ts';
import { Rng } from '../../src/util/rng.ts';
import { smallConfig, TOY_IDENTITY, toyBackbone } from '../model/fixtures.ts';

before(async () => {
  await initBackend('cpu');
});

const SIZE = 64;
/** A 24×24 bright square on stride-8 cells (rows 8–31, columns 32–55). */
const inRegion = (x: number, y: number) => y >= 8 && y < 32 && x >= 32 && x < 56;

function imageWithBrightRegion(seed: number): RgbImage {
  const rng = new Rng(seed);
  const data = new Float32Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) data[(y * SIZE + x) * 3 + c] = inRegion(x, y) ? 0.9 : 0.2 + 0.05 * rng.next();
    }
  }
  return { width: SIZE, height: SIZE, data };
}

function insideOutsideMeans(map: Float32Array): { inside: number; outside: number } {
  let inside = 0;
  let outside = 0;
  let nIn = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      if (inRegion(x, y)) {
        inside += map[y * SIZE + x];
        nIn++;
      } else outside += map[y * SIZE + x];
    }
  }
  return { inside: inside / nIn, outside: outside / (SIZE * SIZE - nIn) };
}

test('gradient maps light the region the deviation cue depends on; tensors are all released', () => {
  const backbone = toyBackbone();
  const config = smallConfig({ model: { segmentationHead: 'lite', liteUpsampleBlocks: 1 } });
  const model = createMultiCueModel(modelSpec(TOY_IDENTITY, SIZE, config.model), new Rng(3));
  // Positive deviation weights: a patch's score grows with its brightness, so the
  // top-κ patches (7 of 64) all lie in the 9-cell bright region.
  const w = model.params.get('deviation.weight');
  tf.tidy(() => w.assign(tf.onesLike(w)));
  const images = [imageWithBrightRegion(1), imageWithBrightRegion(2)];
  const tensorsBefore = tf.memory().numTensors;
  const maps = localize(model, backbone, images, config, { silent: true });
  assert.equal(tf.memory().numTensors, tensorsBefore);
  assert.equal(maps.length, 2);
  for (const m of maps) {
    assert.equal(m.size, SIZE);
    const dev = insideOutsideMeans(m.cues.deviation);
    assert.ok(dev.inside > 2 * dev.outside, `deviation map inside ${dev.inside} vs outside ${dev.outside}`);
    for (const cue of ['deviation', 'uncertainty', 'segmentation'] as const) {
      assert.ok(m.cues[cue].every((v) => Number.isFinite(v) && v >= 0 && v <= 1 + 1e-6), cue);
    }
    // The final map is the mean of the three cue maps (each smoothed with σ = 4·64/256 = 1 px).
    for (let p = 0; p < SIZE * SIZE; p += 97) {
      const mean = (m.cues.deviation[p] + m.cues.uncertainty[p] + m.cues.segmentation[p]) / 3;
      assert.ok(Math.abs(m.map[p] - mean) < 1e-5);
    }
  }
  // With the deviation cue alone, the final map is that cue's map.
  const only = localize(model, backbone, images.slice(0, 1), config, { silent: true, cues: ['deviation'] });
  assert.deepEqual(only[0].map, maps[0].cues.deviation);
  model.dispose();
  backbone.dispose();
});
