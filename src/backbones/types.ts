import type * as tf from '@tensorflow/tfjs';

/**
 * A frozen or trainable image encoder with three taps at strides 8, 16 and 32
 * (ResNet-18: layer2/3/4). Every backbone takes RGB in [0,1], NHWC, and applies
 * its own input normalisation, so the method above it is backbone-agnostic.
 */
export interface Backbone {
  /** Registry name, e.g. "resnet18", "mobilenetv2", "mobilenetv2-0.35", "nsfwjs-mobilenetv2". */
  readonly name: string;
  /** Names of the three taps (framework names, for records). */
  readonly tapNames: readonly [string, string, string];
  /** Channels of the three taps. */
  readonly tapChannels: readonly [number, number, number];
  /** Strides of the three taps relative to the input (normally 8, 16, 32). */
  readonly tapStrides: readonly [number, number, number];
  /**
   * Identifies the exact weights (e.g. a sha256 prefix of the weight file):
   * feature caches and saved models are keyed by it.
   */
  readonly weightsId: string;
  /** Shown loudly in CLI output and recorded in every run (e.g. a weak fallback). */
  readonly warning?: string;
  /**
   * Forward pass, differentiable with respect to `input` (used inside tf.grad
   * for localization). Input: [N, H, W, 3] in [0,1]. Returns the three taps.
   * Callers own the returned tensors. With `forGradient` the backbone uses unfused
   * conv ops: the fused op's gradient always computes the filter gradient, which
   * is wasted work when only the input gradient is wanted.
   */
  forward(input: tf.Tensor4D, opts?: { forGradient?: boolean }): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  /** Trainable variables (for --finetune); empty when the backbone is constant. */
  trainableVariables(): tf.Variable[];
  dispose(): void;
}
