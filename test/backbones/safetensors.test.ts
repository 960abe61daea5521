import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bfloat16ToFloat32,
  encodeSafetensors,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  parseSafetensors,
  readSafetensors,
  writeSafetensors,
} from '../../src/backbones/safetensors.ts';
import { InputError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'multicue-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Build a file by hand: header object + raw data bytes. */
function rawFile(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function randomTensor(rng: Rng, shape: number[]): { shape: number[]; data: Float32Array } {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, 3);
  return { shape, data };
}

/** Asserts an InputError that names the file and carries a fix. */
function assertInputError(fn: () => unknown, path: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.equal(err.path, path);
    assert.ok(err.message.includes(path), 'message names the file');
    assert.ok(err.fix && err.fix.length > 0, 'message says how to fix it');
    assert.match(err.message, pattern);
    return true;
  });
}

test('F32 round trip through a file keeps names, shapes, values and metadata', async () => {
  const rng = new Rng(1);
  const tensors = {
    'conv1.weight': randomTensor(rng, [4, 3, 3, 3]),
    'bn1.bias': randomTensor(rng, [4]),
    scalar: randomTensor(rng, []),
    empty: { shape: [0, 5], data: new Float32Array(0) },
  };
  const path = join(dir, 'f32.safetensors');
  await writeSafetensors(path, tensors, 'F32', { format: 'pt' });
  const bytes = readFileSync(path);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0, 'data starts 8-byte aligned');
  const file = await readSafetensors(path);
  assert.deepEqual(file.metadata, { format: 'pt' });
  assert.deepEqual([...file.tensors.keys()], Object.keys(tensors));
  for (const [name, t] of Object.entries(tensors)) {
    const got = file.tensors.get(name)!;
    assert.equal(got.dtype, 'F32');
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(got.data, t.data);
  }
});

test('float16 decoding: normals, subnormals, signed zero, infinities, NaN', () => {
  assert.equal(float16ToFloat32(0x3c00), 1);
  assert.equal(float16ToFloat32(0xc000), -2);
  assert.equal(float16ToFloat32(0x3555), 0.333251953125);
  assert.equal(float16ToFloat32(0x7bff), 65504);
  assert.equal(float16ToFloat32(0x0400), 2 ** -14);
  assert.equal(float16ToFloat32(0x0001), 2 ** -24);
  assert.equal(float16ToFloat32(0x03ff), 1023 * 2 ** -24);
  assert.equal(float16ToFloat32(0x8001), -(2 ** -24));
  assert.ok(Object.is(float16ToFloat32(0x8000), -0));
  assert.equal(float16ToFloat32(0x7c00), Infinity);
  assert.equal(float16ToFloat32(0xfc00), -Infinity);
  assert.ok(Number.isNaN(float16ToFloat32(0x7e00)));
  assert.ok(Number.isNaN(float16ToFloat32(0xfc01)));
});

test('float16 encoding round-trips every bit pattern and rounds to nearest even', () => {
  for (let bits = 0; bits < 65536; bits++) {
    const value = float16ToFloat32(bits);
    const back = float32ToFloat16(value);
    if (Number.isNaN(value)) assert.ok(Number.isNaN(float16ToFloat32(back)), `NaN ${bits.toString(16)}`);
    else assert.equal(back, bits, `0x${bits.toString(16)}`);
  }
  assert.equal(float32ToFloat16(1 + 2 ** -11), 0x3c00, 'tie rounds to even (down)');
  assert.equal(float32ToFloat16(1 + 3 * 2 ** -11), 0x3c02, 'tie rounds to even (up)');
  assert.equal(float32ToFloat16(1 + 2 ** -11 + 2 ** -20), 0x3c01, 'above the tie rounds up');
  assert.equal(float32ToFloat16(65519), 0x7bff);
  assert.equal(float32ToFloat16(65520), 0x7c00, 'overflow tie rounds to inf');
  assert.equal(float32ToFloat16(1e6), 0x7c00);
  assert.equal(float32ToFloat16(-1e6), 0xfc00);
  assert.equal(float32ToFloat16(2 ** -25), 0x0000, 'half the smallest subnormal ties to zero');
  assert.equal(float32ToFloat16(2 ** -25 * 1.001), 0x0001);
  assert.equal(float32ToFloat16(3 * 2 ** -25), 0x0002, 'subnormal tie rounds to even');
  assert.equal(float32ToFloat16(1e-10), 0x0000);
  assert.equal(float32ToFloat16(-1e-10), 0x8000);
  assert.equal(float32ToFloat16(2 ** -14 - 2 ** -26), 0x0400, 'largest subnormal rounds up into the normals');
});

test('bfloat16 decoding and encoding: every bit pattern, ties to even, inf and NaN', () => {
  assert.equal(bfloat16ToFloat32(0x3f80), 1);
  assert.equal(bfloat16ToFloat32(0xc040), -3);
  assert.equal(bfloat16ToFloat32(0x0001), 2 ** -133, 'subnormal');
  assert.equal(bfloat16ToFloat32(0x7f80), Infinity);
  assert.equal(bfloat16ToFloat32(0xff80), -Infinity);
  assert.ok(Number.isNaN(bfloat16ToFloat32(0x7fc0)));
  for (let bits = 0; bits < 65536; bits++) {
    const value = bfloat16ToFloat32(bits);
    const back = float32ToBfloat16(value);
    if (Number.isNaN(value)) assert.ok(Number.isNaN(bfloat16ToFloat32(back)));
    else assert.equal(back, bits, `0x${bits.toString(16)}`);
  }
  assert.equal(float32ToBfloat16(1 + 2 ** -8), 0x3f80, 'tie rounds to even (down)');
  assert.equal(float32ToBfloat16(1 + 3 * 2 ** -8), 0x3f82, 'tie rounds to even (up)');
  assert.equal(float32ToBfloat16(3.4e38), 0x7f80, 'rounds up to inf');
});

test('F16 and BF16 files decode to the rounded values, specials included', async () => {
  const values = new Float32Array([0, -0, 1, -2.5, 0.1, 1 / 3, 65504, 70000, 6e-8, 2 ** -24, 1e-9, 3e-39, Infinity, -Infinity, NaN]);
  for (const dtype of ['F16', 'BF16'] as const) {
    const path = join(dir, `${dtype}.safetensors`);
    await writeSafetensors(path, { v: { shape: [3, 5], data: values } }, dtype);
    const got = (await readSafetensors(path)).tensors.get('v')!;
    assert.equal(got.dtype, dtype);
    assert.deepEqual(got.shape, [3, 5]);
    const encode = dtype === 'F16' ? float32ToFloat16 : float32ToBfloat16;
    const decode = dtype === 'F16' ? float16ToFloat32 : bfloat16ToFloat32;
    values.forEach((v, i) => {
      const want = Math.fround(decode(encode(v)));
      if (Number.isNaN(v)) assert.ok(Number.isNaN(got.data[i]));
      else assert.ok(Object.is(got.data[i], want), `${dtype} ${v}: ${got.data[i]} vs ${want}`);
    });
    // Spot values that must come out exactly.
    assert.equal(got.data[2], 1);
    assert.equal(got.data[3], -2.5);
    assert.equal(got.data[12], Infinity);
    assert.equal(got.data[13], -Infinity);
    assert.ok(Object.is(got.data[1], -0));
  }
  const f16 = (await readSafetensors(join(dir, 'F16.safetensors'))).tensors.get('v')!.data;
  assert.equal(f16[6], 65504);
  assert.equal(f16[7], Infinity, '70000 overflows float16');
  assert.equal(f16[9], 2 ** -24, 'smallest subnormal kept');
  assert.equal(f16[10], 0, '1e-9 underflows float16');
  assert.equal(f16[11], 0);
  const bf16 = (await readSafetensors(join(dir, 'BF16.safetensors'))).tensors.get('v')!.data;
  assert.ok(bf16[11] > 0 && bf16[11] < 2 ** -126, 'float32 subnormal survives as a bfloat16 subnormal');
});

test('F64, I64 and I32 entries (e.g. num_batches_tracked) are read as numbers; include filters', () => {
  const data = new Uint8Array(8 + 8 + 4);
  const view = new DataView(data.buffer);
  view.setFloat64(0, 0.1, true);
  view.setBigInt64(8, 12345n, true);
  view.setInt32(16, -7, true);
  const bytes = rawFile(
    {
      'bn.running_var': { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
      'bn.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [8, 16] },
      idx: { dtype: 'I32', shape: [1], data_offsets: [16, 20] },
    },
    data,
  );
  const file = parseSafetensors(bytes, 'mem.safetensors');
  assert.equal(file.tensors.get('bn.running_var')!.data[0], Math.fround(0.1));
  assert.equal(file.tensors.get('bn.num_batches_tracked')!.data[0], 12345);
  assert.equal(file.tensors.get('idx')!.data[0], -7);
  const only = parseSafetensors(bytes, 'mem.safetensors', { include: (n) => n.startsWith('bn.') });
  assert.deepEqual([...only.tensors.keys()], ['bn.running_var', 'bn.num_batches_tracked']);
});

test('bad files raise InputError naming the file and the fix', async () => {
  const good = encodeSafetensors({ a: { shape: [2, 3], data: new Float32Array(6).fill(1) }, b: { shape: [4], data: new Float32Array(4) } });
  const path = join(dir, 'bad.safetensors');

  assertInputError(() => parseSafetensors(good.subarray(0, 5), path), path, /truncated/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assertInputError(() => parseSafetensors(huge, path), path, /header length .* beyond the file size/);
  assertInputError(() => parseSafetensors(rawFile(null, new Uint8Array(0), '{"a": {"dtype": "F32",'), path), path, /not valid JSON/);
  assertInputError(() => parseSafetensors(rawFile(null, new Uint8Array(0), '[1, 2]'), path), path, /not a JSON object/);
  assertInputError(() => parseSafetensors(good.subarray(0, good.length - 3), path), path, /truncated/);
  assertInputError(
    () => parseSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [16, 24] } }, new Uint8Array(8)), path),
    path,
    /out of range/,
  );
  assertInputError(
    () => parseSafetensors(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), path),
    path,
    /needs 12/,
  );
  assertInputError(
    () => parseSafetensors(rawFile({ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, new Uint8Array(8)), path),
    path,
    /unsupported dtype "F8_E4M3"/,
  );
  assertInputError(
    () => parseSafetensors(rawFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8)), path),
    path,
    /invalid shape/,
  );

  // Through the file reader: the same errors, and a missing file.
  writeFileSync(path, good.subarray(0, good.length - 1));
  await assert.rejects(readSafetensors(path), (err: unknown) => err instanceof InputError && err.message.includes(path));
  const missing = join(dir, 'nope.safetensors');
  await assert.rejects(readSafetensors(missing), (err: unknown) => err instanceof InputError && err.message.includes(missing));
});
