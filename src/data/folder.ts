import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { InputError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import {
  DEFAULT_IMAGE_GLOB,
  exampleEntries,
  finalizeItems,
  isImageFileName,
  missingMaskWarnings,
  requireDir,
  stemOf,
  type ItemDraft,
} from './dataset-files.ts';
import { compareStrings, expandGlob, globToRegExp, toPosix } from './glob.ts';
import { categoryOf, type FolderSpec } from './spec.ts';
import type { Dataset } from './types.ts';

/**
 * A generic folder layout: nominal and anomalous images given as folders or
 * globs relative to the root. The defect class of an anomalous image is the
 * first folder of its path under the root (`MT_Blowhole/Imgs/x.jpg` →
 * `MT_Blowhole`). Without nominal test folders a seeded fraction of the
 * nominal images is held out as nominal test images. Lists files only.
 */
export function loadFolder(spec: FolderSpec): Dataset {
  const root = spec.root;
  requireDir(root, 'dataset root folder', 'pass --root the folder that the --nominal/--anomalous patterns are relative to');
  const maskDirTemplate = spec.maskDir ?? '{dir}';
  checkTemplate(maskDirTemplate, MASK_DIR_PLACEHOLDERS, '--mask-dir (maskDir)');
  checkTemplate(spec.maskPattern, MASK_NAME_PLACEHOLDERS, '--mask-pattern (maskPattern)');

  const imageFilter = makeImageFilter(spec.images);
  const nominal = collectImages(root, spec.nominal, '--nominal', imageFilter);
  const anomalous = collectImages(root, spec.anomalous, '--anomalous', imageFilter);
  const testNominal = spec.testNominal ? collectImages(root, spec.testNominal, '--test-nominal', imageFilter) : new Map<string, string>();

  const defectOf = (path: string): string => {
    const relDir = toPosix(relative(root, dirname(path)));
    if (relDir === '') return 'anomaly';
    if (relDir.startsWith('..')) return basename(dirname(path));
    return relDir.split('/')[0];
  };
  const maskPathOf = (path: string): string => {
    const vars = {
      dir: toPosix(relative(root, dirname(path))) || '.',
      defect: defectOf(path),
      stem: stemOf(path),
      name: basename(path),
      ext: extname(path).slice(1),
    };
    const dir = spec.maskDir === undefined ? dirname(path) : resolve(root, fillTemplate(maskDirTemplate, vars));
    return join(dir, fillTemplate(spec.maskPattern, vars));
  };

  // Masks that sit beside their images also match a broad image glob: drop every
  // listed file that is the mask of another listed image.
  const all = new Set([...nominal.keys(), ...anomalous.keys(), ...testNominal.keys()]);
  const masksOfOthers = new Set<string>();
  for (const path of all) {
    const mask = maskPathOf(path);
    if (mask !== path && all.has(mask)) masksOfOthers.add(mask);
  }
  const warnings: string[] = [];
  if (masksOfOthers.size > 0) {
    for (const map of [nominal, anomalous, testNominal]) for (const path of masksOfOthers) map.delete(path);
    warnings.push(
      `${masksOfOthers.size} files matched the image filter but are masks of other images (mask pattern "${spec.maskPattern}"); ` +
        `they were left out of the images (pass --images, e.g. "*.jpg", to say which files are images)`,
    );
  }

  rejectOverlap(nominal, anomalous, '--nominal', '--anomalous');
  rejectOverlap(testNominal, anomalous, '--test-nominal', '--anomalous');
  rejectOverlap(nominal, testNominal, '--nominal', '--test-nominal');
  for (const [label, map, option] of [
    ['nominal', nominal, '--nominal'],
    ['anomalous', anomalous, '--anomalous'],
  ] as const) {
    if (map.size === 0) {
      throw new InputError(`no ${label} images left after removing masks`, root, `check ${option} and --images`);
    }
  }

  const nominalPaths = [...nominal.keys()].sort((a, b) => compareStrings(nominal.get(a)!, nominal.get(b)!));
  let heldOut = new Set<string>();
  if (testNominal.size === 0) {
    const count = Math.round(spec.testFraction * nominalPaths.length);
    if (count >= nominalPaths.length) {
      throw new InputError(
        `--test-fraction ${spec.testFraction} would hold out all ${nominalPaths.length} nominal images`,
        root,
        'lower --test-fraction or give more nominal images',
      );
    }
    // Sorted first, so the hold-out depends only on the file names and the seed.
    heldOut = new Set(new Rng(spec.seed).shuffle(nominalPaths).slice(0, count));
    if (count === 0) warnings.push('no nominal test images: --test-fraction gives 0 held-out images and no --test-nominal was given');
  }

  const drafts: ItemDraft[] = [];
  const rel = (path: string) => toPosix(relative(root, path));
  for (const path of nominalPaths) {
    const split = heldOut.has(path) ? 'test' : 'train';
    drafts.push({ path, rel: rel(path), split, label: 0, defect: 'good', maskPath: null });
  }
  for (const path of testNominal.keys()) {
    drafts.push({ path, rel: rel(path), split: 'test', label: 0, defect: 'good', maskPath: null });
  }
  for (const path of anomalous.keys()) {
    const mask = maskPathOf(path);
    drafts.push({ path, rel: rel(path), split: 'test', label: 1, defect: defectOf(path), maskPath: existsSync(mask) ? mask : null });
  }
  const items = finalizeItems(drafts);
  warnings.push(...missingMaskWarnings(items, (item) => maskPathOf(item.path)));
  const usedFiles = items.flatMap((i) => (i.maskPath ? [i.path, i.maskPath] : [i.path]));
  const unused = unusedImageFolders(root, usedFiles.map((path) => toPosix(relative(root, path))));
  if (unused.length > 0) {
    // Catches globs that drop a class by accident (MT_[!F]* also drops MT_Fray).
    warnings.push(`top-level folders with images that no --nominal/--anomalous pattern uses: ${unused.join(', ')}`);
  }
  return { format: 'folder', category: categoryOf(spec), root, items, warnings };
}

const MASK_DIR_PLACEHOLDERS = ['dir', 'defect', 'stem', 'name', 'ext'];
const MASK_NAME_PLACEHOLDERS = ['stem', 'name', 'ext', 'dir', 'defect'];

function checkTemplate(template: string, allowed: string[], option: string): void {
  for (const match of template.matchAll(/\{([^}]*)\}/g)) {
    if (!allowed.includes(match[1])) {
      throw new InputError(
        `${option} "${template}" uses an unknown placeholder {${match[1]}}`,
        undefined,
        `use ${allowed.map((p) => `{${p}}`).join(' ')}, e.g. "{stem}_mask.png" or "{stem}.png"`,
      );
    }
  }
}

function fillTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([^}]*)\}/g, (_, key: string) => vars[key]);
}

interface ImageFilter {
  /** Shown in messages. */
  glob: string;
  /** The glob names sub-folders, so folders are listed recursively. */
  recursive: boolean;
  test(relToFolder: string): boolean;
}

function makeImageFilter(images: string | undefined): ImageFilter {
  if (images === undefined) {
    return { glob: DEFAULT_IMAGE_GLOB, recursive: false, test: (rel) => isImageFileName(rel) };
  }
  const regex = globToRegExp(images);
  return { glob: images, recursive: images.includes('/'), test: (rel) => regex.test(rel) };
}

/** Absolute path → path relative to the root, for every image a list of patterns names. */
function collectImages(root: string, patterns: string[], option: string, filter: ImageFilter): Map<string, string> {
  const found = new Map<string, string>();
  for (const pattern of patterns) {
    const matches = expandGlob(root, pattern, 'any');
    if (matches.length === 0) {
      throw new InputError(
        `${option} "${pattern}" matched no folder or file`,
        resolve(root, pattern),
        `patterns are relative to --root (${root}) and case-sensitive; ${exampleEntries(root)}. Quote globs so the shell leaves them alone`,
      );
    }
    let count = 0;
    for (const match of matches) {
      const files = match.isDir
        ? listFiles(match.path, filter.recursive).filter((rel) => filter.test(rel)).map((rel) => join(match.path, rel))
        : filter.test(basename(match.path))
          ? [match.path]
          : [];
      for (const path of files) {
        found.set(path, toPosix(relative(root, path)));
        count++;
      }
    }
    if (count === 0) {
      const firstDir = matches.find((m) => m.isDir)?.path ?? dirname(matches[0].path);
      throw new InputError(
        `${option} "${pattern}" matched ${matches.length} folder(s)/file(s) but no images (image filter "${filter.glob}")`,
        firstDir,
        `${exampleEntries(firstDir)}; set --images to a glob that matches the image files`,
      );
    }
  }
  return found;
}

/** Files under a folder, as '/'-separated paths relative to it, sorted. */
function listFiles(dir: string, recursive: boolean, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort(compareStrings)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isFile()) out.push(prefix + name);
    else if (recursive && stat.isDirectory()) out.push(...listFiles(path, true, `${prefix}${name}/`));
  }
  return out;
}

/** Top-level folders of the root that hold images (within two levels) but gave no item. */
function unusedImageFolders(root: string, usedRelPaths: string[]): string[] {
  const used = new Set(usedRelPaths.map((rel) => rel.split('/')[0]));
  const holdsImages = (dir: string, depth: number): boolean =>
    readdirSync(dir, { withFileTypes: true }).some(
      (e) => !e.name.startsWith('.') && ((e.isFile() && isImageFileName(e.name)) || (depth > 0 && e.isDirectory() && holdsImages(join(dir, e.name), depth - 1))),
    );
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !used.has(e.name) && holdsImages(join(root, e.name), 1))
    .map((e) => e.name)
    .sort(compareStrings);
}

function rejectOverlap(a: Map<string, string>, b: Map<string, string>, optionA: string, optionB: string): void {
  for (const path of a.keys()) {
    if (b.has(path)) {
      throw new InputError(
        `an image is listed by both ${optionA} and ${optionB}`,
        path,
        `make the ${optionA} and ${optionB} patterns name disjoint folders`,
      );
    }
  }
}
