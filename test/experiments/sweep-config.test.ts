import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSweepInputs, parseSweepConfig, readSweepConfigFile } from '../../src/experiments/sweep-config.ts';
import { runSweep } from '../../src/experiments/sweep.ts';
import { InputError } from '../../src/util/errors.ts';

const DATA = { format: 'mvtec', root: 'data/synthetic', category: 'carpet' };

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-sweep-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The InputError message of parsing `input`, or a failed assertion if it was accepted. */
function refusal(input: unknown): string {
  try {
    parseSweepConfig(input);
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

test('defaults: METHOD ratios and shots, seed 0, multicue, α = λ = 0.1, fusion (0.5, 0.2, 0.3)', () => {
  const config = parseSweepConfig({ out: 'out', datasets: [DATA] });
  assert.deepEqual(config.ratios, [0.05, 0.1, 0.15, 0.2]);
  assert.deepEqual(config.shots, [0, 1, 2, 5, 10]);
  assert.deepEqual(config.seeds, [0]);
  assert.deepEqual(config.methods, ['multicue']);
  assert.deepEqual(config.alphaLambda, [[0.1, 0.1]]);
  assert.deepEqual(config.fusionWeights, [[0.5, 0.2, 0.3]]);
  // Only the base keys given are kept (the rest take each cell's defaults).
  assert.deepEqual(config.base, {});
});

test('unknown keys are refused, naming the key at any depth', () => {
  assert.match(refusal({ out: 'o', datasets: [DATA], ratio: [0.1] }), /ratio: unknown key/);
  assert.match(refusal({ out: 'o', datasets: [DATA], base: { epochs: 3 } }), /base\.epochs: unknown key/);
  assert.match(refusal({ out: 'o', datasets: [DATA], base: { config: { schedule: { epoch: 3 } } } }), /base\.config\.schedule\.epoch: unknown key/);
  assert.match(refusal({ out: 'o', datasets: [{ ...DATA, nominal: ['x'] }] }), /datasets\.0\.nominal: unknown key/);
});

test('impossible values are refused, naming the key', () => {
  assert.match(refusal({ out: 'o', datasets: [DATA], ratios: [0.1, 1.5] }), /ratios\.1: a ratio is a fraction below 1/);
  assert.match(refusal({ out: 'o', datasets: [DATA], ratios: [-0.1] }), /ratios\.0/);
  assert.match(refusal({ out: 'o', datasets: [DATA], shots: [2.5] }), /shots\.0/);
  assert.match(refusal({ out: 'o', datasets: [DATA], seeds: [-1] }), /seeds\.0/);
  assert.match(refusal({ out: 'o', datasets: [DATA], methods: ['devnet'] }), /methods\.0/);
  assert.match(refusal({ out: 'o', datasets: [DATA], alphaLambda: [[0.1, 0]] }), /alphaLambda\.0\.1/);
  assert.match(refusal({ out: 'o', datasets: [DATA], fusionWeights: [[0.5, 0.2, 0.3], [0.4, 0.4, 0.4]] }), /fusionWeights\.1: fusion weights \[w_d, w_u, w_s\] must sum to 1/);
  assert.match(refusal({ out: 'o', datasets: [DATA], fusionWeights: [[1.2, -0.2, 0]] }), /fusionWeights\.0\.1/);
  assert.match(refusal({ out: 'o', datasets: [DATA], ratios: [] }), /ratios/);
  assert.match(refusal({ out: 'o', datasets: [] }), /datasets: give at least one dataset/);
  assert.match(refusal({ datasets: [DATA] }), /out/);
  assert.match(refusal({ out: 'o', datasets: [DATA], base: { geometry: { size: 8 } } }), /base\.geometry\.size/);
  assert.match(refusal({ out: 'o', datasets: [DATA], base: { config: { schedule: { batchSize: 5 } } } }), /base\.config\.schedule\.batchSize/);
});

test('duplicates and keys the sweep owns are refused', () => {
  assert.match(refusal({ out: 'o', datasets: [DATA], ratios: [0.1, 0.1] }), /ratios\.1: duplicate value 0\.1/);
  assert.match(refusal({ out: 'o', datasets: [DATA, { ...DATA, root: 'elsewhere' }] }), /datasets\.1\.category: category "carpet" is already used/);
  assert.match(refusal({ out: 'o', datasets: [DATA], base: { config: { reweighting: { alpha: 0.5 } } } }), /base\.config\.reweighting\.alpha: set by the sweep; list the values in "alphaLambda"/);
  assert.match(refusal({ out: 'o', datasets: [DATA], base: { config: { scoring: { fusionWeights: { deviation: 1, uncertainty: 0, segmentation: 0 } } } } }), /fusionWeights/);
});

test('relative paths in a config file resolve from its folder; --out from the working directory', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'experiments'));
  const path = join(dir, 'experiments', 'sweep.json');
  writeFileSync(path, JSON.stringify({ out: '../sweeps/a', datasets: [{ ...DATA, root: '../data/synthetic' }], base: { featureCache: 'cache' } }));
  const config = readSweepConfigFile(path);
  assert.equal(config.out, join(dir, 'sweeps', 'a'));
  assert.equal(config.datasets[0].root, join(dir, 'data', 'synthetic'));
  assert.equal(config.base.featureCache, join(dir, 'experiments', 'cache'));
  assert.equal(readSweepConfigFile(path, { out: 'elsewhere' }).out, join(process.cwd(), 'elsewhere'));
});

test('a bad config file is refused before any work: the error names the file and key, no output folder appears', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'bad.json');
  writeFileSync(path, JSON.stringify({ out: 'out', datasets: [DATA], ratios: [0.1, 1.5] }));
  assert.throws(() => readSweepConfigFile(path), (err: Error) => err instanceof InputError && err.message.includes(path) && /ratios\.1/.test(err.message));
  assert.equal(existsSync(join(dir, 'out')), false);

  // A dataset root that does not exist is refused by the runner before it writes anything.
  const missing = parseSweepConfig({ out: join(dir, 'out2'), datasets: [{ ...DATA, root: join(dir, 'nowhere') }] });
  assert.throws(() => checkSweepInputs(missing), /datasets\.0\.root: folder not found/);
  await assert.rejects(runSweep(missing, { silent: true }), /datasets\.0\.root/);
  assert.equal(existsSync(join(dir, 'out2')), false);
});
