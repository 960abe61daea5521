/**
 * Reading and writing a run directory's scores.csv (see run-dir.ts): one row
 * per test image with its label, defect, the three cues, the method's score
 * and p. Numbers are written with JavaScript's shortest round-trip form, so a
 * value read back is the exact number that was written.
 */
import { readFileSync } from 'node:fs';
import type { TestImageResult } from '../pipeline/run-cell.ts';
import { InputError } from '../util/errors.ts';

const HEADER = ['id', 'label', 'defect', 'score', 'deviation', 'uncertainty', 'segmentation', 'p'] as const;

function field(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The scores.csv text of these rows (the same bytes run-dir.ts writes). */
export function formatScoresCsv(rows: readonly TestImageResult[]): string {
  const lines = rows.map((r) => [r.id, r.label, r.defect, r.score, r.deviation, r.uncertainty, r.segmentation, r.p].map(field).join(','));
  return [HEADER.join(','), ...lines].join('\n') + '\n';
}

/** Split CSV text into records of fields (RFC 4180 quoting). */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let fieldText = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        fieldText += '"';
        i++;
      } else if (c === '"') quoted = false;
      else fieldText += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(fieldText);
      fieldText = '';
    } else if (c === '\n') {
      record.push(fieldText);
      records.push(record);
      record = [];
      fieldText = '';
    } else if (c !== '\r') fieldText += c;
  }
  if (fieldText !== '' || record.length > 0) {
    record.push(fieldText);
    records.push(record);
  }
  return records;
}

/** Parse scores.csv text; errors name the file and the bad line. */
export function parseScoresCsv(text: string, path = 'scores.csv'): TestImageResult[] {
  const [header, ...records] = csvRecords(text);
  if (!header || header.join(',') !== HEADER.join(',')) {
    throw new InputError(`unexpected scores.csv header "${header?.join(',') ?? ''}"`, path, `the file must start with "${HEADER.join(',')}": rerun the cell`);
  }
  return records.map((r, index) => {
    const line = index + 2;
    if (r.length !== HEADER.length) throw new InputError(`line ${line} has ${r.length} fields, expected ${HEADER.length}`, path, 'the file is damaged: delete the run directory and rerun the sweep');
    const number = (text: string, column: string): number => {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new InputError(`line ${line}: ${column} "${text}" is not a number`, path, 'the file is damaged: delete the run directory and rerun the sweep');
      return n;
    };
    const optional = (text: string, column: string): number | null => (text === '' ? null : number(text, column));
    const label = number(r[1], 'label');
    if (label !== 0 && label !== 1) throw new InputError(`line ${line}: label must be 0 or 1`, path, 'the file is damaged: rerun the cell');
    return {
      id: r[0],
      label,
      defect: r[2],
      score: number(r[3], 'score'),
      deviation: optional(r[4], 'deviation'),
      uncertainty: optional(r[5], 'uncertainty'),
      segmentation: optional(r[6], 'segmentation'),
      p: optional(r[7], 'p'),
    };
  });
}

export function readScoresCsv(path: string): TestImageResult[] {
  return parseScoresCsv(readFileSync(path, 'utf8'), path);
}
