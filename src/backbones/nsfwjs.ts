import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { artifactsFromJson, layersModelFromArtifacts, tfjsModelBackbone } from './tfjs-model.ts';
import type { Backbone } from './types.ts';

/**
 * The offline fallback: the Keras MobileNetV2 1.0 that the npm package nsfwjs
 * (MIT) ships inside its JavaScript bundles (model.json and one base64 weight
 * shard, uint8-quantized). It needs no download, but it is a weak encoder for
 * anomaly detection: its blocks after block_10 were fine-tuned to classify
 * NSFW content, and the 8-bit weights lose precision.
 */

export const NSFWJS_BACKBONE_NAME = 'nsfwjs-mobilenetv2';

/**
 * Taps: only frozen ImageNet blocks (block_6 at stride 8, block_9 and block_10 at
 * stride 16; no frozen layer exists at stride 32). Measured once with a scratch
 * script, not kept (magnetic tile, 224² stretched, 80 nominal train images,
 * taps resized to the stride-8 grid and concatenated, randomly projected to 128
 * dims, 1-NN distance to a 6000-patch random memory bank, max over patches;
 * image AUROC; splits drawn with seeds 0 and 1):
 *
 * | taps                                   | split 0 (20+20 test) | split 1 (40+40 test) |
 * |----------------------------------------|----------------------|----------------------|
 * | block_6/13_expand_relu, out_relu       | 0.750                | 0.512                |
 * | same, input [0,1] (nsfwjs's own)       | 0.680                |                      |
 * | block_5/9/10_expand_relu (frozen)      | 0.750                |                      |
 * | block_6/9/10_expand_relu (frozen)      | 0.785                | 0.524                |
 * | block_6/10/13_expand_relu              | 0.730                |                      |
 * | block_6/13_expand_relu, block_16_proj. | 0.710                |                      |
 * | Coral MobileNetV2 1.0 (reference)      | 0.743                | 0.781                |
 * | MobileNetV2 0.35 (reference)           | 0.790                | 0.765                |
 *
 * The frozen taps won both splits by a margin within noise; the fallback is weak
 * either way (split 1: about 0.52 vs 0.78 for the ImageNet MobileNetV2).
 */
export const NSFWJS_TAPS: [string, string, string] = ['block_6_expand_relu', 'block_9_expand_relu', 'block_10_expand_relu'];

/**
 * The frozen ImageNet blocks were trained on [-1,1] (nsfwjs itself feeds [0,1],
 * which measured worse, see above).
 */
export const NSFWJS_INPUT_RANGE: [number, number] = [-1, 1];

export const NSFWJS_WARNING =
  'using the WEAK OFFLINE FALLBACK backbone "nsfwjs-mobilenetv2" (a MobileNetV2 from the nsfwjs npm package: ' +
  '8-bit weights; its deep blocks were fine-tuned for another task, so only blocks up to stride 16 are used). ' +
  'Anomaly scores will be clearly worse ' +
  '(magnetic tile image AUROC about 0.5-0.66 where ImageNet MobileNetV2 weights give 0.78-0.85). Get real weights with: ' +
  'multicue weights fetch mobilenetv2';

const require = createRequire(import.meta.url);

/** The folder of nsfwjs's bundled MobileNetV2 (model.min.js + group1-shard*.min.js). */
export function nsfwjsModelDir(): string {
  let entry: string;
  try {
    entry = require.resolve('nsfwjs');
  } catch {
    throw new Error('the npm package "nsfwjs" is not installed (it holds the offline fallback backbone): run npm ci');
  }
  // .../nsfwjs/dist/cjs/index.js → .../nsfwjs/dist/models/mobilenet_v2
  const dir = join(dirname(entry), '..', 'models', 'mobilenet_v2');
  if (!existsSync(join(dir, 'model.min.js'))) throw new Error(`nsfwjs is installed but has no MobileNetV2 model at ${dir}`);
  return dir;
}

interface NsfwjsModelJson {
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: never[] }>;
}

/**
 * Decode the bundles: each is a CommonJS module exporting the model.json object
 * or one shard as a base64 string (the package's own browser loader does the same).
 */
export function readNsfwjsModel(dir = nsfwjsModelDir()): { json: NsfwjsModelJson; shards: Map<string, Uint8Array> } {
  const json = require(join(dir, 'model.min.js')) as NsfwjsModelJson;
  const shards = new Map<string, Uint8Array>();
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const base64 = require(join(dir, `${p}.min.js`)) as unknown;
      if (typeof base64 !== 'string') throw new Error(`nsfwjs shard ${p} did not export base64 text`);
      shards.set(p, Buffer.from(base64, 'base64'));
    }
  }
  return { json, shards };
}

export interface NsfwjsBackboneOptions {
  taps?: [string, string, string];
  inputRange?: [number, number];
}

/** The fallback Backbone; its `warning` says how to get better weights. */
export async function loadNsfwjsBackbone(opts: NsfwjsBackboneOptions = {}): Promise<Backbone> {
  const dir = nsfwjsModelDir();
  const { json, shards } = readNsfwjsModel(dir);
  const { artifacts, weightsId } = artifactsFromJson(json, shards, join(dir, 'model.min.js'));
  const model = await layersModelFromArtifacts(artifacts);
  return tfjsModelBackbone(
    model,
    weightsId,
    {
      taps: opts.taps ?? NSFWJS_TAPS,
      inputRange: opts.inputRange ?? NSFWJS_INPUT_RANGE,
      name: NSFWJS_BACKBONE_NAME,
      warning: NSFWJS_WARNING,
    },
    dir,
  );
}
