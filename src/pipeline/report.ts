import type { RunMetricsFile } from './run-dir.ts';

/** The lines a person reads after a run: the headline metrics, each cue, the maps. */
export function formatRunReport(m: RunMetricsFile): string {
  const f = (v: number | null | undefined) => (v === null || v === undefined ? '   n/a' : v.toFixed(4));
  const x = m.metrics;
  const lines = [
    `${m.cell}  (${m.counts.images} test images: ${m.counts.nominal} nominal, ${m.counts.anomalous} anomalous)`,
    `  image AUROC ${f(x.image_auroc)}   AUPRC ${f(x.image_ap)}   F1-max ${f(x.image_f1_max)}`,
  ];
  if (x.auroc_deviation !== undefined) {
    lines.push(
      `  single cues (AUROC): deviation ${f(x.auroc_deviation)}   uncertainty ${f(x.auroc_uncertainty)}   segmentation ${f(x.auroc_segmentation)}`,
    );
  }
  lines.push(`  pixel AUROC ${f(x.pixel_auroc)}   AUPRO ${f(x.aupro)}`);
  if (x.pixel_auroc_seg !== undefined || x.pixel_auroc_grad !== undefined) {
    lines.push(
      `  pixel AUROC by map: gradient ${f(x.pixel_auroc_grad)}   segmentation ${f(x.pixel_auroc_seg)}   product ${f(x.pixel_auroc_product)}`,
    );
  }
  if (m.backbone.warning) lines.push(`  WARNING: ${m.backbone.warning}`);
  return lines.join('\n');
}
