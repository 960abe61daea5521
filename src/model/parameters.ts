import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';

/**
 * The model's parameters: named tf.Variables in a fixed order. Trainable ones
 * get gradients; the rest (batch-norm running statistics) are updated by the
 * trainer directly. Variables are created without tfjs names, so several
 * models can live side by side; our own names identify them on disk.
 */
export class ParameterSet {
  private readonly entries = new Map<string, { variable: tf.Variable; trainable: boolean }>();

  add(name: string, values: Float32Array, shape: number[], trainable = true): tf.Variable {
    if (this.entries.has(name)) throw new Error(`parameter ${name} defined twice`);
    // The variable shares the initial tensor's data; the initial tensor object itself is dropped.
    const initial = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.entries.set(name, { variable, trainable });
    return variable;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): tf.Variable {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no parameter named ${name}`);
    return entry.variable;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  trainableNames(): string[] {
    return [...this.entries].filter(([, e]) => e.trainable).map(([name]) => name);
  }

  trainableVariables(): tf.Variable[] {
    return this.trainableNames().map((name) => this.get(name));
  }

  /** Snapshot of every parameter as plain arrays (for saving and comparing). */
  snapshot(): Array<{ name: string; shape: number[]; trainable: boolean; values: Float32Array }> {
    return [...this.entries].map(([name, e]) => ({
      name,
      shape: e.variable.shape.slice(),
      trainable: e.trainable,
      values: e.variable.dataSync() as Float32Array,
    }));
  }

  /** Overwrite one parameter's values (shape must match). */
  assign(name: string, values: Float32Array): void {
    const variable = this.get(name);
    if (values.length !== variable.size) {
      throw new Error(`parameter ${name}: ${values.length} values for shape [${variable.shape.join(', ')}]`);
    }
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
  }

  dispose(): void {
    for (const { variable } of this.entries.values()) variable.dispose();
    this.entries.clear();
  }
}

/**
 * PyTorch's default initialisation for conv/linear layers (kaiming_uniform with
 * a=√5 reduces to U(-1/√fan_in, 1/√fan_in) for weights and biases alike), drawn
 * from the caller's Rng so initial weights are seeded.
 */
export function uniformInit(count: number, fanIn: number, rng: Rng): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

export function filled(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}
