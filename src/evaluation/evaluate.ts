import type { MetricName } from '../experiments/results-schema.ts';
import { AuproAccumulator } from './metrics/aupro.ts';
import { auroc } from './metrics/auroc.ts';
import { averagePrecision } from './metrics/average-precision.ts';
import { f1Max } from './metrics/f1-max.ts';
import { PixelAurocAccumulator } from './metrics/pixel-auroc.ts';

/**
 * METHOD §7 for one trained model on its test set: image AUROC/AP/F1-max of the
 * fused score and of each single cue (the ablation), pixel AUROC of every map
 * that was computed (gradient, segmentation, their product) and AUPRO.
 * Images whose pixel truth is unknown (an anomaly without a mask) count for the
 * image metrics and are left out of the pixel metrics.
 */

export interface EvaluatedImage {
  id: string;
  label: 0 | 1;
  /** The method's image score (the fused score for multicue). */
  score: number;
  /** Single cues, when the method has them. */
  cues?: { deviation: number; uncertainty: number; segmentation: number };
  /** Pixel truth at map size; null when unknown. */
  mask: Uint8Array | null;
  /** Maps at the same size as the mask, values comparable across images. */
  maps?: Partial<Record<MapKind, Float32Array | null>>;
}

/** 'main' is the method's own localization map (multicue: config localization.mainMap; baselines: theirs). */
export type MapKind = 'main' | 'grad' | 'seg' | 'product';
const MAP_METRIC: Record<MapKind, MetricName> = {
  main: 'pixel_auroc',
  grad: 'pixel_auroc_grad',
  seg: 'pixel_auroc_seg',
  product: 'pixel_auroc_product',
};

export type Metrics = Partial<Record<MetricName, number | null>>;

export interface Evaluation {
  metrics: Metrics;
  counts: { images: number; anomalous: number; nominal: number; pixelImages: number; withoutMask: number };
  /** Best-F1 threshold of the image score (for binary decisions in predict). */
  threshold: number | null;
}

/** A metric that is undefined here (one class only) is null, not an error. */
function defined(fn: () => number): number | null {
  try {
    const v = fn();
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

export function evaluateImages(images: readonly EvaluatedImage[], opts: { auproMap?: MapKind } = {}): Evaluation {
  const labels = images.map((i) => i.label);
  const anomalous = labels.filter((l) => l === 1).length;
  const metrics: Metrics = {};
  const scores = images.map((i) => i.score);
  metrics.image_auroc = defined(() => auroc(scores, labels));
  metrics.image_ap = defined(() => averagePrecision(scores, labels));
  const best = defined(() => f1Max(scores, labels).f1);
  metrics.image_f1_max = best;
  let threshold: number | null = null;
  if (best !== null) threshold = f1Max(scores, labels).threshold;

  if (images.length > 0 && images.every((i) => i.cues)) {
    for (const cue of ['deviation', 'uncertainty', 'segmentation'] as const) {
      const values = images.map((i) => i.cues![cue]);
      metrics[`auroc_${cue}`] = defined(() => auroc(values, labels));
      metrics[`ap_${cue}`] = defined(() => averagePrecision(values, labels));
    }
  }

  const withMask = images.filter((i) => i.mask !== null);
  for (const kind of ['main', 'grad', 'seg', 'product'] as MapKind[]) {
    const usable = withMask.filter((i) => i.maps?.[kind]);
    if (usable.length === 0) continue;
    const acc = new PixelAurocAccumulator();
    for (const img of usable) acc.add(img.maps![kind]!, img.mask!);
    metrics[MAP_METRIC[kind]] = defined(() => acc.result());
  }
  const auproKind = opts.auproMap ?? pickAuproMap(withMask);
  if (auproKind) {
    const usable = withMask.filter((i) => i.maps?.[auproKind]);
    const acc = new AuproAccumulator({ maxFpr: 0.3 });
    for (const img of usable) {
      const size = Math.round(Math.sqrt(img.mask!.length));
      acc.add({ width: size, height: size, data: img.maps![auproKind]! }, { width: size, height: size, data: img.mask! });
    }
    metrics.aupro = defined(() => acc.result());
  }
  return {
    metrics,
    counts: {
      images: images.length,
      anomalous,
      nominal: images.length - anomalous,
      pixelImages: withMask.length,
      withoutMask: images.length - withMask.length,
    },
    threshold,
  };
}

/** AUPRO is reported for the main map. */
function pickAuproMap(images: readonly EvaluatedImage[]): MapKind | null {
  for (const kind of ['main'] as MapKind[]) if (images.some((i) => i.maps?.[kind])) return kind;
  return null;
}

/** Pixel-wise product of two maps (the "gradient × segmentation" map). */
export function productMap(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}
