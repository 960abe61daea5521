import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Rng } from '../util/rng.ts';
import { InputError } from '../util/errors.ts';
import { readImage } from './image.ts';
import { resizeRgbBilinear } from './pseudo-anomaly.ts';
import { PROCEDURAL_TEXTURE_KINDS, proceduralTexture, type ProceduralTextureKind } from './procedural-texture.ts';
import type { RgbImage } from './types.ts';

/** Where the texture A of a pseudo-anomaly (METHOD §1.4) comes from. */
export interface AnomalySource {
  /** For records: "folder:<path> (<n> images)" or "procedural". */
  readonly description: string;
  /** One source image of the given size; every choice comes from `rng`. */
  draw(rng: Rng, width: number, height: number): Promise<RgbImage>;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

export interface FolderSourceOptions {
  /** Decoded images kept in memory (least recently used dropped first; default 32, 0 = none). */
  cacheSize?: number;
}

/**
 * Any folder of images (e.g. DTD's `images/`), searched recursively; each draw
 * picks a file uniformly and stretches it to the requested size. Files are
 * listed once and sorted, so the same seed picks the same files.
 */
export function folderAnomalySource(dir: string, opts: FolderSourceOptions = {}): AnomalySource {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new InputError('anomaly source folder not found', root, 'pass a folder of texture images (e.g. DTD\'s images/), or omit it to use procedural textures');
  }
  const files = listImages(root).sort();
  if (files.length === 0) {
    throw new InputError(
      `anomaly source folder holds no images (looked for ${[...IMAGE_EXTENSIONS].join(' ')}, recursively)`,
      root,
      'put texture images in it, or omit the option to use procedural textures',
    );
  }
  const cacheSize = opts.cacheSize ?? 32;
  // Map keeps insertion order: re-inserting on use makes the first key the least recently used.
  const cache = new Map<string, RgbImage>();
  return {
    description: `folder:${root} (${files.length} images)`,
    async draw(rng, width, height) {
      const file = rng.pick(files);
      const key = `${width}x${height}:${file}`;
      let image = cache.get(key);
      if (image) {
        cache.delete(key);
      } else {
        const side = Math.max(width, height);
        image = resizeRgbBilinear(await readImage(file, { size: side, resize: 'stretch' }), width, height);
      }
      if (cacheSize > 0) {
        cache.set(key, image);
        if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
      }
      // A copy, so callers may change it without touching the cache.
      return { width, height, data: new Float32Array(image.data) };
    },
  };
}

function listImages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listImages(path);
    return entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()) ? [path] : [];
  });
}

/** Seeded procedural textures (marble, clouds, stripes, checker, dots, cracks) in random colours. */
export function proceduralAnomalySource(kinds: readonly ProceduralTextureKind[] = PROCEDURAL_TEXTURE_KINDS): AnomalySource {
  if (kinds.length === 0) throw new Error('proceduralAnomalySource: give at least one texture kind');
  return {
    description: `procedural (${kinds.join(', ')})`,
    async draw(rng, width, height) {
      return proceduralTexture(rng.pick(kinds), width, height, rng);
    },
  };
}

/** A folder source when a folder is given, else the procedural one. */
export function anomalySource(dir?: string | null): AnomalySource {
  return dir ? folderAnomalySource(dir) : proceduralAnomalySource();
}
