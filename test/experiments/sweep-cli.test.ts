import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/util/paths.ts';
import { cellIds, readResults, tinySweep, tinySyntheticData, useSharedWeights, type TinyData } from './sweep-fixture.ts';

let data: TinyData;
before(async () => {
  useSharedWeights();
  data = await tinySyntheticData();
});
after(() => data?.cleanup());

const CLI = ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')];

function finishedCells(out: string): number {
  const dir = join(out, 'runs', 'carpet');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((cell) => existsSync(join(dir, cell, 'metrics.json'))).length;
}

test('multicue sweep: Ctrl-C stops after the current cell, --dry-run shows what is done, a rerun finishes the rest', async () => {
  const out = join(data.dir, 'sweep-cli');
  const configPath = join(data.dir, 'sweep.json');
  // Six trainings: SIGINT arrives while the first cells run, long before the last.
  writeFileSync(configPath, JSON.stringify(tinySweep('data', 'sweep-cli', { ratios: [0.05, 0.1, 0.2], seeds: [0, 1] })));

  const child = spawn(process.execPath, [...CLI, 'sweep', configPath], { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let signalled = false;
  while (!signalled) {
    if (child.exitCode !== null) break;
    if (finishedCells(out) >= 1) {
      child.kill('SIGINT');
      signalled = true;
    } else await new Promise((r) => setTimeout(r, 50));
  }
  const code = await exited;
  assert.ok(signalled, `the sweep ended before any cell finished: ${stderr}`);
  assert.equal(code, 130, `exit code after Ctrl-C (stderr: ${stderr})`);
  assert.match(stdout, /without results/);
  const afterStop = finishedCells(out);
  assert.ok(afterStop >= 1 && afterStop < 6, `stopped after the current cell, ${afterStop} of 6 finished`);
  assert.equal(cellIds(readResults(out)).size, afterStop, 'results.json holds every finished cell');

  const dry = spawnSync(process.execPath, [...CLI, 'sweep', configPath, '--dry-run'], { cwd: REPO_ROOT, env: process.env, encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`6 cells[\\s\\S]*${afterStop} done, 0 failed before, ${6 - afterStop} to run`));
  assert.equal((dry.stdout.match(/^\s+done\s/gm) ?? []).length, afterStop);
  assert.equal(finishedCells(out), afterStop, 'a dry run runs nothing');

  const rerun = spawnSync(process.execPath, [...CLI, 'sweep', configPath], { cwd: REPO_ROOT, env: process.env, encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stdout, new RegExp(`6 cells, ${afterStop} already done, ${6 - afterStop} ran now, 0 failed`));
  assert.equal(cellIds(readResults(out)).size, 6);
});

test('multicue sweep refuses a bad config before any work, naming the key', () => {
  const configPath = join(data.dir, 'bad.json');
  writeFileSync(configPath, JSON.stringify({ ...tinySweep('data', 'sweep-bad'), fusionWeights: [[0.5, 0.5, 0.5]], epochs: 3 }));
  const run = spawnSync(process.execPath, [...CLI, 'sweep', configPath], { cwd: REPO_ROOT, env: process.env, encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /epochs: unknown key/);
  assert.match(run.stderr, /fusionWeights\.0: fusion weights \[w_d, w_u, w_s\] must sum to 1/);
  assert.ok(run.stderr.includes(configPath));
  assert.equal(existsSync(join(data.dir, 'sweep-bad')), false);
});
