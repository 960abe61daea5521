import sharp, { type Sharp } from 'sharp';
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError, type WarnFn, warnToStderr } from '../util/errors.ts';
import type { ImageGeometry, Mask, ResizeMode, RgbImage } from './types.ts';

/**
 * Image I/O through sharp: PNG/JPEG/BMP/TIFF/WebP, grayscale/RGB/RGBA, 8 or 16 bit,
 * into float RGB in [0,1] at a square size with one of three resize modes.
 * Masks follow the same geometry with nearest-neighbour resampling.
 */

const FIT: Record<ResizeMode, 'fill' | 'cover' | 'contain'> = {
  stretch: 'fill',
  'center-crop': 'cover', // resize the shorter side to size, then crop the centre (the paper's)
  letterbox: 'contain', // keep the aspect ratio, pad with black
};

function openImage(path: string): Sharp {
  if (!existsSync(path)) {
    throw new InputError('image file not found', path, 'check the path, or regenerate the manifest/dataset listing');
  }
  // failOn 'truncated' turns half-written JPEG/PNG files into errors instead of grey pixels.
  return sharp(path, { failOn: 'truncated', limitInputPixels: 1 << 28 });
}

function unreadable(path: string, err: unknown): InputError {
  const reason = err instanceof Error ? err.message : String(err);
  return new InputError(
    `cannot read image (${reason})`,
    path,
    'the file is corrupt, truncated or not an image: re-export it, or remove it from the dataset folder',
  );
}

/** Original pixel size of an image file. */
export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await openImage(path).metadata();
    if (!meta.width || !meta.height) throw new Error('no size in header');
    return { width: meta.width, height: meta.height };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw unreadable(path, err);
  }
}

/**
 * Read an image as float RGB in [0,1]. With a geometry it is brought to
 * size×size by the geometry's resize mode; without one it keeps its own size.
 */
export async function readImage(path: string, geometry?: ImageGeometry | null): Promise<RgbImage> {
  try {
    const meta = await openImage(path).metadata();
    const sixteenBit = meta.depth === 'ushort';
    let pipe = openImage(path).rotate().removeAlpha();
    if (geometry) {
      pipe = pipe.resize(geometry.size, geometry.size, {
        fit: FIT[geometry.resize],
        position: 'centre',
        background: { r: 0, g: 0, b: 0 },
        kernel: 'linear',
      });
    }
    pipe = pipe.toColourspace(sixteenBit ? 'rgb16' : 'srgb');
    const { data, info } = await pipe.raw({ depth: sixteenBit ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const n = info.width * info.height;
    const out = new Float32Array(n * 3);
    const channels = info.channels;
    const scale = sixteenBit ? 1 / 65535 : 1 / 255;
    const src = sixteenBit ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : data;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        out[i * 3 + c] = src[i * channels + (channels >= 3 ? c : 0)] * scale;
      }
    }
    return { width: info.width, height: info.height, data: out };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw unreadable(path, err);
  }
}

/**
 * Read a pixel mask into the same geometry as its image. Soft masks are
 * binarised at half their maximum. A mask whose size differs from its image's
 * is first resized to the image's size (nearest) with a warning.
 */
export async function readMask(
  path: string,
  geometry?: ImageGeometry | null,
  imageDims?: { width: number; height: number },
  warn: WarnFn = warnToStderr,
): Promise<Mask> {
  try {
    let pipe = openImage(path).rotate().removeAlpha().toColourspace('b-w');
    const meta = await openImage(path).metadata();
    if (imageDims && (meta.width !== imageDims.width || meta.height !== imageDims.height)) {
      warn(
        `mask ${path} is ${meta.width}x${meta.height} but its image is ${imageDims.width}x${imageDims.height}; resized (nearest)`,
      );
      // Materialise the resize to image size first so the geometry below sees the image's aspect ratio.
      const resized = await pipe
        .resize(imageDims.width, imageDims.height, { fit: 'fill', kernel: 'nearest' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      pipe = sharp(resized.data, { raw: { width: resized.info.width, height: resized.info.height, channels: resized.info.channels } });
    }
    if (geometry) {
      pipe = pipe.resize(geometry.size, geometry.size, {
        fit: FIT[geometry.resize],
        position: 'centre',
        background: { r: 0, g: 0, b: 0 },
        kernel: 'nearest',
      });
    }
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    const n = info.width * info.height;
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, data[i * info.channels]);
    const out = new Uint8Array(n);
    if (max > 0) {
      const threshold = max / 2;
      for (let i = 0; i < n; i++) out[i] = data[i * info.channels] > threshold ? 1 : 0;
    }
    return { width: info.width, height: info.height, data: out };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw unreadable(path, err);
  }
}

/** An all-zero mask (nominal images). */
export function emptyMask(width: number, height: number): Mask {
  return { width, height, data: new Uint8Array(width * height) };
}

/** Encode float RGB [0,1] (or a mask, or a single-channel float map in [0,1]) as PNG bytes. */
export async function encodePng(image: RgbImage | Mask | GrayImage): Promise<Buffer> {
  const n = image.width * image.height;
  let channels: 1 | 3;
  let bytes: Uint8Array;
  if (image.data instanceof Uint8Array) {
    channels = 1;
    bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = image.data[i] ? 255 : 0;
  } else {
    channels = image.data.length === n ? 1 : 3;
    bytes = new Uint8Array(image.data.length);
    for (let i = 0; i < image.data.length; i++) {
      bytes[i] = Math.round(Math.min(1, Math.max(0, image.data[i])) * 255);
    }
  }
  // Fixed compression settings so the same pixels always give the same bytes.
  return sharp(bytes, { raw: { width: image.width, height: image.height, channels } })
    .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
    .withMetadata({})
    .toBuffer();
}

/** Single-channel float image in [0,1] (heatmaps, noise). */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Write a PNG atomically. */
export async function writePng(path: string, image: RgbImage | Mask | GrayImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}
