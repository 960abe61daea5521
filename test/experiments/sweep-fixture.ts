/**
 * Shared fixtures of the sweep tests: a tiny generated synthetic dataset and a
 * sweep config over it with the fastest real backbone and a two-step schedule.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSyntheticDataset } from '../../src/data/synthetic/generate.ts';
import type { SweepConfigInput } from '../../src/experiments/sweep-config.ts';
import { RESULTS_FILE, type MetricRow } from '../../src/experiments/results-schema.ts';
import { sharedPath } from '../../src/util/paths.ts';

/** The shared MobileNetV2-0.35 weights (tfjs), found through MULTICUE_WEIGHTS. */
export function useSharedWeights(): void {
  process.env.MULTICUE_WEIGHTS = sharedPath('weights');
}

export interface TinyData {
  dir: string;
  /** MVTec-layout root holding the category folder "carpet". */
  root: string;
  cleanup(): void;
}

/** 12 nominal training, 4 nominal test and 9 anomalous test images of 64² carpet. */
export async function tinySyntheticData(): Promise<TinyData> {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-sweep-'));
  const root = join(dir, 'data');
  await generateSyntheticDataset({ out: root, size: 64, categories: ['carpet'], train: 12, testGood: 4, testPerDefect: 3, silent: true });
  return { dir, root, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of the carpet category under another name with one unreadable test image. */
export function corruptCopy(root: string, name: string): void {
  cpSync(join(root, 'carpet'), join(root, name), { recursive: true });
  const victim = join(root, name, 'test', 'good', '000.png');
  writeFileSync(victim, 'not a png');
}

export const TINY_BASE = {
  geometry: { size: 64, resize: 'stretch' },
  backbone: { name: 'mobilenetv2-0.35' },
  gradientMaps: 2,
  config: {
    model: { segmentationHead: 'lite' },
    schedule: { epochs: 1, stepsPerEpoch: 2, batchSize: 4 },
    cache: { pseudoVariants: 1 },
  },
} as const;

export function tinySweep(root: string, out: string, extra: Partial<SweepConfigInput> = {}): SweepConfigInput {
  return {
    out,
    datasets: [{ format: 'mvtec', root, category: 'carpet' }],
    ratios: [0.1, 0.2],
    shots: [2],
    seeds: [0],
    methods: ['multicue'],
    base: structuredClone(TINY_BASE) as SweepConfigInput['base'],
    ...extra,
  };
}

export function readResults(out: string): MetricRow[] {
  return JSON.parse(readFileSync(join(out, RESULTS_FILE), 'utf8')) as MetricRow[];
}

export function cellIds(rows: readonly MetricRow[]): Set<string> {
  return new Set(rows.map((r) => r.cellId!));
}
