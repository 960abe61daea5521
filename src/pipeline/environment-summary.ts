import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { currentBackend } from '../engine/backend.ts';

const require = createRequire(import.meta.url);

/** What a run record states about where it ran (versions matter for reproducing numbers). */
export function environmentSummary(): { multicue: string; tfjs: string; backend: string | null; node: string; cpus: number } {
  return {
    multicue: (require('../../package.json') as { version: string }).version,
    tfjs: tf.version.tfjs,
    backend: currentBackend(),
    node: process.version,
    cpus: cpus().length,
  };
}
