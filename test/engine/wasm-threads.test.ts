import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../../src/util/paths.ts';
import { initBackend, environmentReport } from '../../src/engine/backend.ts';
import { installThreadedWasm, installedWasmThreads, wantedWasmThreads } from '../../src/engine/wasm-threads.ts';
import { Rng } from '../../src/util/rng.ts';

test('MULTICUE_WASM_THREADS is parsed, clamped to the cores and to 8, and rejects nonsense', () => {
  assert.equal(wantedWasmThreads(1, {}), 1);
  assert.equal(wantedWasmThreads(1, { MULTICUE_WASM_THREADS: '1' }), 1);
  assert.ok(wantedWasmThreads(1, { MULTICUE_WASM_THREADS: '64' }) <= 8);
  assert.throws(() => wantedWasmThreads(1, { MULTICUE_WASM_THREADS: 'two' }), /whole number/);
  assert.throws(() => wantedWasmThreads(1, { MULTICUE_WASM_THREADS: '0' }), /whole number/);
});

test('the threaded wasm build runs with 2 threads in Node and computes what the cpu backend does', async () => {
  // Installed before the wasm backend starts (this test file runs in its own process).
  assert.equal(await installThreadedWasm(2), true);
  assert.equal(installedWasmThreads(), 2);
  assert.equal(await initBackend('wasm'), 'wasm');
  assert.equal((await environmentReport()).threads, 2);

  const rng = new Rng('threads');
  const xValues = Float32Array.from({ length: 2 * 16 * 16 * 8 }, () => rng.normal());
  const wValues = Float32Array.from({ length: 3 * 3 * 8 * 16 }, () => rng.normal());
  const compute = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xValues, [2, 16, 16, 8]);
      const w = tf.tensor4d(wValues, [3, 3, 8, 16]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))),
      )([x, w]);
      return [tf.conv2d(x, w, 1, 'same'), dx, dw].map((t) => t.dataSync() as Float32Array);
    });
  const threaded = compute();
  await tf.setBackend('cpu');
  const reference = compute();
  reference.forEach((ref, i) => {
    const scale = Math.max(...ref.map(Math.abs));
    const err = Math.max(...ref.map((v, j) => Math.abs(v - threaded[i][j])));
    assert.ok(err / scale < 1e-4, `output ${i}: relative error ${err / scale}`);
  });
});

test('a process on the threaded backend exits by itself, whatever node flags it was started with', () => {
  // --input-type is inherited by workers unless they start without the parent's flags.
  const script = [
    "import { initBackend, environmentReport } from './src/engine/backend.ts';",
    "import * as tf from '@tensorflow/tfjs';",
    "await initBackend('wasm');",
    "tf.conv2d(tf.ones([1, 8, 8, 4]), tf.ones([3, 3, 4, 4]), 1, 'same').dataSync();",
    'console.log(`threads=${(await environmentReport()).threads}`);',
  ].join('\n');
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, MULTICUE_WASM_THREADS: '2' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(child.signal, null, 'the process had to be killed: it did not exit');
  assert.equal(child.status, 0, child.stderr.slice(-2000));
  assert.match(child.stdout, /threads=2/);
});
