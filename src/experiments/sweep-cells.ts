/**
 * Expanding a sweep config into cells: category × method × ratio × shots ×
 * seed × (α, λ) × fusion weights, with the axes a method ignores collapsed so
 * no cell runs twice:
 *   multicue   every axis; fusion weights re-score one trained model
 *   adl        shots forced to 0 by its preset, one fusion (deviation only)
 *   patchcore,
 *   padim      no shots, α, λ or fusion: one cell per (ratio, seed). They use
 *              the manifest of the sweep's largest k (they ignore the few-shot
 *              anomalies), so their test set is the main multicue cell's.
 * Every cell's experiment is parsed here, so an impossible combination is
 * refused before any work.
 */
import { join } from 'node:path';
import type { DataSpec } from '../data/spec.ts';
import { applyMethodPreset, cellName, parseExperiment, type Experiment, type Method } from '../pipeline/experiment.ts';
import { isSupervisedMethod } from '../pipeline/prepare.ts';
import { DEFAULT_FUSION_CONFIG } from '../scoring/fusion.ts';
import { formatFusionWeights } from './results-schema.ts';
import { specCategory, type SweepConfig } from './sweep-config.ts';
import { sweepFeatureCacheDir, sweepRunsDir } from './sweep-files.ts';

export type FusionVector = [number, number, number];

export interface SweepCell {
  category: string;
  method: Method;
  /** Run directory name: cellName(experiment), plus "-w<w_d>_<w_u>_<w_s>" for non-default fusion weights. */
  name: string;
  /** Absolute run directory: <out>/runs/<category>/<name>. */
  dir: string;
  /** The full experiment, method preset applied. */
  experiment: Experiment;
  /** Fusion weights of a multicue cell; null for the other methods. */
  fusion: FusionVector | null;
  /**
   * Cells sharing a unit share one trained model (multicue cells differing only
   * in fusion weights); every other cell is a unit of its own.
   */
  unit: string;
  /** Index of the dataset spec in the config. */
  datasetIndex: number;
}

const DEFAULT_WEIGHTS: FusionVector = [
  DEFAULT_FUSION_CONFIG.weights.deviation,
  DEFAULT_FUSION_CONFIG.weights.uncertainty,
  DEFAULT_FUSION_CONFIG.weights.segmentation,
];

function sameWeights(a: readonly number[], b: readonly number[]): boolean {
  return a.every((w, i) => Math.abs(w - b[i]) <= 1e-9);
}

/** "0.5/0.2/0.3" as a folder-name suffix ("-w0.5_0.2_0.3"); none for METHOD's default weights. */
function fusionSuffix(weights: FusionVector): string {
  return sameWeights(weights, DEFAULT_WEIGHTS) ? '' : `-w${formatFusionWeights(weights).replaceAll('/', '_')}`;
}

function shotsFor(method: Method, shots: readonly number[]): number[] {
  if (method === 'multicue') return [...shots];
  if (method === 'adl') return [0];
  return [Math.max(...shots)];
}

function cellExperiment(
  config: SweepConfig,
  data: DataSpec,
  method: Method,
  protocol: { ratio: number; shots: number; seed: number },
  alphaLambda: [number, number] | null,
  fusion: FusionVector | null,
): Experiment {
  const base = config.base;
  const baseConfig = (base.config ?? {}) as Record<string, Record<string, unknown>>;
  const experimentConfig = {
    ...baseConfig,
    ...(alphaLambda ? { reweighting: { ...baseConfig.reweighting, alpha: alphaLambda[0], lambda: alphaLambda[1] } } : {}),
    ...(fusion
      ? { scoring: { ...baseConfig.scoring, fusionWeights: { deviation: fusion[0], uncertainty: fusion[1], segmentation: fusion[2] } } }
      : {}),
  };
  const { protocol: sharedProtocol, ...shared } = base;
  const input = {
    ...shared,
    data,
    protocol: { ...protocol, ...sharedProtocol },
    method,
    config: experimentConfig,
    // A sweep always shares features between its cells on disk unless told otherwise.
    featureCache: base.featureCache === undefined ? sweepFeatureCacheDir(config.out) : base.featureCache,
  };
  return applyMethodPreset(parseExperiment(input, `sweep cell ${method} r=${protocol.ratio} k=${protocol.shots} seed=${protocol.seed}`));
}

/** Every cell of a sweep, in run order (category, method, ratio, shots, seed, α/λ, fusion), without duplicates. */
export function expandSweep(config: SweepConfig): SweepCell[] {
  const cells: SweepCell[] = [];
  const seen = new Set<string>();
  config.datasets.forEach((data, datasetIndex) => {
    const category = specCategory(data);
    for (const method of config.methods) {
      const supervised = isSupervisedMethod(method);
      for (const ratio of config.ratios) {
        for (const shots of shotsFor(method, config.shots)) {
          for (const seed of config.seeds) {
            const pairs: Array<[number, number] | null> = supervised ? config.alphaLambda : [null];
            for (const alphaLambda of pairs) {
              const fusions: Array<FusionVector | null> = method === 'multicue' ? config.fusionWeights : [null];
              for (const fusion of fusions) {
                const experiment = cellExperiment(config, data, method, { ratio, shots, seed }, alphaLambda, fusion);
                const unit = `${category}/${cellName(experiment)}`;
                const name = cellName(experiment) + (fusion ? fusionSuffix(fusion) : '');
                const key = `${category}/${name}`;
                if (seen.has(key)) continue;
                seen.add(key);
                cells.push({
                  category,
                  method,
                  name,
                  dir: join(sweepRunsDir(config.out), category, name),
                  experiment,
                  fusion,
                  unit,
                  datasetIndex,
                });
              }
            }
          }
        }
      }
    }
  });
  return cells;
}

/** Cells grouped by training unit, in run order. */
export function sweepUnits(cells: readonly SweepCell[]): SweepCell[][] {
  const units = new Map<string, SweepCell[]>();
  for (const cell of cells) {
    const unit = units.get(cell.unit) ?? [];
    unit.push(cell);
    units.set(cell.unit, unit);
  }
  return [...units.values()];
}
