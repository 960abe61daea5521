import { join } from 'node:path';
import { Rng } from '../../util/rng.ts';
import type { AnomalySource } from '../anomaly-source.ts';
import { type MontageTile, writeMontage } from '../montage.ts';
import { drawPerlinMask } from '../perlin.ts';
import { type ProceduralTextureKind, proceduralTexture } from '../procedural-texture.ts';
import { makePseudoAnomaly } from '../pseudo-anomaly.ts';
import type { RgbImage } from '../types.ts';
import { SYNTHETIC_CATEGORIES, syntheticCategory } from './categories.ts';
import { maskArea } from './raster.ts';

/**
 * The two data figures: the synthetic dataset at a glance, and how
 * pseudo-anomalies (METHOD §1.4) are made. Both are deterministic per seed.
 */

export interface DataFigureOptions {
  outDir: string;
  seed?: number;
  /** Image side the samples are rendered at (tiles are downscaled). */
  size?: number;
  /** Texture source for the pseudo-anomaly figure (default: procedural textures). */
  anomalySource?: AnomalySource;
}

export interface DataFigurePaths {
  syntheticMontage: string;
  pseudoAnomalies: string;
}

export async function writeDataFigures(opts: DataFigureOptions): Promise<DataFigurePaths> {
  const seed = opts.seed ?? 0;
  const size = opts.size ?? 256;
  const paths = {
    syntheticMontage: join(opts.outDir, 'synthetic-montage.png'),
    pseudoAnomalies: join(opts.outDir, 'pseudo-anomalies.png'),
  };
  await writeSyntheticMontage(paths.syntheticMontage, seed, size);
  await writePseudoAnomalyFigure(paths.pseudoAnomalies, seed, size, opts.anomalySource);
  return paths;
}

/** Per category: two nominal images, then each defect plain and with its mask outlined. */
export async function writeSyntheticMontage(path: string, seed: number, size: number): Promise<void> {
  const rows: MontageTile[][] = SYNTHETIC_CATEGORIES.map((category) => {
    const row: MontageTile[] = [];
    for (let i = 0; i < 2; i++) {
      const { image } = category.render(new Rng(`figure/${seed}/${category.name}/good/${i}`), size, null);
      row.push({ image, label: 'good' });
    }
    for (const defect of category.defects) {
      const { image, mask } = category.render(new Rng(`figure/${seed}/${category.name}/${defect}`), size, defect);
      const area = mask ? (100 * maskArea(mask)) / (size * size) : 0;
      row.push({ image, label: defect });
      row.push({ image, outline: mask ?? undefined, label: `mask ${area.toFixed(1)}%` });
    }
    return row;
  });
  await writeMontage(path, rows, {
    tileSize: 150,
    title: `Embedded synthetic dataset (multicue synth --seed ${seed}): nominal samples, each defect plain and with its exact mask outlined`,
    rowLabels: SYNTHETIC_CATEGORIES.map((c) => `${c.name} (${c.kind})`),
    rowLabelWidth: 130,
  });
}

/** Rows of: input, jittered source A, Perlin mask M, I_a = (1−M)I + (1−β)MA + βMI. */
export async function writePseudoAnomalyFigure(path: string, seed: number, size: number, source?: AnomalySource): Promise<void> {
  const plan: { category: string; kind: ProceduralTextureKind; beta: number }[] = [
    { category: 'carpet', kind: 'marble', beta: 0 },
    { category: 'wood', kind: 'stripes', beta: 0.2 },
    { category: 'washer', kind: 'dots', beta: 0.4 },
    { category: 'pill', kind: 'clouds', beta: 0.6 },
    { category: 'carpet', kind: 'cracks', beta: 0.8 },
    { category: 'wood', kind: 'checker', beta: 0.4 },
  ];
  const rows: MontageTile[][] = [];
  for (const [i, row] of plan.entries()) {
    const rng = new Rng(`figure/${seed}/pseudo/${i}`);
    const { image } = syntheticCategory(row.category).render(rng.fork('input'), size, null);
    const texture: RgbImage = source ? await source.draw(rng.fork('source'), size, size) : proceduralTexture(row.kind, size, size, rng.fork('source'));
    const draw = drawPerlinMask(size, size, rng.fork('mask'));
    const out = makePseudoAnomaly(image, texture, rng.fork('blend'), { mask: draw.mask, beta: row.beta });
    rows.push([
      { image, label: `input I (${row.category})` },
      { image: out.anomaly, label: `source A (${source ? 'folder' : row.kind}, jittered)` },
      { image: draw.mask, label: `M: ${draw.periodsX}×${draw.periodsY} periods, ${draw.angleDeg.toFixed(0)}°, ${(100 * draw.coverage).toFixed(1)}%` },
      { image: out.image, label: `I_a, β = ${row.beta.toFixed(1)}` },
      { image: out.image, outline: draw.mask, label: 'I_a with M outlined' },
    ]);
  }
  await writeMontage(path, rows, {
    tileSize: 180,
    fontSize: 11,
    title: 'Pseudo-anomalies (Eq. 1): I_a = (1−M)⊙I + (1−β)(M⊙A) + β(M⊙I), M a thresholded rotated Perlin mask',
    rowLabels: plan.map((p) => `β = ${p.beta.toFixed(1)}`),
    rowLabelWidth: 70,
  });
}
