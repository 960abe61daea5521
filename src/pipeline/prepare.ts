import type { Backbone } from '../backbones/types.ts';
import { loadBackbone } from '../backbones/registry.ts';
import { anomalySource } from '../data/anomaly-source.ts';
import { loadDataset } from '../data/load-dataset.ts';
import type { Manifest } from '../data/manifest.ts';
import { buildManifest } from '../data/protocol.ts';
import type { Dataset, ImageGeometry } from '../data/types.ts';
import { initBackend } from '../engine/backend.ts';
import {
  buildFeatureCache,
  manifestFeatureSources,
  pseudoAnomalyGenerator,
  type FeatureCache,
  type FeatureCacheStats,
  type FeatureGroup,
  type FeatureSource,
} from '../training/feature-cache.ts';
import { type WarnFn, warnToStderr } from '../util/errors.ts';
import type { Experiment } from './experiment.ts';

/**
 * From raw images to cached features for one experiment cell: load the dataset,
 * draw the protocol's manifest, load the backbone, and extract (or reuse from
 * the disk cache) the taps of every image the method needs.
 */

export interface Prepared {
  dataset: Dataset;
  manifest: Manifest;
  backbone: Backbone;
  geometry: ImageGeometry;
  /** Every source in the cache (for re-reading pixels, e.g. for gradient maps). */
  sources: FeatureSource[];
  cache: FeatureCache;
  cacheStats: FeatureCacheStats;
}

export interface PrepareOptions {
  /** Reuse an already loaded backbone (sweeps load it once). */
  backbone?: Backbone;
  /** Reuse an already loaded dataset listing. */
  dataset?: Dataset;
  /** Use this manifest instead of drawing one (re-evaluating a run on its own test set). */
  manifest?: Manifest;
  /** Extract only these groups (default: all the method needs). */
  groups?: readonly FeatureGroup[];
  silent?: boolean;
  warn?: WarnFn;
}

export function isSupervisedMethod(method: Experiment['method']): boolean {
  return method === 'multicue' || method === 'adl';
}

export async function loadExperimentBackbone(experiment: Experiment): Promise<Backbone> {
  await initBackend();
  return loadBackbone(experiment.backbone.name, experiment.backbone.weights ? { weightsPath: experiment.backbone.weights } : {});
}

export async function prepareExperiment(experiment: Experiment, opts: PrepareOptions = {}): Promise<Prepared> {
  const warn = opts.warn ?? warnToStderr;
  const dataset = opts.dataset ?? loadDataset(experiment.data);
  for (const w of dataset.warnings) warn(w);
  const manifest = opts.manifest ?? buildManifest(dataset, experiment.data, experiment.protocol, warn);
  const backbone = opts.backbone ?? (await loadExperimentBackbone(experiment));
  const geometry: ImageGeometry = { size: experiment.geometry.size, resize: experiment.geometry.resize };
  const supervised = isSupervisedMethod(experiment.method);
  const wanted = new Set<FeatureGroup>(opts.groups ?? (supervised ? ['pool', 'pseudo', 'fewshot', 'test'] : ['pool', 'test']));
  const variants = wanted.has('pseudo') ? experiment.config.cache.pseudoVariants : 0;
  const all = manifestFeatureSources(manifest, geometry, {
    warn,
    ...(variants > 0
      ? {
          pseudo: {
            variants,
            // Variants depend on the data seed only, so every α/λ/fusion cell of a sweep shares them.
            seed: `pseudo|${experiment.protocol.seed}`,
            generate: pseudoAnomalyGenerator(anomalySource(experiment.anomalySource)),
            generatorKey: `eq1:${experiment.anomalySource ?? 'procedural'}`,
          },
        }
      : {}),
  });
  // Unsupervised baselines never see anomalies: only the (contaminated) pool and the test set.
  const sources = all.filter((s) => wanted.has(s.group));
  const { cache, stats } = await buildFeatureCache(backbone, sources, {
    geometry,
    cacheDir: experiment.featureCache,
    batchSize: experiment.config.cache.extractBatchSize,
    silent: opts.silent,
  });
  return { dataset, manifest, backbone, geometry, sources, cache, cacheStats: stats };
}
