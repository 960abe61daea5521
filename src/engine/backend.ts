import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { registerWasmKernels } from './wasm-kernels.ts';
import { installThreadedWasm, wantedWasmThreads } from './wasm-threads.ts';
import { warnToStderr } from '../util/errors.ts';

/**
 * Picks the fastest TensorFlow.js backend that is installed:
 * tfjs-node-gpu > tfjs-node > wasm > cpu. The two native packages are optional
 * (they download a native library at install time), never dependencies.
 * Force one with MULTICUE_BACKEND=node-gpu|node|wasm|cpu or the CLI's --backend.
 */
export type BackendName = 'node-gpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['node-gpu', 'node', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);
let chosen: BackendName | null = null;

/** Hooks run once after a backend is ready (the engine registers its wasm kernels here). */
const readyHooks: Array<(name: BackendName) => void | Promise<void>> = [];
export function onBackendReady(hook: (name: BackendName) => void | Promise<void>): void {
  readyHooks.push(hook);
}

/** The installed version of a package, or 'not installed'. */
export function installedVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** multicue's own version (package.json at the repository root). */
export function multicueVersion(): string {
  return (require('../../package.json') as { version: string }).version;
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * Threads for the wasm backend unless MULTICUE_WASM_THREADS says otherwise
 * (1 = the stock single-threaded build). See BENCHMARKS.md for the measurements behind it.
 */
export const DEFAULT_WASM_THREADS = 1;

/** True once a 'wasm' backend instance exists (its loader can no longer be swapped). */
function wasmBackendStarted(): boolean {
  const registry = (tf.engine() as unknown as { registry?: Record<string, unknown> }).registry;
  return Boolean(registry?.wasm);
}

async function tryBackend(name: BackendName): Promise<boolean> {
  // Outside the try: a bad MULTICUE_WASM_THREADS is the user's error to see, not a reason to fall back.
  const wasmThreads = name === 'wasm' ? wantedWasmThreads(DEFAULT_WASM_THREADS) : 1;
  try {
    switch (name) {
      case 'node-gpu':
        if (!isInstalled('@tensorflow/tfjs-node-gpu')) return false;
        require('@tensorflow/tfjs-node-gpu');
        return await tf.setBackend('tensorflow');
      case 'node':
        if (!isInstalled('@tensorflow/tfjs-node')) return false;
        require('@tensorflow/tfjs-node');
        return await tf.setBackend('tensorflow');
      case 'wasm':
        // Our gradient kernels (conv/depthwise backprop) replace or fill in the stock ones.
        await registerWasmKernels();
        if (!wasmBackendStarted()) await installThreadedWasm(wasmThreads, warnToStderr);
        return await tf.setBackend('wasm');
      case 'cpu':
        return await tf.setBackend('cpu');
    }
  } catch {
    return false;
  }
}

/**
 * Initialise the backend once (idempotent). `force` (or MULTICUE_BACKEND) picks one;
 * a forced backend that cannot start is an error, not a silent fallback.
 */
export async function initBackend(force?: BackendName | string): Promise<BackendName> {
  const wanted = (force ?? process.env.MULTICUE_BACKEND ?? '').trim();
  if (chosen && (!wanted || wanted === chosen)) return chosen;
  if (wanted) {
    if (!BACKEND_NAMES.includes(wanted as BackendName)) {
      throw new Error(`Unknown backend "${wanted}": use one of ${BACKEND_NAMES.join(', ')}`);
    }
    if (!(await tryBackend(wanted as BackendName))) {
      const hint =
        wanted === 'node' || wanted === 'node-gpu'
          ? ` Install it with: npm install @tensorflow/tfjs-${wanted === 'node' ? 'node' : 'node-gpu'}@${tf.version.tfjs}`
          : '';
      throw new Error(`Backend "${wanted}" could not start.${hint}`);
    }
    chosen = wanted as BackendName;
  } else {
    for (const name of BACKEND_NAMES) {
      if (await tryBackend(name)) {
        chosen = name;
        break;
      }
    }
    if (!chosen) throw new Error('No TensorFlow.js backend could start (not even cpu).');
  }
  await tf.ready();
  for (const hook of readyHooks) await hook(chosen);
  return chosen;
}

export function currentBackend(): BackendName | null {
  return chosen;
}

export interface EnvironmentReport {
  backend: BackendName;
  tfBackend: string;
  threads: number | null;
  versions: Record<string, string>;
  optionalBackends: Record<string, boolean>;
  node: string;
  cpus: number;
}

export async function environmentReport(force?: string): Promise<EnvironmentReport> {
  const backend = await initBackend(force);
  const os = await import('node:os');
  let threads: number | null = null;
  if (backend === 'wasm') {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      threads = (wasm as unknown as { getThreadsCount?: () => number }).getThreadsCount?.() ?? 1;
    } catch {
      threads = null;
    }
  }
  return {
    backend,
    tfBackend: tf.getBackend(),
    threads,
    versions: {
      multicue: multicueVersion(),
      '@tensorflow/tfjs': tf.version.tfjs,
      '@tensorflow/tfjs-backend-wasm': installedVersion('@tensorflow/tfjs-backend-wasm'),
      sharp: installedVersion('sharp'),
    },
    optionalBackends: {
      '@tensorflow/tfjs-node': isInstalled('@tensorflow/tfjs-node'),
      '@tensorflow/tfjs-node-gpu': isInstalled('@tensorflow/tfjs-node-gpu'),
    },
    node: process.version,
    cpus: os.cpus().length,
  };
}
