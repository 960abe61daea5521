/**
 * Pixel composition shared by the PNG figures built in JS (the data montage and
 * the qualitative panel): an 8-bit RGB canvas, tiles copied onto it, mask
 * outlines drawn over them, SVG text composited by sharp, fixed PNG settings
 * (the same inputs give the same bytes). Imports nothing but types and sharp,
 * so both src/data and src/plots can use it without a cycle.
 */
import sharp from 'sharp';
import type { Mask, RgbImage } from '../data/types.ts';

export type Rgb = [number, number, number];

/** Copy a float RGB image (clamped to [0, 1]) onto an 8-bit RGB canvas at (x0, y0). */
export function blit(canvas: Uint8Array, canvasWidth: number, image: RgbImage, x0: number, y0: number): void {
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      for (let c = 0; c < 3; c++) {
        const v = image.data[(y * image.width + x) * 3 + c];
        canvas[((y0 + y) * canvasWidth + x0 + x) * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
  }
}

/** Outline of a mask at tile resolution (nearest sampling): set pixels with an unset 4-neighbour. */
export function drawOutline(canvas: Uint8Array, canvasWidth: number, mask: Mask, tile: number, x0: number, y0: number, colour: Rgb): void {
  const at = (x: number, y: number): number => {
    if (x < 0 || y < 0 || x >= tile || y >= tile) return 0;
    const mx = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / tile));
    const my = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / tile));
    return mask.data[my * mask.width + mx];
  };
  for (let y = 0; y < tile; y++) {
    for (let x = 0; x < tile; x++) {
      if (!at(x, y) || (at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1))) continue;
      for (let c = 0; c < 3; c++) canvas[((y0 + y) * canvasWidth + x0 + x) * 3 + c] = Math.round(colour[c] * 255);
    }
  }
}

/** The canvas with the SVG text elements composited over it (none: the canvas alone), as PNG bytes. */
export async function canvasToPng(canvas: Uint8Array, width: number, height: number, texts: readonly string[]): Promise<Buffer> {
  let raw: Buffer | Uint8Array = canvas;
  let channels: 3 | 4 = 3;
  if (texts.length > 0) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${texts.join('')}</svg>`;
    const composed = await sharp(canvas, { raw: { width, height, channels: 3 } })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      .raw()
      .toBuffer({ resolveWithObject: true });
    raw = composed.data;
    channels = composed.info.channels as 3 | 4;
  }
  return sharp(raw, { raw: { width, height, channels } })
    .removeAlpha()
    .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
    .toBuffer();
}
