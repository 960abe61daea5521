import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { expandSweep, sweepUnits } from '../../src/experiments/sweep-cells.ts';
import { parseSweepConfig } from '../../src/experiments/sweep-config.ts';

const DATA = { format: 'mvtec', root: '/data/synthetic', category: 'carpet' };

const grid = parseSweepConfig({
  out: '/sweeps/s',
  datasets: [DATA, { ...DATA, category: 'wood' }],
  ratios: [0.1, 0.2],
  shots: [0, 1, 5],
  seeds: [0, 1],
  methods: ['multicue', 'adl', 'patchcore', 'padim'],
  alphaLambda: [
    [0.1, 0.1],
    [1, 0.5],
  ],
  fusionWeights: [
    [0.5, 0.2, 0.3],
    [1, 0, 0],
    [0.2, 0.2, 0.6],
  ],
  base: { geometry: { size: 96, resize: 'stretch' }, config: { schedule: { epochs: 2 } }, protocol: { noiseStd: 0.2 } },
});
const cells = expandSweep(grid);
const of = (method: string) => cells.filter((c) => c.method === method);

test('cell counts: multicue crosses every axis, ADL drops shots and fusion, baselines also drop α/λ', () => {
  // per category: ratios 2 × shots 3 × seeds 2 × α/λ 2 × fusion 3
  assert.equal(of('multicue').length, 2 * (2 * 3 * 2 * 2 * 3));
  assert.equal(of('adl').length, 2 * (2 * 2 * 2));
  assert.equal(of('patchcore').length, 2 * (2 * 2));
  assert.equal(of('padim').length, 2 * (2 * 2));
  assert.equal(cells.length, 144 + 16 + 8 + 8);
  assert.equal(new Set(cells.map((c) => c.dir)).size, cells.length, 'every cell has its own run directory');
});

test('deduplicated cells keep the right protocol: ADL k = 0 with deviation-only fusion, baselines the largest k', () => {
  for (const c of of('adl')) {
    assert.equal(c.experiment.protocol.shots, 0);
    assert.deepEqual(c.experiment.config.scoring.fusionWeights, { deviation: 1, uncertainty: 0, segmentation: 0 });
    assert.equal(c.fusion, null);
  }
  for (const c of [...of('patchcore'), ...of('padim')]) {
    assert.equal(c.experiment.protocol.shots, 5);
    assert.equal(c.fusion, null);
    assert.doesNotMatch(c.name, /-a|-l|-w/);
  }
  assert.deepEqual([...new Set(of('adl').map((c) => `${c.experiment.config.reweighting.alpha}/${c.experiment.config.reweighting.lambda}`))].sort(), ['0.1/0.1', '1/0.5']);
});

test('every cell carries the base fields, its own axes, and the sweep feature cache', () => {
  for (const c of cells) {
    assert.deepEqual(c.experiment.geometry, { size: 96, resize: 'stretch' });
    assert.equal(c.experiment.config.schedule.epochs, 2);
    assert.equal(c.experiment.protocol.noiseStd, 0.2);
    assert.equal(c.experiment.featureCache, join('/sweeps/s', 'features'));
    assert.equal(c.dir, join('/sweeps/s', 'runs', c.category, c.name));
  }
  const one = cells.find((c) => c.method === 'multicue' && c.category === 'wood' && c.experiment.protocol.ratio === 0.2 && c.experiment.protocol.shots === 5 && c.experiment.protocol.seed === 1 && c.fusion?.[0] === 0.2 && c.experiment.config.reweighting.alpha === 1);
  assert.ok(one);
  assert.equal(one.name, 'multicue-r20-k5-s1-a1-l0.5-w0.2_0.2_0.6');
  assert.deepEqual(one.experiment.config.scoring.fusionWeights, { deviation: 0.2, uncertainty: 0.2, segmentation: 0.6 });
  assert.equal(one.experiment.data.root, '/data/synthetic');
});

test('fusion weights share one training unit; the default weights keep the plain cell name', () => {
  const units = sweepUnits(cells);
  for (const unit of units) {
    const methods = new Set(unit.map((c) => c.method));
    assert.equal(methods.size, 1);
    assert.equal(unit.length, unit[0].method === 'multicue' ? 3 : 1);
  }
  const multicueUnit = units.find((u) => u[0].method === 'multicue')!;
  assert.deepEqual(
    multicueUnit.map((c) => c.name),
    ['multicue-r10-k0-s0-a0.1-l0.1', 'multicue-r10-k0-s0-a0.1-l0.1-w1_0_0', 'multicue-r10-k0-s0-a0.1-l0.1-w0.2_0.2_0.6'],
  );
  // The trained model does not depend on fusion: everything but the weights is equal inside a unit.
  const strip = (e: (typeof cells)[number]['experiment']) => JSON.stringify({ ...e, config: { ...e.config, scoring: { ...e.config.scoring, fusionWeights: null } } });
  for (const unit of units) assert.equal(new Set(unit.map((c) => strip(c.experiment))).size, 1);
});

test('expansion is deterministic and ordered by category, method, ratio, shots, seed', () => {
  assert.deepEqual(expandSweep(grid).map((c) => c.dir), cells.map((c) => c.dir));
  assert.equal(cells[0].category, 'carpet');
  assert.equal(cells.at(-1)!.category, 'wood');
  const carpetMulticue = cells.filter((c) => c.category === 'carpet' && c.method === 'multicue');
  const ratios = carpetMulticue.map((c) => c.experiment.protocol.ratio);
  assert.deepEqual(ratios, [...ratios].sort((a, b) => a - b));
});
