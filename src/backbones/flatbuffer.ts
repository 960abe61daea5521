/**
 * A reader for TensorFlow Lite model files (FlatBuffers, schema "TFL3"), written
 * here because tfjs-tflite needs a browser WASM runtime of its own. It decodes
 * the parts of the schema a float executor needs: tensors (shape, type, buffer,
 * name, quantization), operators with their builtin options, operator codes and
 * buffers. Field numbers follow tensorflow/lite/schema/schema.fbs.
 */

// ---------------------------------------------------------------------------
// FlatBuffers wire format (little endian): the root uoffset at byte 0 points at a
// table; a table starts with an soffset back to its vtable; the vtable lists each
// field's byte offset inside the table (0 = absent, use the default). Offsets to
// tables, vectors and strings are uint32 relative to where they are stored.
// ---------------------------------------------------------------------------

class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    readonly view: DataView,
    readonly pos: number,
  ) {
    this.vtable = pos - view.getInt32(pos, true);
    this.vtableSize = view.getUint16(this.vtable, true);
  }

  /** Absolute position of field `index`, or 0 when the field is absent. */
  private field(index: number): number {
    const entry = 4 + 2 * index;
    if (entry >= this.vtableSize) return 0;
    const rel = this.view.getUint16(this.vtable + entry, true);
    return rel === 0 ? 0 : this.pos + rel;
  }

  private deref(at: number): number {
    return at + this.view.getUint32(at, true);
  }

  int8(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getInt8(at) : fallback;
  }
  uint8(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getUint8(at) : fallback;
  }
  int32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getInt32(at, true) : fallback;
  }
  uint32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getUint32(at, true) : fallback;
  }
  float32(index: number, fallback = 0): number {
    const at = this.field(index);
    return at ? this.view.getFloat32(at, true) : fallback;
  }
  bool(index: number, fallback = false): boolean {
    const at = this.field(index);
    return at ? this.view.getUint8(at) !== 0 : fallback;
  }

  string(index: number): string | null {
    const at = this.field(index);
    if (!at) return null;
    const start = this.deref(at);
    const length = this.view.getUint32(start, true);
    return new TextDecoder().decode(new Uint8Array(this.view.buffer, this.view.byteOffset + start + 4, length));
  }

  table(index: number): Table | null {
    const at = this.field(index);
    return at ? new Table(this.view, this.deref(at)) : null;
  }

  /** Start and length of a vector field (null when absent). */
  private vector(index: number): { start: number; length: number } | null {
    const at = this.field(index);
    if (!at) return null;
    const pos = this.deref(at);
    return { start: pos + 4, length: this.view.getUint32(pos, true) };
  }

  tables(index: number): Table[] {
    const v = this.vector(index);
    if (!v) return [];
    const out: Table[] = [];
    for (let i = 0; i < v.length; i++) out.push(new Table(this.view, this.deref(v.start + 4 * i)));
    return out;
  }

  int32s(index: number): number[] {
    const v = this.vector(index);
    if (!v) return [];
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(this.view.getInt32(v.start + 4 * i, true));
    return out;
  }

  float32s(index: number): number[] {
    const v = this.vector(index);
    if (!v) return [];
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(this.view.getFloat32(v.start + 4 * i, true));
    return out;
  }

  /** int64 vector as numbers (zero points are small, so no precision is lost). */
  int64s(index: number): number[] {
    const v = this.vector(index);
    if (!v) return [];
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(Number(this.view.getBigInt64(v.start + 8 * i, true)));
    return out;
  }

  /** A ubyte vector as a view into the file (no copy). */
  bytes(index: number): Uint8Array {
    const v = this.vector(index);
    if (!v) return new Uint8Array(0);
    return new Uint8Array(this.view.buffer, this.view.byteOffset + v.start, v.length);
  }

  uint64(index: number): number {
    const at = this.field(index);
    return at ? Number(this.view.getBigUint64(at, true)) : 0;
  }
}

// ---------------------------------------------------------------------------
// TFLite schema subset.
// ---------------------------------------------------------------------------

/** TensorType enum values (schema.fbs). */
export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
} as const;

/** The BuiltinOperator codes this reader knows by name (others keep their number). */
export const BuiltinOp: Record<number, string> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  25: 'SOFTMAX',
  34: 'PAD',
  40: 'MEAN',
  43: 'SQUEEZE',
  114: 'QUANTIZE',
};

export type Padding = 'same' | 'valid';
/** ActivationFunctionType: NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT. */
export type FusedActivation = 'none' | 'relu' | 'relu_n1_to_1' | 'relu6' | 'tanh' | 'sign_bit';
const ACTIVATIONS: FusedActivation[] = ['none', 'relu', 'relu_n1_to_1', 'relu6', 'tanh', 'sign_bit'];

export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** Axis of per-channel quantization (meaningful when scale has more than one entry). */
  quantizedDimension: number;
  min: number[];
  max: number[];
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: number;
  /** Index into model.buffers; buffer 0 is the empty sentinel. */
  buffer: number;
  quantization: Quantization | null;
}

/** Builtin options decoded per operator kind (only the fields the executor uses). */
export type OperatorOptions =
  | { kind: 'conv2d'; padding: Padding; strideW: number; strideH: number; activation: FusedActivation; dilationW: number; dilationH: number }
  | {
      kind: 'depthwise';
      padding: Padding;
      strideW: number;
      strideH: number;
      depthMultiplier: number;
      activation: FusedActivation;
      dilationW: number;
      dilationH: number;
    }
  | { kind: 'pool2d'; padding: Padding; strideW: number; strideH: number; filterW: number; filterH: number; activation: FusedActivation }
  | { kind: 'activation'; activation: FusedActivation }
  | { kind: 'reshape'; newShape: number[] }
  | { kind: 'softmax'; beta: number }
  | { kind: 'reducer'; keepDims: boolean }
  | { kind: 'concat'; axis: number; activation: FusedActivation }
  | { kind: 'fullyConnected'; activation: FusedActivation; keepNumDims: boolean }
  | { kind: 'none' };

export interface TfliteOperator {
  /** Builtin operator name (e.g. "CONV_2D"), or "BUILTIN_<code>" / "CUSTOM:<name>". */
  op: string;
  inputs: number[];
  outputs: number[];
  options: OperatorOptions;
}

export interface TfliteSubgraph {
  name: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

export interface TfliteModel {
  version: number;
  description: string;
  subgraphs: TfliteSubgraph[];
  /** Raw bytes of each buffer (views into the file; index 0 is empty). */
  buffers: Uint8Array[];
}

function paddingOf(code: number): Padding {
  return code === 1 ? 'valid' : 'same';
}

function activationOf(code: number): FusedActivation {
  return ACTIVATIONS[code] ?? 'none';
}

/** The operator's name from its OperatorCode (builtin_code wins over the deprecated int8 field). */
function operatorName(code: Table): string {
  const deprecated = code.int8(0, 0);
  const builtin = code.int32(3, 0);
  // Files from before builtin_code existed only set the deprecated field (which caps at 127).
  const value = Math.max(deprecated, builtin);
  if (value === 32) {
    // BuiltinOperator.CUSTOM
    return `CUSTOM:${code.string(1) ?? '?'}`;
  }
  return BuiltinOp[value] ?? `BUILTIN_${value}`;
}

function decodeOptions(op: string, options: Table | null): OperatorOptions {
  const t = options;
  switch (op) {
    case 'CONV_2D':
      return {
        kind: 'conv2d',
        padding: paddingOf(t?.int8(0) ?? 0),
        strideW: t?.int32(1, 1) ?? 1,
        strideH: t?.int32(2, 1) ?? 1,
        activation: activationOf(t?.int8(3) ?? 0),
        dilationW: t?.int32(4, 1) ?? 1,
        dilationH: t?.int32(5, 1) ?? 1,
      };
    case 'DEPTHWISE_CONV_2D':
      return {
        kind: 'depthwise',
        padding: paddingOf(t?.int8(0) ?? 0),
        strideW: t?.int32(1, 1) ?? 1,
        strideH: t?.int32(2, 1) ?? 1,
        depthMultiplier: t?.int32(3, 1) ?? 1,
        activation: activationOf(t?.int8(4) ?? 0),
        dilationW: t?.int32(5, 1) ?? 1,
        dilationH: t?.int32(6, 1) ?? 1,
      };
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D':
      return {
        kind: 'pool2d',
        padding: paddingOf(t?.int8(0) ?? 0),
        strideW: t?.int32(1, 1) ?? 1,
        strideH: t?.int32(2, 1) ?? 1,
        filterW: t?.int32(3, 1) ?? 1,
        filterH: t?.int32(4, 1) ?? 1,
        activation: activationOf(t?.int8(5) ?? 0),
      };
    case 'ADD':
    case 'MUL':
      return { kind: 'activation', activation: activationOf(t?.int8(0) ?? 0) };
    case 'RESHAPE':
      return { kind: 'reshape', newShape: t?.int32s(0) ?? [] };
    case 'SOFTMAX':
      return { kind: 'softmax', beta: t?.float32(0, 1) ?? 1 };
    case 'MEAN':
      return { kind: 'reducer', keepDims: t?.bool(0) ?? false };
    case 'CONCATENATION':
      return { kind: 'concat', axis: t?.int32(0) ?? 0, activation: activationOf(t?.int8(1) ?? 0) };
    case 'FULLY_CONNECTED':
      return { kind: 'fullyConnected', activation: activationOf(t?.int8(0) ?? 0), keepNumDims: t?.bool(2) ?? false };
    default:
      return { kind: 'none' };
  }
}

function decodeQuantization(q: Table | null): Quantization | null {
  if (!q) return null;
  const scale = q.float32s(2);
  if (scale.length === 0) return null;
  const zeroPoint = q.int64s(3);
  return {
    scale,
    zeroPoint: zeroPoint.length ? zeroPoint : scale.map(() => 0),
    // Field 6 comes after the details union (type at 4, value at 5).
    quantizedDimension: q.int32(6, 0),
    min: q.float32s(0),
    max: q.float32s(1),
  };
}

/** Parse a .tflite file's bytes. Throws when the bytes are not a TFLite model. */
export function parseTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.byteLength < 8) throw new Error('not a TFLite model: file too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const identifier = new TextDecoder().decode(bytes.subarray(4, 8));
  if (identifier !== 'TFL3') throw new Error(`not a TFLite model: file identifier "${identifier}", expected "TFL3"`);
  const model = new Table(view, view.getUint32(0, true));

  const opNames = model.tables(1).map(operatorName);
  const buffers = model.tables(4).map((b) => {
    const data = b.bytes(0);
    if (data.length > 0) return data;
    // Models over 2 GB keep buffer data after the flatbuffer, addressed by offset/size.
    const offset = b.uint64(1);
    const size = b.uint64(2);
    return offset > 1 && size > 0 ? bytes.subarray(offset, offset + size) : data;
  });

  const subgraphs = model.tables(2).map((sg): TfliteSubgraph => {
    const tensors = sg.tables(0).map(
      (t, index): TfliteTensor => ({
        index,
        name: t.string(3) ?? `tensor_${index}`,
        shape: t.int32s(0),
        type: t.int8(1, 0),
        buffer: t.uint32(2, 0),
        quantization: decodeQuantization(t.table(4)),
      }),
    );
    const operators = sg.tables(3).map((o): TfliteOperator => {
      const opcodeIndex = o.uint32(0, 0);
      const op = opNames[opcodeIndex];
      if (op === undefined) throw new Error(`TFLite operator refers to missing operator code ${opcodeIndex}`);
      return { op, inputs: o.int32s(1), outputs: o.int32s(2), options: decodeOptions(op, o.table(4)) };
    });
    return { name: sg.string(4) ?? '', tensors, inputs: sg.int32s(1), outputs: sg.int32s(2), operators };
  });

  return { version: model.uint32(0, 0), description: model.string(3) ?? '', subgraphs, buffers };
}

/**
 * A tensor's constant data dequantized to float32: real = scale * (q - zero_point),
 * per tensor or per channel along `quantizedDimension`. Float tensors are copied.
 */
export function dequantizeTensor(model: TfliteModel, tensor: TfliteTensor): Float32Array {
  const raw = model.buffers[tensor.buffer];
  if (!raw || raw.length === 0) throw new Error(`TFLite tensor "${tensor.name}" has no constant data`);
  // Copy to an aligned buffer: views into the file may start at odd offsets.
  const aligned = raw.slice();
  const buf = aligned.buffer;
  let values: ArrayLike<number>;
  switch (tensor.type) {
    case TensorType.FLOAT32:
      return new Float32Array(buf, 0, aligned.length / 4);
    case TensorType.UINT8:
      values = aligned;
      break;
    case TensorType.INT8:
      values = new Int8Array(buf, 0, aligned.length);
      break;
    case TensorType.INT16:
      values = new Int16Array(buf, 0, aligned.length / 2);
      break;
    case TensorType.INT32:
      values = new Int32Array(buf, 0, aligned.length / 4);
      break;
    case TensorType.INT64: {
      const big = new BigInt64Array(buf, 0, aligned.length / 8);
      values = Array.from(big, (v) => Number(v));
      break;
    }
    default:
      throw new Error(`TFLite tensor "${tensor.name}": unsupported constant type ${tensor.type}`);
  }
  const out = new Float32Array(values.length);
  const q = tensor.quantization;
  if (!q) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  if (q.scale.length === 1) {
    const s = q.scale[0];
    const z = q.zeroPoint[0] ?? 0;
    for (let i = 0; i < values.length; i++) out[i] = s * (values[i] - z);
    return out;
  }
  // Per-channel: index along quantizedDimension = floor(i / inner) % channels.
  const axis = q.quantizedDimension;
  const channels = tensor.shape[axis];
  if (channels !== q.scale.length) {
    throw new Error(`TFLite tensor "${tensor.name}": ${q.scale.length} scales for ${channels} channels on axis ${axis}`);
  }
  let inner = 1;
  for (let d = axis + 1; d < tensor.shape.length; d++) inner *= tensor.shape[d];
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = q.scale[c] * (values[i] - (q.zeroPoint[c] ?? 0));
  }
  return out;
}
