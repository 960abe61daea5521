/**
 * A generated sweep in the tidy results schema: plausible numbers with known
 * structure (each method loses AUROC linearly with contamination, gains with
 * shots, seeds add noise). For demos of the tables and figures, for tests,
 * and for notebooks before a real sweep has run. Not results of any model.
 */
import { Rng } from '../util/rng.ts';
import {
  cellIdOf,
  formatFusionWeights,
  type CellKey,
  type ImageScoreRow,
  type MetricRow,
} from './results-schema.ts';
import type { SweepResults } from './sweep-results.ts';

export interface ExampleSweepOptions {
  seed?: number;
  categories?: string[];
  methods?: string[];
  ratios?: number[];
  seeds?: number[];
  /** Shot levels of the multicue/adl shot sweep (at ratio 0.1). */
  shots?: number[];
  /** Fusion-weight step of the w_d × w_u grid (multicue); 0 = no grid. */
  fusionStep?: number;
  alphas?: number[];
  lambdas?: number[];
  /** Test images per cell in image-scores (multicue at ratio 0.1, first seed). */
  imagesPerCell?: number;
}

const DEFAULT_FUSION: [number, number, number] = [0.5, 0.2, 0.3];
// Clean-data AUROC and loss per unit of contamination ratio, per method.
const METHOD_PROFILE: Record<string, { base: number; slope: number; supervised: boolean }> = {
  multicue: { base: 0.975, slope: 0.22, supervised: true },
  adl: { base: 0.955, slope: 0.4, supervised: true },
  patchcore: { base: 0.9, slope: 1.0, supervised: false },
  padim: { base: 0.85, slope: 1.6, supervised: false },
};

export function exampleSweepResults(opts: ExampleSweepOptions = {}): SweepResults {
  const rng = new Rng(opts.seed ?? 0);
  const categories = opts.categories ?? ['carpet', 'pill', 'wood'];
  const methods = opts.methods ?? ['multicue', 'adl', 'patchcore', 'padim'];
  const ratios = opts.ratios ?? [0.05, 0.1, 0.15, 0.2];
  const seeds = opts.seeds ?? [0, 1, 2];
  const shotLevels = opts.shots ?? [0, 1, 2, 5, 10];
  const fusionStep = opts.fusionStep ?? 0.25;
  const alphas = opts.alphas ?? [0.1, 0.5, 2];
  const lambdas = opts.lambdas ?? [0.01, 0.1, 1];
  const categoryOffset = new Map(categories.map((c) => [c, rng.uniform(-0.03, 0.01)]));
  const metrics: MetricRow[] = [];
  const cells: CellKey[] = [];

  const addCell = (cell: CellKey, quality: number) => {
    cells.push(cell);
    const cellId = cellIdOf(cell);
    const noise = (std: number) => rng.normal(0, std);
    const clamp = (v: number) => Math.min(0.999, Math.max(0.4, v));
    const image = clamp(quality + noise(0.006));
    const row = (metric: string, value: number) => metrics.push({ ...cell, cellId, metric, value: Number(clamp(value).toFixed(5)) });
    row('image_auroc', image);
    row('image_ap', image - 0.02 + noise(0.005));
    row('pixel_auroc_seg', image - 0.03 + noise(0.005));
    if (cell.method === 'multicue') {
      row('pixel_auroc_grad', image - 0.05 + noise(0.006));
      row('pixel_auroc_product', image - 0.02 + noise(0.005));
      row('aupro', image - 0.12 + noise(0.01));
      row('auroc_deviation', image - 0.015 + noise(0.006));
      row('auroc_uncertainty', image - 0.3 + noise(0.02));
      row('auroc_segmentation', image - 0.02 + noise(0.006));
    }
  };

  for (const method of methods) {
    const profile = METHOD_PROFILE[method] ?? { base: 0.8, slope: 1, supervised: false };
    const hasCues = method === 'multicue';
    const reweights = method === 'multicue' || method === 'adl';
    const base = {
      method,
      backbone: 'resnet18',
      alpha: reweights ? 0.1 : null,
      lambda: reweights ? 0.1 : null,
      fusion: hasCues ? formatFusionWeights(DEFAULT_FUSION) : null,
    };
    const defaultShots = profile.supervised ? 10 : 0;
    for (const category of categories) {
      for (const seed of seeds) {
        const quality = (ratio: number, shots: number) =>
          profile.base + categoryOffset.get(category)! - profile.slope * ratio - (profile.supervised ? 0.05 * Math.exp(-shots / 3) : 0);
        // Contamination sweep at the default shots.
        for (const ratio of ratios) addCell({ ...base, category, seed, ratio, shots: defaultShots }, quality(ratio, defaultShots));
        if (!profile.supervised) continue;
        // Shot sweep at 10% contamination.
        for (const shots of shotLevels) {
          if (shots !== defaultShots) addCell({ ...base, category, seed, ratio: 0.1, shots }, quality(0.1, shots));
        }
        if (!hasCues) continue;
        // Fusion grid: best near the default weights, worse far from them.
        if (fusionStep > 0) {
          for (let wd = 0; wd <= 1 + 1e-9; wd += fusionStep) {
            for (let wu = 0; wd + wu <= 1 + 1e-9; wu += fusionStep) {
              const weights: [number, number, number] = [wd, wu, Math.max(0, 1 - wd - wu)];
              const fusion = formatFusionWeights(weights);
              if (fusion === base.fusion) continue;
              const distance = Math.hypot(wd - DEFAULT_FUSION[0], wu - DEFAULT_FUSION[1]);
              addCell({ ...base, fusion, category, seed, ratio: 0.1, shots: 10 }, quality(0.1, 10) - 0.04 * distance);
            }
          }
        }
        // α/λ grid.
        for (const alpha of alphas) {
          for (const lambda of lambdas) {
            if (alpha === base.alpha && lambda === base.lambda) continue;
            const penalty = 0.01 * Math.abs(Math.log10(alpha / 0.1)) + 0.015 * Math.abs(Math.log10(lambda / 0.1));
            addCell({ ...base, alpha, lambda, category, seed, ratio: 0.1, shots: 10 }, quality(0.1, 10) - penalty);
          }
        }
      }
    }
  }

  const imageScores = exampleImageScores(
    cells.filter((c) => c.method === 'multicue' && c.ratio === 0.1 && c.shots === 10 && c.seed === seeds[0] && c.fusion === base0Fusion && c.alpha === 0.1 && c.lambda === 0.1),
    opts.imagesPerCell ?? 60,
    rng.fork('image-scores'),
  );
  return { metrics, imageScores };
}

const base0Fusion = formatFusionWeights(DEFAULT_FUSION);

/** Per-image cues: anomalous images score higher on every cue, the uncertainty cue overlaps most. */
function exampleImageScores(cells: CellKey[], perCell: number, rng: Rng): ImageScoreRow[] {
  const rows: ImageScoreRow[] = [];
  for (const cell of cells) {
    const cellId = cellIdOf(cell);
    for (let i = 0; i < perCell; i++) {
      const label = i < perCell / 2 ? 0 : 1;
      const defect = label ? rng.pick(['crack', 'cut', 'hole']) : 'good';
      const deviation = Math.max(0, label ? rng.normal(4, 1.5) : Math.abs(rng.normal(0.4, 0.5)));
      const uncertainty = Math.min(1, Math.max(0, label ? rng.normal(0.55, 0.2) : rng.normal(0.35, 0.2)));
      const segmentation = Math.min(1, Math.max(0, label ? rng.normal(0.75, 0.15) : rng.normal(0.15, 0.1)));
      const n = [deviation / (deviation + 1), uncertainty, segmentation];
      const fused = Math.exp(DEFAULT_FUSION.reduce((s, w, j) => s + w * Math.log(n[j] + 1e-6), 0));
      rows.push({ cellId, id: `test/${defect}/${String(i).padStart(3, '0')}`, label, defect, deviation, uncertainty, segmentation, fused });
    }
  }
  return rows;
}
