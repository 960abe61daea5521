import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';

/**
 * Reader and writer for the safetensors format (huggingface/safetensors):
 * 8-byte little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`,
 * then the raw little-endian tensor bytes (offsets are relative to the data start).
 * Every tensor is returned as a Float32Array, whatever its stored dtype.
 */

/** Stored dtypes we can convert to float32. Integers exist in checkpoints as `num_batches_tracked`. */
const BYTES_PER_ELEMENT = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
} as const;
export type SafetensorsDtype = keyof typeof BYTES_PER_ELEMENT;
export const SAFETENSORS_DTYPES = Object.keys(BYTES_PER_ELEMENT) as SafetensorsDtype[];

/** Dtypes the writer can produce. */
export type WritableDtype = 'F32' | 'F16' | 'BF16';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface StoredTensor extends NamedTensor {
  /** The dtype in the file (data is always converted to float32). */
  dtype: SafetensorsDtype;
}

export interface SafetensorsFile {
  path: string;
  metadata: Record<string, string>;
  tensors: Map<string, StoredTensor>;
}

export interface ReadOptions {
  /** Convert only the tensors whose name passes (others are still validated). */
  include?: (name: string) => boolean;
}

const FIX_REEXPORT =
  'the file is not a valid safetensors file: re-export it (e.g. safetensors.torch.save_file(model.state_dict(), path)) or download it again';

export async function readSafetensors(path: string, opts: ReadOptions = {}): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new InputError(
      `Cannot read safetensors file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      path,
      'check the path to the weights file',
    );
  }
  return parseSafetensors(bytes, path, opts);
}

/** Parse safetensors bytes; `path` only names the source in errors. */
export function parseSafetensors(bytes: Uint8Array, path: string, opts: ReadOptions = {}): SafetensorsFile {
  const fail = (message: string, fix = FIX_REEXPORT): never => {
    throw new InputError(message, path, fix);
  };
  if (bytes.byteLength < 8) fail(`Safetensors file truncated: ${bytes.byteLength} bytes, not even the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8)) {
    fail(
      `Safetensors header length ${headerLength} is beyond the file size (${bytes.byteLength} bytes): truncated or not a safetensors file`,
    );
  }
  const headerEnd = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (err) {
    fail(`Safetensors header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('Safetensors header is not a JSON object');
  }
  const dataLength = bytes.byteLength - headerEnd;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, StoredTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry && typeof entry === 'object') {
        for (const [k, v] of Object.entries(entry)) metadata[k] = String(v);
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in BYTES_PER_ELEMENT)) {
      fail(
        `Tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)}; supported: ${SAFETENSORS_DTYPES.join(', ')}`,
        'convert the checkpoint to float32 or float16 before saving (e.g. {k: v.float() for k, v in state_dict.items()})',
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`Tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`Tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const kind = dtype as SafetensorsDtype;
    const dims = shape as number[];
    const count = dims.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES_PER_ELEMENT[kind]) {
      fail(
        `Tensor "${name}" data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${kind}[${dims.join(',')}] needs ${count * BYTES_PER_ELEMENT[kind]}`,
      );
    }
    if (end > dataLength) {
      fail(
        `Safetensors file truncated or offsets out of range: tensor "${name}" ends at data byte ${end}, but the file holds only ${dataLength} data bytes`,
      );
    }
    if (opts.include && !opts.include(name)) continue;
    const data = decodeTensor(kind, bytes.subarray(headerEnd + begin, headerEnd + end), count);
    tensors.set(name, { dtype: kind, shape: dims.slice(), data });
  }
  return { path, metadata, tensors };
}

function decodeTensor(dtype: SafetensorsDtype, raw: Uint8Array, count: number): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'F16': {
      const table = float16Table();
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)];
      break;
    }
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat32(view.getUint16(2 * i, true));
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      break;
  }
  return out;
}

// ---- half-precision conversions (pure functions, exported for tests) ----

/** IEEE 754 binary16 bits → number (exact, including subnormals, ±inf and NaN). */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let f16Lookup: Float32Array | null = null;
function float16Table(): Float32Array {
  if (!f16Lookup) {
    f16Lookup = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) f16Lookup[bits] = float16ToFloat32(bits);
  }
  return f16Lookup;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** bfloat16 bits → number: the upper half of a float32. */
export function bfloat16ToFloat32(bits: number): number {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0];
}

/** number → bfloat16 bits, rounding to nearest even (NaN stays a quiet NaN). */
export function float32ToBfloat16(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** number → IEEE binary16 bits, rounding to nearest even; overflow → ±inf, tiny → subnormal or ±0. */
export function float32ToFloat16(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  // Unbiased exponent e: the half exponent field is e + 15.
  const e = exponent - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // Normal half: keep 10 mantissa bits, round the 13 dropped ones to nearest even.
    let half = ((e + 15) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1; // may carry into the exponent (to inf): correct
    return sign | half;
  }
  if (e < -25) return sign; // below half the smallest subnormal: rounds to zero
  // Subnormal half: value = m * 2^-24. With the implicit 1, value = full * 2^(e-23),
  // so m = full * 2^(e+1): shift right by -(e+1) and round the dropped bits.
  const full = mantissa | 0x800000;
  const shift = -e - 1;
  const m = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  let half = m;
  if (rest > halfway || (rest === halfway && half & 1)) half += 1;
  return sign | half;
}

// ---- writer ----

/** Encode tensors as safetensors bytes (names in insertion order, header padded to 8 bytes). */
export function encodeSafetensors(
  tensors: Record<string, NamedTensor> | Map<string, NamedTensor>,
  dtype: WritableDtype = 'F32',
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const width = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`encodeSafetensors: "${name}" has ${t.data.length} values but shape [${t.shape.join(',')}]`);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  let json = JSON.stringify(header);
  // The reference implementation pads the header with spaces so the data starts 8-byte aligned.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let pos = 8 + jsonBytes.length;
  for (const [, t] of entries) {
    for (let i = 0; i < t.data.length; i++, pos += width) {
      if (dtype === 'F32') view.setFloat32(pos, t.data[i], true);
      else if (dtype === 'F16') view.setUint16(pos, float32ToFloat16(t.data[i]), true);
      else view.setUint16(pos, float32ToBfloat16(t.data[i]), true);
    }
  }
  return out;
}

/** Write tensors to a safetensors file atomically. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, NamedTensor> | Map<string, NamedTensor>,
  dtype: WritableDtype = 'F32',
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, dtype, metadata));
}
