import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.ts';
import { normalizeCue } from '../../src/scoring/normalize.ts';
import {
  type CueValues,
  DEFAULT_FUSION_CONFIG,
  fuseAll,
  fuseCues,
  resolveFusionConfig,
} from '../../src/scoring/fusion.ts';

function randomCues(rng: Rng): CueValues {
  return { deviation: rng.uniform(0, 5), uncertainty: rng.next(), segmentation: rng.next() };
}

test('normalizeCue: s/(s+c), order kept, 0 -> 0, c -> 0.5, Infinity -> 1, bad input throws', () => {
  assert.equal(normalizeCue(0, 1), 0);
  assert.equal(normalizeCue(2, 2), 0.5);
  assert.equal(normalizeCue(3, 1), 0.75);
  assert.equal(normalizeCue(Infinity, 1), 1);
  const rng = new Rng(2);
  const values = Array.from({ length: 200 }, () => rng.uniform(0, 50)).sort((a, b) => a - b);
  const normalised = values.map((s) => normalizeCue(s, 1.7));
  for (let i = 1; i < values.length; i++) assert.ok(normalised[i] > normalised[i - 1] && normalised[i] < 1);
  assert.throws(() => normalizeCue(-0.1, 1), />= 0/);
  assert.throws(() => normalizeCue(NaN, 1), />= 0/);
  assert.throws(() => normalizeCue(1, 0), /positive/);
});

test('fusion is the weighted geometric mean of the normalised cues (defaults 0.5, 0.2, 0.3)', () => {
  const cues = { deviation: 3, uncertainty: 0.4, segmentation: 0.9 };
  const eps = 1e-6;
  const want = Math.pow(0.75 + eps, 0.5) * Math.pow(0.4 + eps, 0.2) * Math.pow(0.9 + eps, 0.3);
  assert.ok(Math.abs(fuseCues(cues) - want) < 1e-12);
  assert.deepEqual(DEFAULT_FUSION_CONFIG.weights, { deviation: 0.5, uncertainty: 0.2, segmentation: 0.3 });
  // All weight on one cue gives that normalised cue (plus eps).
  const only = (w: [number, number, number]) =>
    fuseCues(cues, { weights: { deviation: w[0], uncertainty: w[1], segmentation: w[2] } });
  assert.ok(Math.abs(only([1, 0, 0]) - (0.75 + eps)) < 1e-12);
  assert.ok(Math.abs(only([0, 1, 0]) - (0.4 + eps)) < 1e-12);
  assert.ok(Math.abs(only([0, 0, 1]) - (0.9 + eps)) < 1e-12);
  // deviationScale changes n_d: with c_d = 3, φ = 3 maps to 0.5.
  assert.ok(Math.abs(fuseCues(cues, { deviationScale: 3, weights: { deviation: 1, uncertainty: 0, segmentation: 0 } }) - (0.5 + eps)) < 1e-12);
  // A zero cue stays finite thanks to eps, and ranks below a small positive one.
  const zero = fuseCues({ deviation: 0, uncertainty: 0, segmentation: 0 });
  assert.ok(zero > 0 && zero < fuseCues({ deviation: 0.01, uncertainty: 0.01, segmentation: 0.01 }));
});

test('fusion is strictly increasing in each cue', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 100; trial++) {
    const base = randomCues(rng);
    const fused = fuseCues(base);
    assert.ok(fuseCues({ ...base, deviation: base.deviation * 1.5 + 0.01 }) > fused);
    assert.ok(fuseCues({ ...base, uncertainty: Math.min(1, base.uncertainty + 0.05) }) > fused || base.uncertainty === 1);
    assert.ok(fuseCues({ ...base, segmentation: Math.min(1, base.segmentation + 0.05) }) > fused || base.segmentation === 1);
  }
});

test('weights are validated: must sum to 1, be non-negative and finite; eps and c_d positive', () => {
  const bad = (weights: [number, number, number]) => () =>
    fuseCues({ deviation: 1, uncertainty: 0.5, segmentation: 0.5 }, {
      weights: { deviation: weights[0], uncertainty: weights[1], segmentation: weights[2] },
    });
  assert.throws(bad([0.5, 0.5, 0.5]), /sum to 1/);
  assert.throws(bad([1.2, -0.1, -0.1]), /weights\.uncertainty/);
  assert.throws(bad([NaN, 0.5, 0.5]), /weights\.deviation/);
  assert.doesNotThrow(bad([1 / 3, 1 / 3, 1 / 3]));
  assert.throws(() => resolveFusionConfig({ eps: 0 }), /eps/);
  assert.throws(() => resolveFusionConfig({ deviationScale: -1 }), /deviationScale/);
  assert.throws(() => fuseCues({ deviation: -1, uncertainty: 0.5, segmentation: 0.5 }), /deviation cue/);
  assert.throws(() => fuseAll([{ deviation: 1, uncertainty: 0.5, segmentation: 0.5 }, { deviation: 1, uncertainty: 1.5, segmentation: 0.5 }]), /uncertainty cue.*image 1/);
});

test('fuseAll: same scores as one-by-one, no test statistics (adding images changes nothing), order kept', () => {
  const rng = new Rng(4);
  const cues = Array.from({ length: 50 }, () => randomCues(rng));
  const config = { weights: { deviation: 0.6, uncertainty: 0.1, segmentation: 0.3 }, deviationScale: 2 };
  const all = fuseAll(cues, config);
  all.forEach((s, i) => {
    assert.equal(s.fused, fuseCues(cues[i], config));
    assert.equal(s.deviation, cues[i].deviation);
    assert.equal(s.uncertainty, cues[i].uncertainty);
    assert.equal(s.segmentation, cues[i].segmentation);
  });
  // Scoring a batch with extreme extra images leaves the first images' scores unchanged.
  const withOutliers = fuseAll([...cues, { deviation: 1e6, uncertainty: 1, segmentation: 1 }, { deviation: 0, uncertainty: 0, segmentation: 0 }], config);
  for (let i = 0; i < cues.length; i++) assert.equal(withOutliers[i].fused, all[i].fused);
  // Scaling the deviation cue of every image keeps the deviation-only ranking (monotone normalisation).
  const devOnly = { weights: { deviation: 1, uncertainty: 0, segmentation: 0 } };
  const ranked = fuseAll(cues, devOnly).map((s) => s.fused);
  for (let i = 0; i < cues.length; i++) {
    for (let j = 0; j < cues.length; j++) {
      if (cues[i].deviation < cues[j].deviation) assert.ok(ranked[i] < ranked[j]);
    }
  }
});
