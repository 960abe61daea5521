import * as tf from '@tensorflow/tfjs';
import { cpus } from 'node:os';
import { currentBackend, multicueVersion } from '../engine/backend.ts';

/** What a run record states about where it ran (versions matter for reproducing numbers). */
export function environmentSummary(): { multicue: string; tfjs: string; backend: string | null; node: string; cpus: number } {
  return {
    multicue: multicueVersion(),
    tfjs: tf.version.tfjs,
    backend: currentBackend(),
    node: process.version,
    cpus: cpus().length,
  };
}
