import { InputError } from '../util/errors.ts';
import { progress } from '../util/progress.ts';
import { compareStrings } from './glob.ts';
import { readImage, readMask } from './image.ts';
import type { Dataset, Split } from './types.ts';

/** What `multicue data inspect` reports: counts per split and class, masks, warnings. */

export interface ClassCounts {
  defect: string;
  label: 0 | 1;
  images: number;
  /** Anomalous images only (nominal images need no mask). */
  masksFound: number;
  masksMissing: number;
}

export interface SplitSummary {
  split: Split;
  images: number;
  classes: ClassCounts[];
}

export interface DatasetSummary {
  format: Dataset['format'];
  category: string;
  root: string;
  images: number;
  nominal: number;
  anomalous: number;
  masksFound: number;
  masksMissing: number;
  splits: SplitSummary[];
  warnings: string[];
}

export function summarizeDataset(dataset: Dataset): DatasetSummary {
  const splits: SplitSummary[] = [];
  for (const split of ['train', 'test'] as const) {
    const items = dataset.items.filter((i) => i.split === split);
    const byClass = new Map<string, ClassCounts>();
    for (const item of items) {
      const counts = byClass.get(item.defect) ?? { defect: item.defect, label: item.label, images: 0, masksFound: 0, masksMissing: 0 };
      counts.images++;
      if (item.label === 1) {
        if (item.maskPath) counts.masksFound++;
        else counts.masksMissing++;
      }
      byClass.set(item.defect, counts);
    }
    // Nominal class first, then defects by name.
    const classes = [...byClass.values()].sort((a, b) => a.label - b.label || compareStrings(a.defect, b.defect));
    splits.push({ split, images: items.length, classes });
  }
  const anomalous = dataset.items.filter((i) => i.label === 1);
  const masksFound = anomalous.filter((i) => i.maskPath).length;
  return {
    format: dataset.format,
    category: dataset.category,
    root: dataset.root,
    images: dataset.items.length,
    nominal: dataset.items.length - anomalous.length,
    anomalous: anomalous.length,
    masksFound,
    masksMissing: anomalous.length - masksFound,
    splits,
    warnings: [...dataset.warnings],
  };
}

export function formatSummary(summary: DatasetSummary): string {
  const lines = [
    `dataset:  ${summary.format} "${summary.category}" at ${summary.root}`,
    `images:   ${summary.images} (${summary.nominal} nominal, ${summary.anomalous} defective; masks found ${summary.masksFound}, missing ${summary.masksMissing})`,
    '',
  ];
  const rows: string[][] = [['split', 'class', 'images', 'masks found', 'masks missing']];
  for (const split of summary.splits) {
    for (const c of split.classes) {
      rows.push([split.split, c.defect, String(c.images), c.label ? String(c.masksFound) : '-', c.label ? String(c.masksMissing) : '-']);
    }
    rows.push([split.split, '(all)', String(split.images), '', '']);
  }
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  for (const row of rows) {
    lines.push(row.map((cell, col) => (col < 2 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ').trimEnd());
  }
  return lines.join('\n');
}

export interface CorruptFile {
  id: string;
  path: string;
  kind: 'image' | 'mask';
  reason: string;
}

export interface CheckReport {
  imagesChecked: number;
  masksChecked: number;
  corrupt: CorruptFile[];
  /** Masks whose size differs from their image's (they are resized nearest when read). */
  maskSizeMismatches: string[];
  /** Masks with no foreground pixel (the image counts as anomalous, its pixels all as nominal). */
  emptyMasks: string[];
}

/**
 * Decode every image and mask (what training would do) and report the ones
 * that fail. Slow on big datasets: a progress bar shows rate and ETA.
 */
export async function checkDataset(
  dataset: Dataset,
  opts: { concurrency?: number; silent?: boolean } = {},
): Promise<CheckReport> {
  const report: CheckReport = { imagesChecked: 0, masksChecked: 0, corrupt: [], maskSizeMismatches: [], emptyMasks: [] };
  const bar = progress('checking images', dataset.items.length, { unit: 'img', silent: opts.silent });
  const reasonOf = (err: unknown) => (err instanceof InputError ? err.message.split('\n')[0] : String(err));
  const checkOne = async (index: number): Promise<void> => {
    const item = dataset.items[index];
    let dims: { width: number; height: number } | undefined;
    try {
      const image = await readImage(item.path);
      dims = { width: image.width, height: image.height };
    } catch (err) {
      report.corrupt.push({ id: item.id, path: item.path, kind: 'image', reason: reasonOf(err) });
    }
    report.imagesChecked++;
    if (item.maskPath) {
      try {
        const mask = await readMask(item.maskPath, null, dims, (message) => report.maskSizeMismatches.push(message));
        if (!mask.data.some((v) => v !== 0)) report.emptyMasks.push(item.maskPath);
      } catch (err) {
        report.corrupt.push({ id: item.id, path: item.maskPath, kind: 'mask', reason: reasonOf(err) });
      }
      report.masksChecked++;
    }
    bar.tick();
  };
  // A few decodes in flight keep sharp's thread pool busy.
  let next = 0;
  const worker = async () => {
    while (next < dataset.items.length) await checkOne(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  bar.done();
  // Workers finish out of order: sort so reports are identical between runs.
  report.corrupt.sort((a, b) => compareStrings(a.path, b.path));
  report.maskSizeMismatches.sort(compareStrings);
  report.emptyMasks.sort(compareStrings);
  return report;
}

export function formatCheckReport(report: CheckReport): string {
  const lines = [`checked:  ${report.imagesChecked} images, ${report.masksChecked} masks`];
  if (report.corrupt.length === 0) lines.push('corrupt:  none');
  else {
    lines.push(`corrupt:  ${report.corrupt.length} file(s) cannot be decoded (remove or re-export them):`);
    for (const c of report.corrupt) lines.push(`  ${c.kind} ${c.path}: ${c.reason}`);
  }
  if (report.maskSizeMismatches.length > 0) {
    lines.push(`mask size differs from its image (resized nearest when read): ${report.maskSizeMismatches.length}`);
    for (const m of report.maskSizeMismatches.slice(0, 10)) lines.push(`  ${m}`);
    if (report.maskSizeMismatches.length > 10) lines.push(`  ... and ${report.maskSizeMismatches.length - 10} more`);
  }
  if (report.emptyMasks.length > 0) {
    lines.push(`empty masks (anomalous images whose mask has no defect pixel): ${report.emptyMasks.length}`);
    for (const m of report.emptyMasks.slice(0, 10)) lines.push(`  ${m}`);
    if (report.emptyMasks.length > 10) lines.push(`  ... and ${report.emptyMasks.length - 10} more`);
  }
  return lines.join('\n');
}
