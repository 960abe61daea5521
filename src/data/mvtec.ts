import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../util/errors.ts';
import {
  existingOrNull,
  exampleEntries,
  finalizeItems,
  listImageFiles,
  missingMaskWarnings,
  requireDir,
  stemOf,
  type ItemDraft,
} from './dataset-files.ts';
import { compareStrings } from './glob.ts';
import type { MvtecSpec } from './spec.ts';
import type { Dataset } from './types.ts';

/**
 * MVTec AD layout: `<root>/<category>/train/good/*.png`, `test/<defect>/*.png`
 * (`test/good` holds the nominal test images), masks in
 * `ground_truth/<defect>/<stem>_mask.png`. Lists files only.
 */
export function loadMvtec(spec: MvtecSpec): Dataset {
  const { root, category } = spec;
  requireDir(root, 'MVTec root folder', 'pass --root the folder that holds the category folders (bottle/, cable/, ...)');
  const categoryDir = join(root, category);
  const trainGood = join(categoryDir, 'train', 'good');
  if (!isDir(trainGood)) {
    const fix = isDir(join(root, 'train', 'good'))
      ? `--root points inside the category: pass its parent folder as --root (the one holding ${category}/)`
      : `check --category; categories found under the root: ${mvtecCategories(root).join(', ') || 'none'}`;
    throw new InputError(`MVTec category "${category}" has no train/good folder`, trainGood, fix);
  }
  const testDir = join(categoryDir, 'test');
  requireDir(testDir, `MVTec test folder of "${category}"`, 'the category needs test/good and test/<defect> folders');

  const drafts: ItemDraft[] = [];
  const trainImages = listImageFiles(trainGood);
  if (trainImages.length === 0) {
    throw new InputError('no training images (png/jpg/...) in train/good', trainGood, `add the nominal training images; ${exampleEntries(trainGood)}`);
  }
  for (const path of trainImages) {
    drafts.push({ path, rel: rel(category, 'train/good', path), split: 'train', label: 0, defect: 'good', maskPath: null });
  }

  const defects = readdirSync(testDir)
    .filter((name) => !name.startsWith('.') && isDir(join(testDir, name)))
    .sort(compareStrings);
  if (defects.length === 0) {
    throw new InputError('the test folder has no class folders', testDir, 'expected test/good and test/<defect> folders');
  }
  const expectedMask = (defect: string, path: string) =>
    join(categoryDir, 'ground_truth', defect, `${stemOf(path)}_mask.png`);
  for (const defect of defects) {
    const label = defect === 'good' ? 0 : 1;
    for (const path of listImageFiles(join(testDir, defect))) {
      drafts.push({
        path,
        rel: rel(category, `test/${defect}`, path),
        split: 'test',
        label,
        defect,
        maskPath: label === 1 ? existingOrNull(expectedMask(defect, path)) : null,
      });
    }
  }
  const items = finalizeItems(drafts);
  const warnings = missingMaskWarnings(items, (item) => expectedMask(item.defect, item.path));
  if (!items.some((i) => i.split === 'test' && i.label === 1)) {
    warnings.push(`no anomalous test images in ${testDir} (only test/good?)`);
  }
  return { format: 'mvtec', category, root, items, warnings };
}

function rel(category: string, folder: string, path: string): string {
  return `${category}/${folder}/${basename(path)}`;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Category folders under an MVTec root (those with train/good). */
export function mvtecCategories(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => isDir(join(root, name, 'train', 'good')))
    .sort(compareStrings);
}
