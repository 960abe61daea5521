import { InputError, type WarnFn, warnToStderr } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { compareStrings } from './glob.ts';
import {
  MANIFEST_ROLES,
  ProtocolParamsSchema,
  type Manifest,
  type ManifestItem,
  type ManifestRole,
  type ProtocolParams,
  type ProtocolParamsInput,
} from './manifest.ts';
import type { DataSpec } from './spec.ts';
import type { Dataset, DatasetItem } from './types.ts';

/**
 * The contamination protocol (METHOD §1.1–1.3): k few-shot real anomalies and
 * n_c = floor(r/(1-r)·N_good_train) contaminating anomalies are drawn from the
 * test anomalies; the test set keeps only what neither took.
 *
 * Draws are nested so sweeps compare like with like: for one seed the k-shot
 * set is the first k of one shuffle (k=5 ⊂ k=10), and for one seed and k the
 * contamination at a lower ratio is a prefix of that at a higher ratio.
 */

/** n_c for ratio r over N nominal training images. */
export function contaminationCount(ratio: number, nominalTrain: number): number {
  if (ratio <= 0) return 0;
  // The epsilon keeps exact products (e.g. 0.2/0.8·800 = 200) from flooring to 199.
  return Math.floor((ratio / (1 - ratio)) * nominalTrain + 1e-9);
}

export function validateProtocolParams(params: ProtocolParamsInput): ProtocolParams {
  const result = ProtocolParamsSchema.safeParse(params);
  if (!result.success) {
    const option: Record<string, string> = {
      ratio: '--ratio',
      shots: '--shots',
      seed: '--seed',
      noiseStd: '--noise-std',
      withReplacement: '--with-replacement',
    };
    const lines = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return `${key} (${option[key] ?? key}): ${issue.message}`;
    });
    throw new InputError(
      `invalid protocol parameters: ${lines.join('; ')}`,
      undefined,
      'ratio in [0,1), shots and seed whole numbers >= 0, noise std >= 0',
    );
  }
  return result.data;
}

/** Draw the few-shot, contamination and test sets of one experiment. */
export function buildManifest(
  dataset: Dataset,
  dataSpec: DataSpec,
  paramsInput: ProtocolParamsInput,
  warn: WarnFn = warnToStderr,
): Manifest {
  const params = validateProtocolParams(paramsInput);
  const byId = (a: DatasetItem, b: DatasetItem) => compareStrings(a.id, b.id);
  const nominalTrain = dataset.items.filter((i) => i.split === 'train' && i.label === 0).sort(byId);
  const testAnomalies = dataset.items.filter((i) => i.split === 'test' && i.label === 1).sort(byId);
  const trainAnomalies = dataset.items.filter((i) => i.split === 'train' && i.label === 1);
  const warnings: string[] = [];
  if (trainAnomalies.length > 0) {
    warnings.push(`${trainAnomalies.length} anomalous images in the dataset's train split were left out (the protocol draws anomalies from the test split)`);
  }
  if (nominalTrain.length === 0) {
    throw new InputError('the dataset has no nominal training images', dataset.root, 'check the dataset options (run `multicue data inspect`)');
  }

  const k = params.shots;
  const needed = contaminationCount(params.ratio, nominalTrain.length);
  const available = testAnomalies.length;
  if (k > available) {
    throw new InputError(
      `${k} few-shot anomalies requested but the dataset has only ${available} anomalous test images`,
      dataset.root,
      `lower --shots to at most ${available} (few-shot anomalies are always distinct images)`,
    );
  }
  if (k + needed > available && !params.withReplacement) {
    throw new InputError(
      `contamination ratio ${params.ratio} with ${nominalTrain.length} nominal training images needs ` +
        `floor(r/(1-r)·N) = ${needed} contaminating anomalies plus ${k} few-shot anomalies = ${k + needed}, ` +
        `but the dataset has only ${available} anomalous test images`,
      dataset.root,
      'lower --ratio or --shots, or pass --with-replacement to draw contaminating anomalies more than once ' +
        '(the test set then keeps no anomalous images)',
    );
  }

  const rng = new Rng(params.seed);
  const fewshotRng = rng.fork('fewshot');
  const contaminationRng = rng.fork('contamination');

  const fewshot = fewshotRng.shuffle(testAnomalies).slice(0, k);
  const fewshotIds = new Set(fewshot.map((i) => i.id));
  const remaining = testAnomalies.filter((i) => !fewshotIds.has(i.id));
  if (needed > 0 && remaining.length === 0) {
    throw new InputError(
      `contamination needs ${needed} anomalies but all ${available} anomalous test images are few-shot anomalies`,
      dataset.root,
      'lower --shots so that some anomalies remain for contamination',
    );
  }

  // Without replacement: a prefix of one shuffle. With replacement: whole
  // reshuffled passes, so every image is used before any is used again.
  const contamination: Array<{ item: DatasetItem; occurrence: number }> = [];
  const occurrences = new Map<string, number>();
  while (contamination.length < needed) {
    const pass = contaminationRng.shuffle(remaining);
    for (const item of pass.slice(0, needed - contamination.length)) {
      const occurrence = (occurrences.get(item.id) ?? 0) + 1;
      occurrences.set(item.id, occurrence);
      contamination.push({ item, occurrence });
    }
  }
  const repeats = contamination.filter((c) => c.occurrence > 1).length;
  if (repeats > 0) {
    warnings.push(
      `sampled ${needed} contaminating anomalies WITH REPLACEMENT from ${remaining.length} images ` +
        `(${repeats} repeats, each image up to ${Math.max(...occurrences.values())} times; the repeats get different noise)`,
    );
  }

  const usedIds = new Set([...fewshotIds, ...contamination.map((c) => c.item.id)]);
  const test = dataset.items.filter((i) => i.split === 'test' && !usedIds.has(i.id)).sort(byId);
  const testAnomalous = test.filter((i) => i.label === 1).length;
  if (testAnomalous === 0) warnings.push('the test set has no anomalous images left: image AUROC cannot be computed');
  if (test.length - testAnomalous === 0) warnings.push('the test set has no nominal images: image AUROC cannot be computed');

  // Fixed key order: the JSON bytes depend on it.
  const entry = (item: DatasetItem, role: ManifestRole, id = item.id, noiseSeed?: number): ManifestItem => ({
    id,
    path: item.path,
    role,
    label: item.label,
    ...(role === 'test' ? {} : { trainLabel: role === 'fewshot' ? (1 as const) : (0 as const) }),
    defect: item.defect,
    maskPath: item.maskPath,
    ...(noiseSeed === undefined ? {} : { noiseSeed }),
  });
  const contaminationItems = contamination.map(({ item, occurrence }) => {
    const id = occurrence === 1 ? item.id : `${item.id}#${occurrence}`;
    // Seeded by the run seed and the id: the same image keeps its noise across ratios.
    return entry(item, 'contamination', id, new Rng(`noise/${params.seed}/${id}`).nextUint32());
  });
  const items: ManifestItem[] = [
    ...nominalTrain.map((i) => entry(i, 'nominal')),
    ...contaminationItems.sort((a, b) => compareStrings(a.id, b.id)),
    ...fewshot.slice().sort(byId).map((i) => entry(i, 'fewshot')),
    ...test.map((i) => entry(i, 'test')),
  ];

  for (const message of warnings) warn(message);
  const counts = Object.fromEntries(MANIFEST_ROLES.map((role) => [role, items.filter((i) => i.role === role).length])) as Record<ManifestRole, number>;
  return {
    version: 1,
    createdBy: 'multicue',
    dataSpec,
    params,
    counts: { ...counts, testNominal: test.length - testAnomalous, testAnomalous, contaminationRepeats: repeats },
    warnings,
    items,
  };
}
