import type { MultiCueConfigInput } from './config.ts';

/**
 * Named starting points for the detector's config. `paper` is METHOD.md as
 * written (full decoder, 25 epochs × 20 steps × batch 48): hours per run on a
 * 2-core CPU, minutes with tfjs-node-gpu. `cpu` keeps the method and trades
 * schedule length and decoder resolution for minutes on a CPU: the lite
 * segmentation head (stride-4 output, resized) behind a 1×1 projection to 64
 * channels, a shorter schedule with a higher learning rate, 2 pseudo-anomaly
 * variants per pool image, ADL's λ schedule, a hidden layer in the deviation
 * head. Pixel AUROC of both heads is reported by every run.
 */
export const CONFIG_PRESETS = {
  paper: {},
  cpu: {
    // A 64-wide hidden layer in the deviation head: the encoder is frozen here.
    // Synthetic demo (offline backbone, 16 epochs): carpet 0.93 → 0.95, washer
    // 0.79 → 0.82 image AUROC; magnetic tile at 128 px unchanged (0.80).
    model: { segmentationHead: 'lite', segmentationProjection: 64, deviationHidden: 64 },
    optimizer: { learningRate: 1e-3, decayEveryEpochs: 6 },
    // About 30 burn-in steps, as the paper's 6% of 500: with fewer, the 2-means
    // targets and q = p(x) switch on before φ separates anything, and the
    // classifier and the deviation head collapse to "everything is anomalous".
    loss: { burnInFraction: 0.25 },
    // ADL's λ schedule (10λ easing to λ) softens the instance weights right after
    // burn-in. Measured: synthetic washer, offline backbone, image AUROC 0.67 → 0.74
    // (8 epochs, burn-in 0.5); magnetic tile at 128 px unchanged (0.80).
    reweighting: { lambdaSchedule: true },
    schedule: { epochs: 8, stepsPerEpoch: 15, batchSize: 32 },
    cache: { pseudoVariants: 2 },
  },
} as const satisfies Record<string, MultiCueConfigInput>;

export type ConfigPresetName = keyof typeof CONFIG_PRESETS;
export const CONFIG_PRESET_NAMES = Object.keys(CONFIG_PRESETS) as ConfigPresetName[];

/** The preset when none is named: `paper` on a GPU backend, `cpu` otherwise. */
export function defaultPreset(backend: string | undefined = process.env.MULTICUE_BACKEND): ConfigPresetName {
  return backend === 'node-gpu' ? 'paper' : 'cpu';
}

type Json = Record<string, unknown>;
/** Deep-merge `override` onto `base` (plain objects only; arrays and values replace). */
export function mergeConfig(base: Json, override: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const prior = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prior && typeof prior === 'object' && !Array.isArray(prior)
        ? mergeConfig(prior as Json, value as Json)
        : value;
  }
  return out;
}
