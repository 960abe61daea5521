/**
 * The qualitative figure (METHOD §7, Fig. 2) as PNG bytes: one row per test
 * image with its input, ground truth, anomaly-map overlay, binarised map and
 * segmentation output, column titles on top, a row label on the left and a
 * colour scale under the map columns. Pixels are composed in JS, text is SVG
 * rendered by sharp (fixed settings: the same inputs give the same bytes).
 */
import { resizeRgbBilinear } from '../data/pseudo-anomaly.ts';
import type { Mask, RgbImage } from '../data/types.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { colormapLut, type ColormapName } from './colormap.ts';
import { blit, canvasToPng, drawOutline, type Rgb } from './compose.ts';
import { binarizeMap, colorizeMap, DEFAULT_COLORMAP, heatmapOverlay, mapAtSize, type MapInput } from './heatmap.ts';

export interface QualitativeRow {
  /** Row label, e.g. "crack/003" (long labels are cut). */
  label?: string;
  image: RgbImage;
  /** Ground-truth mask; null or absent for a nominal image (drawn black). */
  mask?: Mask | null;
  /** The localization map in [0, 1] (image-sized array, or a GrayImage of any size). */
  map: MapInput;
  /** The segmentation output S(x) in [0, 1]; the column is left out when no row has one. */
  segmentation?: MapInput | null;
  /** Binarisation threshold of this row's map (default: the panel's). */
  threshold?: number;
}

export interface QualitativePanelOptions {
  /** Side of each square tile in px (default 160). */
  tileSize?: number;
  gap?: number;
  /** Opacity of the heatmap over the input (default 0.5). */
  alpha?: number;
  colormap?: ColormapName;
  /** Threshold for the binarised map (default 0.5). */
  threshold?: number;
  /** Draw the ground-truth outline on the overlay (default true). */
  outlineGroundTruth?: boolean;
  title?: string;
  fontSize?: number;
}

const OUTLINE: Rgb = [1, 0.1, 0.1];

/** Rows of (input, ground truth, overlay, binarised map, segmentation) → PNG bytes. */
export async function qualitativePanel(rows: QualitativeRow[], opts: QualitativePanelOptions = {}): Promise<Buffer> {
  if (rows.length === 0) throw new Error('qualitativePanel: no rows given');
  const tile = opts.tileSize ?? 160;
  const gap = opts.gap ?? 6;
  const font = opts.fontSize ?? 14;
  const colormap = opts.colormap ?? DEFAULT_COLORMAP;
  const defaultThreshold = opts.threshold ?? 0.5;
  const withSegmentation = rows.some((r) => r.segmentation);
  const thresholds = new Set(rows.map((r) => r.threshold ?? defaultThreshold));
  // No-break spaces keep "(t = 0.5)" on one line.
  const thresholdText = thresholds.size === 1 ? ` (t\u00a0=\u00a0${[...thresholds][0]})` : '';
  const columnTitles = ['Input', 'Ground truth', 'Heatmap overlay', `Binarised map${thresholdText}`, ...(withSegmentation ? ['Segmentation S(x)'] : [])];
  const mapColumns = withSegmentation ? [2, 4] : [2];

  // Text sizes are estimated from DejaVu Sans's average advance (~0.62 em).
  const charWidth = font * 0.62;
  const labelLines = rows.map((r) => (r.label ? wrapWords(r.label.replace(/\//g, '/ '), 22).map((l) => l.replace(/\/ /g, '/')) : []));
  const longestLabel = Math.max(0, ...labelLines.flat().map((l) => l.length));
  const left = longestLabel > 0 ? Math.min(Math.round(longestLabel * charWidth * 0.9 + 14), 220) : 0;
  const headerLines = columnTitles.map((t) => wrapWords(t, Math.max(6, Math.floor(tile / (charWidth * 1.08)))));
  const titleHeight = opts.title ? Math.round(font * 2.4) : 0;
  const headerHeight = Math.round(font * (0.8 + 1.25 * Math.max(...headerLines.map((l) => l.length))));
  const scaleHeight = Math.round(font * 2.6);
  const top = titleHeight + headerHeight;
  const width = left + gap + columnTitles.length * (tile + gap);
  const height = top + rows.length * (tile + gap) + scaleHeight;
  const canvas = new Uint8Array(width * height * 3).fill(255);
  const texts: string[] = [];
  const columnX = (c: number) => left + gap + c * (tile + gap);

  if (opts.title) texts.push(svgText(width / 2, titleHeight * 0.7, opts.title, font * 1.25, 'middle', true));
  headerLines.forEach((lines, c) => {
    // Bottom-aligned: the last line sits just above the tiles.
    lines.forEach((line, i) => {
      const y = titleHeight + headerHeight - font * 0.45 - (lines.length - 1 - i) * font * 1.25;
      texts.push(svgText(columnX(c) + tile / 2, y, line, font, 'middle', true));
    });
  });

  rows.forEach((row, r) => {
    const y0 = top + r * (tile + gap);
    const { width: w, height: h } = row.image;
    const map = mapAtSize(row.map, w, h);
    const mask = row.mask ?? null;
    if (mask && (mask.width !== w || mask.height !== h)) {
      throw new Error(`qualitativePanel row ${r}: mask is ${mask.width}x${mask.height} but the image is ${w}x${h}`);
    }
    const overlay = heatmapOverlay(row.image, map, opts.alpha ?? 0.5, colormap);
    // Masks and binarised maps are resized nearest (crisp edges), the rest bilinear.
    const tiles: RgbImage[] = [
      resizeRgbBilinear(row.image, tile, tile),
      maskToRgb(resizeMaskNearest(mask ?? { width: w, height: h, data: new Uint8Array(w * h) }, tile)),
      resizeRgbBilinear(overlay, tile, tile),
      maskToRgb(resizeMaskNearest(binarizeMap(map, row.threshold ?? defaultThreshold), tile)),
    ];
    if (withSegmentation) {
      const segmentation = row.segmentation ? colorizeMap(mapAtSize(row.segmentation, w, h), colormap) : blank(w, h);
      tiles.push(resizeRgbBilinear(segmentation, tile, tile));
    }
    tiles.forEach((image, c) => {
      blit(canvas, width, image, columnX(c), y0);
      if (c === 2 && mask && opts.outlineGroundTruth !== false) drawOutline(canvas, width, mask, tile, columnX(c), y0, OUTLINE);
    });
    labelLines[r].forEach((line, i) => {
      const y = y0 + tile / 2 + font / 3 + (i - (labelLines[r].length - 1) / 2) * font * 1.15;
      texts.push(svgText(left - 6, y, line, font * 0.9, 'end', false));
    });
  });

  // A colour scale (0 → 1) under every map column.
  const lut = colormapLut(colormap);
  const barY = top + rows.length * (tile + gap) + 2;
  const barHeight = Math.round(font * 0.8);
  for (const c of mapColumns) {
    const x0 = columnX(c);
    for (let x = 0; x < tile; x++) {
      const k = Math.round((x / (tile - 1)) * 255) * 3;
      for (let y = 0; y < barHeight; y++) {
        const o = ((barY + y) * width + x0 + x) * 3;
        canvas[o] = lut[k];
        canvas[o + 1] = lut[k + 1];
        canvas[o + 2] = lut[k + 2];
      }
    }
    const labelY = barY + barHeight + font * 1.05;
    texts.push(svgText(x0, labelY, '0', font * 0.85, 'start', false));
    texts.push(svgText(x0 + tile / 2, labelY, 'anomaly score', font * 0.85, 'middle', false));
    texts.push(svgText(x0 + tile, labelY, '1', font * 0.85, 'end', false));
  }

  return canvasToPng(canvas, width, height, texts);
}

export async function writeQualitativePanel(path: string, rows: QualitativeRow[], opts: QualitativePanelOptions = {}): Promise<void> {
  await writeFileAtomic(path, await qualitativePanel(rows, opts));
}

function maskToRgb(mask: Mask): RgbImage {
  const data = new Float32Array(mask.data.length * 3);
  for (let i = 0; i < mask.data.length; i++) data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = mask.data[i] ? 1 : 0;
  return { width: mask.width, height: mask.height, data };
}

function blank(width: number, height: number): RgbImage {
  return { width, height, data: new Float32Array(width * height * 3).fill(0.85) };
}

function resizeMaskNearest(mask: Mask, side: number): Mask {
  const data = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    const my = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / side));
    for (let x = 0; x < side; x++) {
      const mx = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / side));
      data[y * side + x] = mask.data[my * mask.width + mx];
    }
  }
  return { width: side, height: side, data };
}

/** Greedy word wrap; a word longer than a line keeps its own line. */
function wrapWords(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/[ \t\n]+/).filter(Boolean)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= maxChars) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

function svgText(x: number, y: number, text: string, size: number, anchor: 'start' | 'middle' | 'end', bold: boolean): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${size.toFixed(1)}" text-anchor="${anchor}"${bold ? ' font-weight="bold"' : ''} fill="#222">${escaped}</text>`;
}

