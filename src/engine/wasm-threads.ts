import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import os from 'node:os';
import workerThreads from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.ts';

/**
 * Multi-threaded tfjs wasm (XNNPACK on a pthread pool) in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build but never uses it in Node:
 * the WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false there (tfjs issue
 * #3830), its loader hands the pthread workers Blob URLs (Node's worker_threads
 * cannot load those), and the C++ side caps the pool at half the logical cores
 * (1 on a 2-core machine). This module loads the threaded build itself:
 * - the worker script (shipped as a JS string) is written once to a file;
 * - the main script is passed to workers by path, so they can `importScripts` it;
 * - the core count the C++ code reads is reported as twice the wanted threads
 *   while the module starts (it halves it to skip hyper-threads);
 * - workers start without the parent's node flags (`--input-type`, `--eval` or a
 *   loader would break or slow their plain-JS start-up);
 * - the pool's workers are unreferenced, so the process can exit;
 * then registers it as the 'wasm' backend in place of the stock loader.
 *
 * MULTICUE_WASM_THREADS=N picks the thread count; 1 keeps the stock single-threaded build.
 */

const require = createRequire(import.meta.url);

interface NodeWorker {
  unref(): void;
}

interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  tfjs?: Record<string, unknown>;
  PThread?: { runningWorkers: NodeWorker[]; unusedWorkers: NodeWorker[] };
}

interface WasmPackage {
  BackendWasm: new (module: EmscriptenModule) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** Threads wanted: MULTICUE_WASM_THREADS, else `fallback`, clamped to [1, cores]. */
export function wantedWasmThreads(fallback: number, env = process.env): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const raw = env.MULTICUE_WASM_THREADS?.trim();
  const asked = raw ? Number(raw) : fallback;
  if (!Number.isInteger(asked) || asked < 1) {
    throw new Error(`MULTICUE_WASM_THREADS must be a whole number >= 1 (got "${raw}")`);
  }
  // XNNPACK's pool stops at 8 (the build pre-creates 8 workers).
  return Math.max(1, Math.min(asked, cores, 8));
}

let installedThreads: number | null = null;

/** The thread count of the installed threaded backend, or null when the stock one is used. */
export function installedWasmThreads(): number | null {
  return installedThreads;
}

/**
 * Install the threaded wasm backend with `threads` threads. Call before the first
 * tf.setBackend('wasm'). Returns false (leaving the stock backend) if anything fails.
 */
export async function installThreadedWasm(threads: number, warn: (m: string) => void = () => {}): Promise<boolean> {
  if (installedThreads !== null) return installedThreads === threads;
  if (threads <= 1) return false;
  try {
    const wasmPackage = require('@tensorflow/tfjs-backend-wasm') as WasmPackage;
    const outDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
    const mainScript = join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
    const wasmBinary = join(outDir, 'tfjs-backend-wasm-threaded-simd.wasm');
    const factory = require(mainScript) as (config: object) => Promise<EmscriptenModule>;
    const workerScript = writeWorkerScript(outDir);

    const module = await withNodeShims(2 * threads, () =>
      factory({
        locateFile: (path: string, prefix: string) =>
          path.endsWith('.worker.js') ? workerScript : path.endsWith('.wasm') ? wasmBinary : prefix + path,
        // Workers load the main script by path (the stock loader passes a Blob).
        mainScriptUrlOrBlob: mainScript,
      }),
    );
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    wasmPackage.setThreadsCount(threads);
    if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
    tf.registerBackend(
      'wasm',
      () => {
        const backend = new wasmPackage.BackendWasm(module); // starts the XNNPACK thread pool
        // Emscripten keeps running pthread workers referenced, so the process would
        // never exit; the pool's threads only ever wait for work from this thread.
        for (const worker of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) {
          worker.unref();
        }
        return backend;
      },
      2,
    );
    installedThreads = threads;
    return true;
  } catch (err) {
    warn(`wasm threads unavailable, using one thread: ${(err as Error).message ?? err}`);
    return false;
  }
}

/**
 * The worker script ships as a string export; Node's workers need a file. Written
 * once per tfjs version under the OS temp folder (atomically: parallel test files race).
 */
function writeWorkerScript(outDir: string): string {
  const { wasmWorkerContents } = require(join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The string holds "\n" escapes that became real newlines inside string literals.
  const contents = wasmWorkerContents.replace(/\n/g, '\\n');
  const version = (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  const path = join(os.tmpdir(), `multicue-tfjs-wasm-${version}`, 'threaded-simd.worker.cjs');
  if (!existsSync(path) || readFileSync(path, 'utf8') !== contents) writeFileAtomicSync(path, contents);
  return path;
}

/**
 * Run `start` while os.cpus() reports `count` cores (the module reads it once, at
 * start-up) and worker_threads.Worker starts workers without the parent's node
 * flags (the module keeps that constructor for every worker it makes later).
 */
async function withNodeShims<T>(count: number, start: () => Promise<T>): Promise<T> {
  const realCpus = os.cpus;
  const RealWorker = workerThreads.Worker;
  const first = realCpus()[0];
  class PlainWorker extends RealWorker {
    constructor(file: string | URL, options: workerThreads.WorkerOptions = {}) {
      super(file, { execArgv: [], ...options });
    }
  }
  os.cpus = () => Array.from({ length: count }, () => first);
  (workerThreads as { Worker: typeof RealWorker }).Worker = PlainWorker;
  try {
    return await start();
  } finally {
    os.cpus = realCpus;
    (workerThreads as { Worker: typeof RealWorker }).Worker = RealWorker;
  }
}
