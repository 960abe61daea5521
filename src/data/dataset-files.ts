import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { InputError } from '../util/errors.ts';
import { compareStrings, globToRegExp } from './glob.ts';
import type { DatasetItem, Split } from './types.ts';

/** Helpers every loader shares: image files, folder checks, stable ids, mask warnings. */

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'bmp', 'tif', 'tiff', 'webp'] as const;

/** The default image filter: any of IMAGE_EXTENSIONS, any case (VisA uses .JPG). */
export const DEFAULT_IMAGE_GLOB = `*.{${IMAGE_EXTENSIONS.join(',')}}`;
const DEFAULT_IMAGE_REGEX = globToRegExp(DEFAULT_IMAGE_GLOB, { caseInsensitive: true });

export function isImageFileName(name: string): boolean {
  return DEFAULT_IMAGE_REGEX.test(name);
}

/** File name without its last extension. */
export function stemOf(path: string): string {
  const name = basename(path);
  const ext = extname(name);
  return ext ? name.slice(0, -ext.length) : name;
}

/** Throws an InputError unless `dir` is an existing folder. */
export function requireDir(dir: string, what: string, fix: string): void {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new InputError(`${what} not found (or not a folder)`, dir, fix);
}

/** Image files directly inside a folder (by extension), sorted. */
export function listImageFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && isImageFileName(name))
    .sort(compareStrings)
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** Up to `n` file names in a folder, to show the user what is there. */
export function exampleEntries(dir: string, n = 4): string {
  try {
    const names = readdirSync(dir).filter((name) => !name.startsWith('.')).sort(compareStrings);
    if (names.length === 0) return 'the folder is empty';
    const shown = names.slice(0, n).join(', ');
    return `it holds ${names.length} entr${names.length === 1 ? 'y' : 'ies'}, e.g. ${shown}`;
  } catch {
    return 'the folder cannot be read';
  }
}

export interface ItemDraft {
  path: string;
  /** Path relative to the dataset root, '/'-separated (used for ids and sorting). */
  rel: string;
  split: Split;
  label: 0 | 1;
  defect: string;
  maskPath: string | null;
}

/**
 * Give every draft a stable unique id `split/defect/stem` (the MVTec habit);
 * where stems collide inside one split/defect, the colliding items use their
 * path relative to the root instead. Returns items sorted by id.
 */
export function finalizeItems(drafts: ItemDraft[]): DatasetItem[] {
  const short = (d: ItemDraft) => `${d.split}/${d.defect}/${stemOf(d.rel)}`;
  const counts = new Map<string, number>();
  for (const d of drafts) counts.set(short(d), (counts.get(short(d)) ?? 0) + 1);
  const items = drafts.map((d): DatasetItem => {
    const id = counts.get(short(d))! > 1 ? `${d.split}/${d.defect}/${d.rel}` : short(d);
    return { id, path: d.path, split: d.split, label: d.label, defect: d.defect, maskPath: d.maskPath };
  });
  items.sort((a, b) => compareStrings(a.id, b.id));
  for (let i = 1; i < items.length; i++) {
    if (items[i].id === items[i - 1].id) {
      throw new InputError(
        `two images get the same id "${items[i].id}"`,
        items[i].path,
        `the same file is listed twice (also ${items[i - 1].path}); remove one of the overlapping patterns`,
      );
    }
  }
  return items;
}

/** `path` if the file exists, else null. */
export function existingOrNull(path: string): string | null {
  return existsSync(path) ? path : null;
}

/**
 * One warning per defect class for anomalous images without a mask (instead of
 * hundreds of lines): they stay for image metrics, pixel metrics skip them.
 */
export function missingMaskWarnings(items: DatasetItem[], expectedMaskOf: (item: DatasetItem) => string): string[] {
  const byDefect = new Map<string, DatasetItem[]>();
  for (const item of items) {
    if (item.label !== 1 || item.maskPath !== null) continue;
    const list = byDefect.get(item.defect) ?? [];
    list.push(item);
    byDefect.set(item.defect, list);
  }
  return [...byDefect.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([defect, missing]) => {
      const total = items.filter((i) => i.label === 1 && i.defect === defect).length;
      return (
        `${missing.length} of ${total} anomalous "${defect}" images have no mask (e.g. expected ${expectedMaskOf(missing[0])}); ` +
        `they are kept for image metrics and excluded from pixel metrics`
      );
    });
}
