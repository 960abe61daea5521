import { join } from 'node:path';
import { readImage, readMask } from '../data/image.ts';
import { readManifest } from '../data/manifest.ts';
import { specCategory } from '../experiments/sweep-config.ts';
import type { ImageGeometry, RgbImage } from '../data/types.ts';
import { readScoresCsv } from '../experiments/sweep-scores-csv.ts';
import { normalizeMap } from '../plots/heatmap.ts';
import { imageHtml } from '../plots/html-export.ts';
import { qualitativePanel, type QualitativeRow } from '../plots/qualitative-panel.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import { predictImages } from './predict.ts';
import { RUN_FILES, readRunExperiment } from './run-dir.ts';
import type { TestImageResult } from './run-cell.ts';
import { loadSavedRun } from './saved-run.ts';

/**
 * Fig. 2 for a finished run: one row per defect kind (its highest-scoring
 * test image) plus the highest-scoring nominal image, each with input, ground
 * truth, the run's main map over the input, the binarised map and S(x).
 */

/** A panel row's kind: the defect kind of an anomaly, 'good' for a nominal image. */
function panelKind(entry: PanelEntry): string {
  return entry.label ? entry.defect : 'good';
}

/** Indices of the rows to show: per defect kind the top-scoring image, nominal last. */
export function pickPanelImages(images: readonly PanelEntry[], eligible: (i: number) => boolean = () => true): number[] {
  const picks = new Map<string, number>();
  images.forEach((img, i) => {
    if (!eligible(i)) return;
    const key = panelKind(img);
    const current = picks.get(key);
    if (current === undefined || img.score > images[current].score) picks.set(key, i);
  });
  return [...picks]
    .sort(([a], [b]) => (a === 'good' ? 1 : b === 'good' ? -1 : a.localeCompare(b)))
    .map(([, i]) => i);
}

export interface PanelImage {
  label: string;
  image: RgbImage;
  mask: QualitativeRow['mask'];
  map: Float32Array;
  segmentation: Float32Array | null;
}

type PanelEntry = Pick<TestImageResult, 'label' | 'defect' | 'score'>;

/** One test image of a panel: read at the run's geometry, labelled with its defect kind and score. */
export async function loadPanelImage(
  entry: PanelEntry,
  item: { path: string; maskPath: string | null },
  geometry: ImageGeometry,
  map: Float32Array,
  segmentation: Float32Array | null,
): Promise<PanelImage> {
  return {
    label: `${panelKind(entry)} (score ${entry.score.toFixed(3)})`,
    image: await readImage(item.path, geometry),
    mask: item.maskPath ? await readMask(item.maskPath, geometry) : null,
    map,
    segmentation,
  };
}

/** Qualitative rows from images and their maps (the main map is min-max normalised per image for display). */
export function panelRows(images: readonly PanelImage[], size: number): QualitativeRow[] {
  return images.map((p) => ({
    label: p.label,
    image: p.image,
    mask: p.mask,
    map: { width: size, height: size, data: normalizeMap(p.map) },
    segmentation: p.segmentation ? { width: size, height: size, data: p.segmentation } : null,
  }));
}

/** Recomputes the chosen test images' maps with the saved model and writes the panel as PNG and HTML. */
export async function writeRunPanel(runDir: string, out: string, opts: { title?: string } = {}): Promise<string> {
  const experiment = readRunExperiment(runDir);
  const scores = readScoresCsv(join(runDir, RUN_FILES.scores));
  const manifest = readManifest(join(runDir, RUN_FILES.manifest));
  const byId = new Map(manifest.items.map((item) => [item.id, item]));
  const missing = scores.find((s) => !byId.has(s.id));
  if (missing) {
    throw new InputError(`test image "${missing.id}" of scores.csv is not in manifest.json`, runDir, 'the run directory is incomplete or mixed; rerun `multicue train`');
  }
  const chosen = pickPanelImages(scores).map((i) => scores[i]);
  const run = await loadSavedRun(runDir);
  const geometry = experiment.geometry;
  const rows: PanelImage[] = [];
  try {
    const images = await Promise.all(chosen.map((s) => readImage(byId.get(s.id)!.path, geometry)));
    const predictions = predictImages(run, images, chosen.map((s) => s.id));
    for (let i = 0; i < chosen.length; i++) {
      rows.push(await loadPanelImage(chosen[i], byId.get(chosen[i].id)!, geometry, predictions[i].map, predictions[i].segmentation));
    }
  } finally {
    run.model?.dispose();
    run.baseline?.dispose();
    run.backbone.dispose();
  }
  const title =
    opts.title ??
    `${experiment.method} on ${specCategory(experiment.data)}: r = ${Math.round(experiment.protocol.ratio * 100)}%, k = ${experiment.protocol.shots}, seed ${experiment.protocol.seed}`;
  const png = await qualitativePanel(panelRows(rows, geometry.size), { title });
  await writeFileAtomic(out, png);
  // The same panel as a self-contained page, like every other figure.
  await writeFileAtomic(out.replace(/\.png$/i, '') + '.html', imageHtml(title, png));
  return out;
}
