import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../util/errors.ts';
import { existingOrNull, finalizeItems, missingMaskWarnings, requireDir, type ItemDraft } from './dataset-files.ts';
import { compareStrings, toPosix } from './glob.ts';
import type { VisaSpec } from './spec.ts';
import type { Dataset } from './types.ts';

/**
 * VisA through its 1-class split CSV (`split_csv/1cls.csv`, columns
 * object,split,label,image,mask; paths relative to the VisA root). VisA has no
 * defect classes, so anomalies get the class "anomaly".
 */

export const DEFAULT_VISA_SPLIT_CSV = 'split_csv/1cls.csv';
const REQUIRED_COLUMNS = ['object', 'split', 'label', 'image', 'mask'] as const;

export function loadVisa(spec: VisaSpec): Dataset {
  const { root, category } = spec;
  requireDir(root, 'VisA root folder', 'pass --root the VisA folder (the one holding split_csv/ and the category folders)');
  const csvPath = resolve(root, spec.splitCsv ?? DEFAULT_VISA_SPLIT_CSV);
  if (!existsSync(csvPath)) {
    throw new InputError('VisA split CSV not found', csvPath, 'pass --split-csv <file relative to root>, or use the split_csv/1cls.csv that ships with VisA');
  }
  const rows = parseCsv(readFileSync(csvPath, 'utf8'));
  if (rows.length === 0) throw new InputError('the split CSV is empty', csvPath, 'use VisA\'s split_csv/1cls.csv');
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const column: Record<string, number> = {};
  for (const name of REQUIRED_COLUMNS) {
    const index = header.indexOf(name);
    if (index < 0) {
      throw new InputError(
        `the split CSV has no "${name}" column (header: ${rows[0].join(',')})`,
        csvPath,
        `the CSV needs the columns ${REQUIRED_COLUMNS.join(',')}`,
      );
    }
    column[name] = index;
  }

  const drafts: ItemDraft[] = [];
  const objects = new Set<string>();
  const missingImages: string[] = [];
  const expectedMask = new Map<string, string>();
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.length === 1 && row[0].trim() === '') continue; // blank line
    const cell = (name: string) => (row[column[name]] ?? '').trim();
    const object = cell('object');
    objects.add(object);
    if (object !== category) continue;
    const where = `${csvPath} line ${r + 1}`;
    const split = cell('split').toLowerCase();
    if (split !== 'train' && split !== 'test') {
      throw new InputError(`split must be "train" or "test" (got "${cell('split')}")`, where, 'fix that row of the CSV');
    }
    const labelText = cell('label').toLowerCase();
    const label = labelText === 'normal' || labelText === '0' ? 0 : labelText === 'anomaly' || labelText === '1' ? 1 : null;
    if (label === null) {
      throw new InputError(`label must be "normal" or "anomaly" (got "${cell('label')}")`, where, 'fix that row of the CSV');
    }
    const imageRel = toPosix(cell('image'));
    const path = resolve(root, imageRel);
    if (!existsSync(path)) missingImages.push(path);
    const maskRel = cell('mask');
    expectedMask.set(path, maskRel ? resolve(root, maskRel) : `a mask (its CSV row has none)`);
    drafts.push({
      path,
      rel: imageRel,
      split,
      label,
      defect: label === 1 ? 'anomaly' : 'good',
      maskPath: label === 1 && maskRel ? existingOrNull(resolve(root, maskRel)) : null,
    });
  }
  if (drafts.length === 0) {
    throw new InputError(
      `no rows for category "${category}" in the split CSV`,
      csvPath,
      `check --category; the CSV has: ${[...objects].filter(Boolean).sort(compareStrings).join(', ')}`,
    );
  }
  if (missingImages.length > 0) {
    throw new InputError(
      `${missingImages.length} image file(s) named in the split CSV do not exist (first: ${missingImages[0]})`,
      csvPath,
      'check --root: the CSV paths are relative to the VisA root folder',
    );
  }
  const items = finalizeItems(drafts);
  const warnings = missingMaskWarnings(items, (item) => expectedMask.get(item.path) ?? 'a mask');
  return { format: 'visa', category, root, items, warnings };
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
