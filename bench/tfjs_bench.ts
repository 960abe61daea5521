/**
 * The multicue (TensorFlow.js) side of `npm run bench`: the workloads of
 * bench/torch_bench.py on this engine. Run by bench/run.ts once per thread
 * setting (MULTICUE_WASM_THREADS); prints one JSON object on the last line.
 *
 * Usage: tsx bench/tfjs_bench.ts [--quick] [--only a,b]
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { environmentReport } from '../src/engine/backend.ts';
import { sharedPath } from '../src/util/paths.ts';
import type { Backbone } from '../src/backbones/types.ts';
import { decoderStepFactory } from './decoder.ts';

export const SIZE = 256;
export const BATCH = 8;

export interface Measurement {
  value: number;
  unit: string;
  seconds: number;
  /** Process CPU time / wall time while timing (below the thread count = the machine was busy). */
  cpuShare: number;
  note?: string;
}
export type Outcome = Measurement | { skipped: string };

/** Median wall seconds of `reps` calls after `warmup` untimed ones, plus the CPU share. */
async function timed(run: () => void | Promise<void>, warmup: number, reps: number): Promise<[number, number]> {
  for (let i = 0; i < warmup; i++) await run();
  const walls: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    walls.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const share = (cpu.user + cpu.system) / 1000 / Math.max(1e-6, performance.now() - start);
  walls.sort((a, b) => a - b);
  return [walls[Math.floor(walls.length / 2)], share];
}

/** Import a module another engineer owns; null (with the reason) when it is not there yet. */
async function optionalImport<T>(path: string): Promise<T | string> {
  try {
    return (await import(path)) as T;
  } catch (err) {
    return `${path} not available (${(err as Error).message.split('\n')[0]})`;
  }
}

async function loadResNet18(): Promise<Backbone | string> {
  const mod = await optionalImport<{ loadResNet18FromSafetensors(p: string): Promise<Backbone> }>(
    '../src/backbones/resnet18.ts',
  );
  if (typeof mod === 'string') return mod;
  const weights = sharedPath('testvectors', 'resnet18', 'weights.safetensors');
  if (!existsSync(weights)) return `random ResNet-18 weights not found at ${weights}`;
  return mod.loadResNet18FromSafetensors(weights);
}

async function loadMobileNetV2(): Promise<Backbone | string> {
  const mod = await optionalImport<{ loadBackbone(n: string, o: { cacheDir: string }): Promise<Backbone> }>(
    '../src/backbones/registry.ts',
  );
  if (typeof mod === 'string') return mod;
  return mod.loadBackbone('mobilenetv2', { cacheDir: sharedPath('weights') });
}

async function backboneForward(load: () => Promise<Backbone | string>, reps: number): Promise<Outcome> {
  const backbone = await load();
  if (typeof backbone === 'string') return { skipped: backbone };
  const x = tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  try {
    const [seconds, cpuShare] = await timed(
      () => {
        const taps = backbone.forward(x);
        tf.sum(taps[2]).dataSync(); // wait for the result on asynchronous backends
        tf.dispose(taps);
      },
      1,
      reps,
    );
    return { value: BATCH / seconds, unit: 'img/s', seconds, cpuShare };
  } finally {
    x.dispose();
    backbone.dispose();
  }
}

/** ∂ sum(layer4) / ∂ input for one 256² image (localization's per-image cost). */
async function inputGradient(reps: number): Promise<Outcome> {
  const backbone = await loadResNet18();
  if (typeof backbone === 'string') return { skipped: backbone };
  const gradient = tf.grad((x: tf.Tensor) => tf.sum(backbone.forward(x as tf.Tensor4D, { forGradient: true })[2]));
  try {
    let seed = 10;
    const [seconds, cpuShare] = await timed(
      () => {
        const x = tf.randomUniform([1, SIZE, SIZE, 3], 0, 1, 'float32', seed++) as tf.Tensor4D;
        const g = gradient(x);
        g.dataSync();
        tf.dispose([x, g]);
      },
      1,
      reps,
    );
    return { value: seconds, unit: 's/img', seconds, cpuShare };
  } finally {
    backbone.dispose();
  }
}

async function decoderStep(reps: number): Promise<Outcome> {
  const { step, dispose, implementation } = await decoderStepFactory(BATCH, SIZE);
  try {
    const [seconds, cpuShare] = await timed(step, 1, reps);
    return { value: seconds, unit: 's/step', seconds, cpuShare, note: implementation };
  } finally {
    dispose();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyAt = args.indexOf('--only');
  const only = new Set(onlyAt >= 0 ? args[onlyAt + 1].split(',') : []);
  const reps = quick ? 2 : 3;
  const env = await environmentReport();
  const workloads: Record<string, () => Promise<Outcome>> = {
    'resnet18-forward': () => backboneForward(loadResNet18, reps),
    'mobilenetv2-forward': () => backboneForward(loadMobileNetV2, reps),
    'input-gradient': () => inputGradient(reps),
    'decoder-step': () => decoderStep(quick ? 2 : reps),
  };
  const results: Record<string, Outcome> = {};
  for (const [name, run] of Object.entries(workloads)) {
    if (only.size && !only.has(name)) continue;
    process.stderr.write(`multicue (${env.backend}, ${env.threads ?? '-'} threads): ${name} ...\n`);
    try {
      results[name] = await run();
    } catch (err) {
      results[name] = { skipped: `failed: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  const facts = {
    backend: env.backend,
    threads: env.threads,
    tfjs: env.versions['@tensorflow/tfjs'],
    tfjsWasm: env.versions['@tensorflow/tfjs-backend-wasm'],
    node: env.node,
  };
  process.stdout.write(`\n${JSON.stringify({ facts, results })}\n`);
}

await main();
