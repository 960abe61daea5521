import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { initBackend } from '../engine/backend.ts';
import { InputError } from '../util/errors.ts';
import { loadNsfwjsBackbone, NSFWJS_BACKBONE_NAME } from './nsfwjs.ts';
import { loadResNet18FromSafetensors } from './resnet18.ts';
import { loadMobileNetV2Tflite } from './tflite.ts';
import { loadMobileNetV2Tfjs } from './tfjs-model.ts';
import type { Backbone } from './types.ts';
import {
  cachedWeightPath,
  isCached,
  weightsCacheDir,
  WEIGHT_SOURCES,
  type DownloadableBackbone,
} from './weights-cache.ts';

/**
 * Backbones by name. `auto` takes the best one whose weights are in the cache
 * (resnet18 > mobilenetv2 > mobilenetv2-0.35), else the built-in nsfwjs
 * fallback, whose `warning` says how to get better weights.
 */

export const BACKBONE_NAMES = ['auto', 'resnet18', 'mobilenetv2', 'mobilenetv2-0.35', NSFWJS_BACKBONE_NAME] as const;
export type BackboneName = (typeof BACKBONE_NAMES)[number];

/** Preference order of `auto`. */
export const AUTO_ORDER: readonly DownloadableBackbone[] = ['resnet18', 'mobilenetv2', 'mobilenetv2-0.35'];

export interface BackboneInfo {
  name: BackboneName;
  description: string;
  /** 'download': `multicue weights fetch NAME`; 'built-in': ships with an npm dependency. */
  weights: 'download' | 'built-in' | 'auto';
  /** Taps at strides 8/16/32. */
  taps: string;
  /** Where the cache keeps its weights (downloadable ones). */
  cachePath?: string;
  url?: string;
  cached?: boolean;
}

const TAPS: Record<Exclude<BackboneName, 'auto'>, string> = {
  resnet18: 'layer2, layer3, layer4 (128/256/512 ch)',
  mobilenetv2: 'expanded_conv_6/expand, expanded_conv_13/expand, Conv_1 (192/576/1280 ch)',
  'mobilenetv2-0.35': 'block_6_expand_relu, block_13_expand_relu, out_relu (96/192/1280 ch)',
  [NSFWJS_BACKBONE_NAME]: 'block_6_expand_relu, block_9_expand_relu, block_10_expand_relu (192/384/384 ch, strides 8/16/16: frozen ImageNet blocks only)',
};

/** Every name with a description, and for downloadable ones whether the cache has them. */
export function listBackbones(cacheDir: string = weightsCacheDir()): BackboneInfo[] {
  const best = AUTO_ORDER.find((n) => isCached(n, cacheDir));
  return [
    {
      name: 'auto',
      description: `the best backbone whose weights are in the cache (resnet18 > mobilenetv2 > mobilenetv2-0.35), else the weak ${NSFWJS_BACKBONE_NAME} fallback; now: ${best ?? NSFWJS_BACKBONE_NAME}`,
      weights: 'auto',
      taps: 'those of the chosen backbone',
    },
    ...AUTO_ORDER.map(
      (name): BackboneInfo => ({
        name,
        description: WEIGHT_SOURCES[name].description,
        weights: 'download',
        taps: TAPS[name],
        cachePath: cachedWeightPath(name, cacheDir),
        url: WEIGHT_SOURCES[name].url,
        cached: isCached(name, cacheDir),
      }),
    ),
    {
      name: NSFWJS_BACKBONE_NAME,
      description:
        'weak offline fallback: the MobileNetV2 1.0 inside the nsfwjs npm package (8-bit weights, blocks after 10 fine-tuned for NSFW classification)',
      weights: 'built-in',
      taps: TAPS[NSFWJS_BACKBONE_NAME],
    },
  ];
}

export interface LoadBackboneOptions {
  /** A weight file (or model.json) to use instead of the cache (`--weights`). */
  weightsPath?: string;
  /** The weights cache folder (default: see weightsCacheDir()). */
  cacheDir?: string;
}

function isBackboneName(name: string): name is BackboneName {
  return (BACKBONE_NAMES as readonly string[]).includes(name);
}

/** The backbone a weight file belongs to, guessed from its name (for `auto` with --weights). */
export function backboneForWeightsFile(path: string): DownloadableBackbone | null {
  const file = basename(path).toLowerCase();
  if (file.endsWith('.safetensors')) return 'resnet18';
  if (file.endsWith('.tflite')) return 'mobilenetv2';
  if (file.endsWith('.json')) return 'mobilenetv2-0.35';
  return null;
}

/** The name `auto` resolves to for this cache. */
export function resolveAutoBackbone(opts: LoadBackboneOptions = {}): Exclude<BackboneName, 'auto'> {
  if (opts.weightsPath) {
    const guessed = backboneForWeightsFile(opts.weightsPath);
    if (!guessed) {
      throw new InputError(
        'cannot tell which backbone this weight file is for',
        opts.weightsPath,
        'name the backbone (--backbone resnet18 | mobilenetv2 | mobilenetv2-0.35) or use a .safetensors / .tflite / model.json file',
      );
    }
    return guessed;
  }
  const cacheDir = opts.cacheDir ?? weightsCacheDir();
  return AUTO_ORDER.find((n) => isCached(n, cacheDir)) ?? NSFWJS_BACKBONE_NAME;
}

/**
 * The weight file for a downloadable backbone: `weightsPath` when given (a
 * folder is taken as holding the file under its usual name), else the cache.
 * Missing weights → an error naming the URL to download and the path to put it at.
 */
export function resolveWeightsPath(name: DownloadableBackbone, opts: LoadBackboneOptions = {}): string {
  const source = WEIGHT_SOURCES[name];
  if (opts.weightsPath) {
    let path = opts.weightsPath;
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, source.mainFile);
    if (!existsSync(path)) {
      throw new InputError(`weights file for "${name}" not found`, path, `check the --weights path (expected ${source.mainFile})`);
    }
    return path;
  }
  const cacheDir = opts.cacheDir ?? weightsCacheDir();
  const path = cachedWeightPath(name, cacheDir);
  if (!isCached(name, cacheDir)) {
    const what =
      source.kind === 'tfjs-layers'
        ? `download ${source.url} and every weight shard it lists (same folder) into ${join(cacheDir, source.subdir)}/`
        : `download ${source.url} and save it as ${path}`;
    throw new InputError(
      `no weights for backbone "${name}" in the cache ${cacheDir}`,
      path,
      `run \`multicue weights fetch ${name}\`; offline: ${what}; or pass --weights FILE ` +
        `(the cache folder is MULTICUE_WEIGHTS, else $MULTICUE_CACHE/weights, else ~/.cache/multicue/weights)`,
    );
  }
  return path;
}

/** Load a backbone by name (see BACKBONE_NAMES). Initialises the tfjs backend. */
export async function loadBackbone(name: string, opts: LoadBackboneOptions = {}): Promise<Backbone> {
  if (!isBackboneName(name)) {
    throw new InputError(`unknown backbone "${name}"`, undefined, `use one of: ${BACKBONE_NAMES.join(', ')}`);
  }
  await initBackend();
  const resolved = name === 'auto' ? resolveAutoBackbone(opts) : name;
  switch (resolved) {
    case 'resnet18':
      return loadResNet18FromSafetensors(resolveWeightsPath('resnet18', opts));
    case 'mobilenetv2':
      return loadMobileNetV2Tflite(resolveWeightsPath('mobilenetv2', opts));
    case 'mobilenetv2-0.35':
      return loadMobileNetV2Tfjs(resolveWeightsPath('mobilenetv2-0.35', opts));
    case NSFWJS_BACKBONE_NAME:
      if (opts.weightsPath) {
        throw new InputError(
          `${NSFWJS_BACKBONE_NAME} is built in and takes no weights file`,
          opts.weightsPath,
          'drop --weights, or name the backbone the file is for',
        );
      }
      return loadNsfwjsBackbone();
  }
}
