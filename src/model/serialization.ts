import { existsSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import { MultiCueModel } from './multicue-model.ts';
import { ParameterSet } from './parameters.ts';
import { specMismatch, type BackboneIdentity, type ModelSpec } from './spec.ts';

/**
 * A saved model is a folder: model.json (spec with backbone name/weightsId and
 * image size, the parameter table, anything extra such as the config and the
 * training log) and a float32 little-endian parameter file it names. The
 * parameter file gets a fresh name on every save and model.json is replaced
 * atomically last, so a reader (or a crash) never sees a mixed pair.
 */

export const MODEL_FORMAT = 'multicue-model';
export const MODEL_FORMAT_VERSION = 1;
const MODEL_JSON = 'model.json';

interface ParameterRecord {
  name: string;
  shape: number[];
  trainable: boolean;
  /** Offset in float32 values into the parameter file. */
  offset: number;
}

export interface SavedModelJson {
  format: typeof MODEL_FORMAT;
  version: number;
  spec: ModelSpec;
  paramsFile: string;
  parameters: ParameterRecord[];
  /** Caller's records (config, training log, manifest pointer...). */
  extra?: Record<string, unknown>;
}

export async function saveModel(model: MultiCueModel, dir: string, extra?: Record<string, unknown>): Promise<void> {
  const snapshot = model.params.snapshot();
  // A disposed model has no parameters left; saving it would write an unusable model.
  if (snapshot.length === 0) throw new Error(`saveModel(${dir}): the model has no parameters (was it disposed before saving?)`);
  const total = snapshot.reduce((sum, p) => sum + p.values.length, 0);
  const values = new Float32Array(total);
  const parameters: ParameterRecord[] = [];
  let offset = 0;
  for (const p of snapshot) {
    values.set(p.values, offset);
    parameters.push({ name: p.name, shape: p.shape, trainable: p.trainable, offset });
    offset += p.values.length;
  }
  const paramsFile = `params-${Date.now().toString(36)}-${process.pid}.bin`;
  // Node's Float32Array is little-endian on every platform node runs on.
  await writeFileAtomic(join(dir, paramsFile), new Uint8Array(values.buffer));
  const json: SavedModelJson = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    spec: model.spec,
    paramsFile,
    parameters,
    ...(extra ? { extra } : {}),
  };
  await writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(json, null, 1) + '\n');
  for (const name of readdirSync(dir)) {
    if (/^params-.*\.bin$/.test(name) && name !== paramsFile) rmSync(join(dir, name), { force: true });
  }
}

/** Read only model.json (spec and extras), e.g. to pick the backbone before loading. */
export async function readModelInfo(dir: string): Promise<SavedModelJson> {
  const path = join(dir, MODEL_JSON);
  if (!existsSync(path)) {
    throw new InputError('no saved model here (model.json missing)', dir, 'pass the folder that `multicue train` wrote');
  }
  let json: SavedModelJson;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as SavedModelJson;
  } catch (err) {
    throw new InputError(`model.json is not valid JSON (${(err as Error).message})`, path, 'retrain or restore the model folder');
  }
  if (json.format !== MODEL_FORMAT || typeof json.version !== 'number') {
    throw new InputError('not a multicue model file', path, 'pass the folder that `multicue train` wrote');
  }
  if (json.version > MODEL_FORMAT_VERSION) {
    throw new InputError(
      `model format version ${json.version} is newer than this multicue understands (${MODEL_FORMAT_VERSION})`,
      path,
      'upgrade multicue',
    );
  }
  return json;
}

export interface LoadModelExpectation {
  /** The backbone the model will run on: refused unless name, weights and taps match. */
  backbone?: BackboneIdentity;
  /** The input size it will see: refused unless equal. */
  imageSize?: number;
}

export async function loadModel(dir: string, expect: LoadModelExpectation = {}): Promise<MultiCueModel> {
  const json = await readModelInfo(dir);
  if (expect.backbone) {
    const mismatch = specMismatch(json.spec, expect.backbone, expect.imageSize);
    if (mismatch) {
      throw new InputError(
        `cannot use this model: ${mismatch}`,
        dir,
        `run with the backbone and image size it was trained with (backbone ${json.spec.backbone.name}, size ${json.spec.imageSize}), or train a new model`,
      );
    }
  } else if (expect.imageSize !== undefined && expect.imageSize !== json.spec.imageSize) {
    throw new InputError(
      `cannot use this model: it was trained for image size ${json.spec.imageSize} (now ${expect.imageSize})`,
      dir,
      `use --size ${json.spec.imageSize}, or train a new model`,
    );
  }
  const binPath = join(dir, json.paramsFile);
  if (!existsSync(binPath)) {
    throw new InputError(`parameter file ${json.paramsFile} missing`, binPath, 'the model folder is incomplete: retrain or restore it');
  }
  const bytes = await readFile(binPath);
  const total = json.parameters.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.byteLength !== total * 4) {
    throw new InputError(
      `parameter file has ${bytes.byteLength} bytes, model.json describes ${total * 4}`,
      binPath,
      'the model folder is corrupt: retrain or restore it',
    );
  }
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const params = new ParameterSet();
  for (const p of json.parameters) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    params.add(p.name, values.subarray(p.offset, p.offset + size), p.shape, p.trainable);
  }
  return new MultiCueModel(json.spec, params);
}
