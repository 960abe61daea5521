/**
 * The tidy results a sweep writes and the tables and figures read (METHOD §7).
 * A sweep folder holds RESULTS_FILE (MetricRow[]: one row per cell × metric)
 * and, optionally, IMAGE_SCORES_FILE (ImageScoreRow[]: the cues of every test
 * image of a cell, for the score distributions of Fig. 4).
 */
import { z } from 'zod';

/** File names inside a sweep folder. */
export const RESULTS_FILE = 'results.json';
export const IMAGE_SCORES_FILE = 'image-scores.json';

/** Every metric a sweep reports, with the label the tables and figures print. */
export const METRIC_LABELS = {
  image_auroc: 'Image AUROC',
  image_ap: 'Image AP',
  image_f1_max: 'Image F1-max',
  pixel_auroc: "Pixel AUROC (the method's main map)",
  pixel_auroc_grad: 'Pixel AUROC (gradient map)',
  pixel_auroc_seg: 'Pixel AUROC (segmentation map)',
  pixel_auroc_product: 'Pixel AUROC (gradient × segmentation)',
  aupro: 'AUPRO (FPR ≤ 0.3)',
  // Single-cue ablation (METHOD §7): each cue alone as the image score.
  auroc_deviation: 'Image AUROC, deviation cue',
  auroc_uncertainty: 'Image AUROC, uncertainty cue',
  auroc_segmentation: 'Image AUROC, segmentation cue',
  ap_deviation: 'Image AP, deviation cue',
  ap_uncertainty: 'Image AP, uncertainty cue',
  ap_segmentation: 'Image AP, segmentation cue',
} as const;
export type MetricName = keyof typeof METRIC_LABELS;
export const METRIC_NAMES = Object.keys(METRIC_LABELS) as MetricName[];
export const PIXEL_METRICS: readonly MetricName[] = ['pixel_auroc', 'pixel_auroc_grad', 'pixel_auroc_seg', 'pixel_auroc_product'];
/** The ablation metrics in cue order, then the fused score they compare against. */
export const CUE_AUROC_METRICS: readonly MetricName[] = ['auroc_deviation', 'auroc_uncertainty', 'auroc_segmentation', 'image_auroc'];

/** A metric's printable name; unknown metrics print as they are. */
export function metricLabel(metric: string): string {
  return (METRIC_LABELS as Record<string, string>)[metric] ?? metric;
}

/** Methods the figures know by name (others are allowed and drawn after these). */
export const KNOWN_METHODS = ['multicue', 'adl', 'patchcore', 'padim'] as const;
export type KnownMethod = (typeof KNOWN_METHODS)[number];

// New metrics are allowed (a sweep may add one before this list learns it), but
// they must look like the others so a typo such as "Image AUROC" is caught.
const metricName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'metric names are snake_case, e.g. "image_auroc"');

export const MetricRowSchema = z.strictObject({
  category: z.string().min(1),
  method: z.string().min(1),
  backbone: z.string().min(1),
  /** Contamination ratio r as a fraction (0.1 = 10%). */
  ratio: z.number().min(0).lt(1, 'ratio is a fraction below 1 (0.1 = 10%)'),
  /** Few-shot real anomalies k. */
  shots: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative(),
  /** Reweighting α, λ (METHOD §4); null for methods without reweighting. */
  alpha: z.number().finite().nullable().default(null),
  lambda: z.number().finite().nullable().default(null),
  /** Fusion weights "w_d/w_u/w_s" (METHOD §5); null for methods without cues. */
  fusion: z.string().nullable().default(null),
  metric: metricName,
  /** null when the metric is undefined for the cell (e.g. a single-class test set). */
  value: z.number().finite().nullable(),
  /** Optional link to ImageScoreRow.cellId (see cellIdOf). */
  cellId: z.string().min(1).optional(),
});
export type MetricRow = z.infer<typeof MetricRowSchema>;
export type MetricRowInput = z.input<typeof MetricRowSchema>;

export const ImageScoreRowSchema = z.strictObject({
  cellId: z.string().min(1),
  /** The test image's dataset id, e.g. "test/crack/003". */
  id: z.string().min(1),
  label: z.union([z.literal(0), z.literal(1)]),
  defect: z.string(),
  deviation: z.number().finite(),
  uncertainty: z.number().finite(),
  segmentation: z.number().finite(),
  fused: z.number().finite(),
});
export type ImageScoreRow = z.infer<typeof ImageScoreRowSchema>;

/** The cue columns of ImageScoreRow, in the order the figures show them. */
export const CUE_COLUMNS = ['deviation', 'uncertainty', 'segmentation', 'fused'] as const;
export type CueColumn = (typeof CUE_COLUMNS)[number];

/** What identifies one trained-and-evaluated cell (a MetricRow without metric and value). */
export type CellKey = Pick<MetricRow, 'category' | 'method' | 'backbone' | 'ratio' | 'shots' | 'seed' | 'alpha' | 'lambda' | 'fusion'>;

/**
 * The canonical cell id a sweep writes into ImageScoreRow.cellId, e.g.
 * "carpet|multicue|resnet18|r=0.1|k=10|seed=0|alpha=0.1|lambda=0.1|fusion=0.5/0.2/0.3".
 * parseCellId reads it back so the figures can title and select cells.
 */
export function cellIdOf(cell: CellKey): string {
  return [
    cell.category,
    cell.method,
    cell.backbone,
    `r=${cell.ratio}`,
    `k=${cell.shots}`,
    `seed=${cell.seed}`,
    `alpha=${cell.alpha ?? '-'}`,
    `lambda=${cell.lambda ?? '-'}`,
    `fusion=${cell.fusion ?? '-'}`,
  ].join('|');
}

/** The cell of a canonical id, or null for an id written some other way. */
export function parseCellId(id: string): CellKey | null {
  const parts = id.split('|');
  if (parts.length !== 9) return null;
  const [category, method, backbone, ...rest] = parts;
  const values: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    values[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const num = (key: string): number | null => (values[key] === '-' ? null : Number(values[key]));
  const cell: CellKey = {
    category,
    method,
    backbone,
    ratio: Number(values.r),
    shots: Number(values.k),
    seed: Number(values.seed),
    alpha: num('alpha'),
    lambda: num('lambda'),
    fusion: values.fusion === '-' ? null : (values.fusion ?? null),
  };
  const numbers = [cell.ratio, cell.shots, cell.seed, cell.alpha ?? 0, cell.lambda ?? 0];
  return numbers.every(Number.isFinite) && values.fusion !== undefined ? cell : null;
}

/** "0.5/0.2/0.3" → [w_d, w_u, w_s], or null when it is not three numbers. */
export function parseFusionWeights(fusion: string | null): [number, number, number] | null {
  if (fusion === null) return null;
  const parts = fusion.split('/').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) return null;
  return [parts[0], parts[1], parts[2]];
}

/** Weights (w_d, w_u, w_s) written the way MetricRow.fusion holds them. */
export function formatFusionWeights(weights: readonly [number, number, number]): string {
  return weights.map((w) => String(Number(w.toFixed(6)))).join('/');
}
