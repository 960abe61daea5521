import type { Command } from 'commander';
import { addDataOptions, cliNumber as num, dataSpecFromOptions, type DataOptions } from '../data/spec.ts';
import { METHODS, parseExperiment, readExperimentFile, type Experiment } from '../pipeline/experiment.ts';
import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.ts';
import { CONFIG_PRESETS, CONFIG_PRESET_NAMES, defaultPreset, mergeConfig, type ConfigPresetName } from '../training/presets.ts';

/**
 * The flags that define one experiment (data, protocol, geometry, backbone,
 * method, config), shared by `train` and `demo`. An --experiment JSON gives
 * every key at once; flags override it.
 */

export interface ExperimentOptions extends DataOptions {
  experiment?: string;
  ratio?: string;
  shots?: string;
  seed?: string;
  noiseStd?: string;
  withReplacement?: boolean;
  size?: string;
  resize?: string;
  backbone?: string;
  weights?: string;
  method?: string;
  config?: string;
  preset?: string;
  epochs?: string;
  stepsPerEpoch?: string;
  batchSize?: string;
  alpha?: string;
  lambda?: string;
  segHead?: string;
  anomalySource?: string;
  featureCache?: string;
  noFeatureCache?: boolean;
  gradientMaps?: string;
  mainMap?: string;
}

export function addExperimentOptions<C extends Command>(cmd: C): C {
  cmd.option('--experiment <file.json>', 'a whole experiment as JSON (data, protocol, geometry, backbone, method, config); flags override');
  addDataOptions(cmd);
  cmd
    .option('--ratio <r>', 'contamination ratio r in [0,1) (default 0.1)')
    .option('--shots <k>', 'few-shot real anomalies k (default 10)')
    .option('--seed <n>', 'seed of the protocol draws and of training (default 0)')
    .option('--noise-std <s>', 'std of the noise on contaminating images (default 0.1)')
    .option('--with-replacement', 'allow drawing contaminating anomalies more than once when too few exist')
    .option('--size <px>', 'square input size (default 256)')
    .option('--resize <mode>', 'stretch | center-crop | letterbox (default center-crop)')
    .option('--backbone <name>', 'auto | resnet18 | mobilenetv2 | mobilenetv2-0.35 | nsfwjs-mobilenetv2 (default auto)')
    .option('--weights <file>', 'backbone weight file instead of the weights cache')
    .option('--method <name>', `${METHODS.join(' | ')} (default multicue)`)
    .option('--preset <name>', `detector settings to start from: ${CONFIG_PRESET_NAMES.join(' | ')} (default: paper on node-gpu, else cpu)`)
    .option('--config <file.json>', 'detector hyper-parameters over the preset (partial)')
    .option('--epochs <n>', 'training epochs')
    .option('--steps-per-epoch <n>', 'training steps per epoch')
    .option('--batch-size <n>', 'batch size (even: half nominal, half anomalous)')
    .option('--alpha <a>', 'α of the instance reweighting')
    .option('--lambda <l>', 'λ of the instance reweighting')
    .option('--seg-head <kind>', 'segmentation head: full | lite')
    .option('--anomaly-source <dir>', 'texture images for pseudo-anomalies (e.g. DTD); default procedural textures')
    .option('--feature-cache <dir>', 'on-disk feature cache (default .cache/features)')
    .option('--no-feature-cache', 'keep features in memory only')
    .option('--gradient-maps <n|all|none>', 'test images that get gradient maps (default all)')
    .option('--main-map <kind>', 'map reported as pixel_auroc: grad | seg | product (default product)');
  return cmd;
}

/** `--gradient-maps`: all | none | a whole number of test images. */
export function parseGradientMaps(value: string): 'all' | 'none' | number {
  if (value === 'all' || value === 'none') return value;
  if (!/^\d+$/.test(value.trim())) {
    throw new InputError(`--gradient-maps must be all, none or a whole number (got "${value}")`, undefined, 'e.g. --gradient-maps 120');
  }
  return Number(value);
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`cannot read JSON (${(err as Error).message})`, path, 'check the path and the JSON syntax');
  }
}

type Json = Record<string, unknown>;
function setIn(target: Json, path: string[], value: unknown): void {
  if (value === undefined) return;
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] = { ...((node[key] as Json | undefined) ?? {}) };
    node = node[key] as Json;
  }
  node[path[path.length - 1]] = value;
}

export function experimentFromOptions(opts: ExperimentOptions, defaults: Json = {}): Experiment {
  const base: Json = opts.experiment ? (readExperimentFile(opts.experiment) as unknown as Json) : structuredClone(defaults);
  const hasDataFlags = opts.data || opts.format || opts.root;
  if (hasDataFlags) base.data = dataSpecFromOptions(opts);
  if (!base.data) dataSpecFromOptions(opts); // throws the "no dataset given" error with its fix
  const preset = (opts.preset ?? (opts.experiment ? undefined : defaultPreset())) as ConfigPresetName | undefined;
  if (preset !== undefined) {
    if (!(preset in CONFIG_PRESETS)) {
      throw new InputError(`unknown preset "${preset}"`, undefined, `use one of ${CONFIG_PRESET_NAMES.join(', ')}`);
    }
    base.config = mergeConfig(CONFIG_PRESETS[preset] as Json, (base.config as Json | undefined) ?? {});
  }
  if (opts.config) base.config = mergeConfig((base.config as Json | undefined) ?? {}, readJson(opts.config));
  setIn(base, ['protocol', 'ratio'], num(opts.ratio, '--ratio'));
  setIn(base, ['protocol', 'shots'], num(opts.shots, '--shots'));
  setIn(base, ['protocol', 'seed'], num(opts.seed, '--seed'));
  setIn(base, ['protocol', 'noiseStd'], num(opts.noiseStd, '--noise-std'));
  if (opts.withReplacement) setIn(base, ['protocol', 'withReplacement'], true);
  for (const key of ['ratio', 'shots', 'seed'] as const) {
    const protocol = (base.protocol as Json | undefined) ?? {};
    if (protocol[key] === undefined) setIn(base, ['protocol', key], { ratio: 0.1, shots: 10, seed: 0 }[key]);
  }
  setIn(base, ['geometry', 'size'], num(opts.size, '--size'));
  setIn(base, ['geometry', 'resize'], opts.resize);
  setIn(base, ['backbone', 'name'], opts.backbone);
  setIn(base, ['backbone', 'weights'], opts.weights);
  setIn(base, ['method'], opts.method);
  setIn(base, ['config', 'schedule', 'epochs'], num(opts.epochs, '--epochs'));
  setIn(base, ['config', 'schedule', 'stepsPerEpoch'], num(opts.stepsPerEpoch, '--steps-per-epoch'));
  setIn(base, ['config', 'schedule', 'batchSize'], num(opts.batchSize, '--batch-size'));
  setIn(base, ['config', 'reweighting', 'alpha'], num(opts.alpha, '--alpha'));
  setIn(base, ['config', 'reweighting', 'lambda'], num(opts.lambda, '--lambda'));
  setIn(base, ['config', 'model', 'segmentationHead'], opts.segHead);
  setIn(base, ['anomalySource'], opts.anomalySource);
  if (opts.noFeatureCache === true || (opts as { featureCache?: unknown }).featureCache === false) base.featureCache = null;
  else setIn(base, ['featureCache'], opts.featureCache);
  if (opts.gradientMaps !== undefined) base.gradientMaps = parseGradientMaps(opts.gradientMaps);
  setIn(base, ['mainMap'], opts.mainMap);
  return parseExperiment(base, opts.experiment);
}
