import { blit, canvasToPng, drawOutline, type Rgb } from '../plots/compose.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { GrayImage } from './image.ts';
import { resizeRgbBilinear } from './pseudo-anomaly.ts';
import type { Mask, RgbImage } from './types.ts';

/**
 * A grid of images, masks and grey maps with optional labels, as PNG bytes.
 * Pixels are composed in JS; labels are SVG text rendered by sharp (fixed
 * font and encoder settings: the same inputs give the same bytes).
 */

export interface MontageTile {
  image: RgbImage | Mask | GrayImage;
  /** Caption under the tile. */
  label?: string;
  /** Draw this mask's outline over the tile. */
  outline?: Mask;
  outlineColour?: Rgb;
}

export interface MontageOptions {
  /** Side of each (square) tile in px (default 128). */
  tileSize?: number;
  /** Space between tiles (default 6). */
  gap?: number;
  /** Text at the top of the figure. */
  title?: string;
  /** One label per row, left of it. */
  rowLabels?: string[];
  /** Width reserved for row labels (default 110 when there are any). */
  rowLabelWidth?: number;
  background?: Rgb;
  fontSize?: number;
}

/** Rows of tiles (null = empty cell) → PNG bytes. */
export async function montagePng(rows: (MontageTile | null)[][], opts: MontageOptions = {}): Promise<Buffer> {
  const tile = opts.tileSize ?? 128;
  const gap = opts.gap ?? 6;
  const font = opts.fontSize ?? 12;
  const background = opts.background ?? [1, 1, 1];
  const columns = Math.max(1, ...rows.map((r) => r.length));
  const hasLabels = rows.some((r) => r.some((t) => t?.label));
  const captionHeight = hasLabels ? Math.ceil(font * 1.6) : 0;
  const left = opts.rowLabels?.length ? (opts.rowLabelWidth ?? 110) : 0;
  const top = opts.title ? Math.ceil(font * 2.6) : 0;
  const width = left + gap + columns * (tile + gap);
  const rowHeight = tile + captionHeight + gap;
  const height = top + gap + rows.length * rowHeight;

  const canvas = new Uint8Array(width * height * 3);
  for (let i = 0; i < canvas.length; i++) canvas[i] = Math.round(background[i % 3] * 255);
  const texts: string[] = [];
  if (opts.title) texts.push(svgText(width / 2, top * 0.65, opts.title, font * 1.3, 'middle', true));

  rows.forEach((row, r) => {
    const y0 = top + gap + r * rowHeight;
    const rowLabel = opts.rowLabels?.[r];
    if (rowLabel) texts.push(svgText(left - 4, y0 + tile / 2 + font / 3, rowLabel, font, 'end', true));
    row.forEach((cell, c) => {
      if (!cell) return;
      const x0 = left + gap + c * (tile + gap);
      const rgb = toRgb(cell.image);
      const scaled = resizeRgbBilinear(rgb, tile, tile);
      blit(canvas, width, scaled, x0, y0);
      if (cell.outline) drawOutline(canvas, width, cell.outline, tile, x0, y0, cell.outlineColour ?? [1, 0.1, 0.1]);
      if (cell.label) texts.push(svgText(x0 + tile / 2, y0 + tile + font * 1.15, cell.label, font, 'middle', false));
    });
  });

  return canvasToPng(canvas, width, height, texts);
}

export async function writeMontage(path: string, rows: (MontageTile | null)[][], opts: MontageOptions = {}): Promise<void> {
  await writeFileAtomic(path, await montagePng(rows, opts));
}

/** Any tile content as float RGB. */
function toRgb(image: RgbImage | Mask | GrayImage): RgbImage {
  const n = image.width * image.height;
  if (image.data.length === n * 3) return image as RgbImage;
  const out = new Float32Array(n * 3);
  const binary = image.data instanceof Uint8Array;
  for (let p = 0; p < n; p++) {
    const v = binary ? (image.data[p] ? 1 : 0) : image.data[p];
    out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = v;
  }
  return { width: image.width, height: image.height, data: out };
}

function svgText(x: number, y: number, text: string, size: number, anchor: 'start' | 'middle' | 'end', bold: boolean): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${size}" text-anchor="${anchor}"${bold ? ' font-weight="bold"' : ''} fill="#222">${escaped}</text>`;
}
