import * as tf from '@tensorflow/tfjs';

/**
 * A convolution with eval-mode batch norm folded into its weights and bias,
 * padded PyTorch-style (the same `pad` on every side, not TF "same", which pads
 * stride-2 convs bottom/right only). Shared by the backbones built from
 * PyTorch checkpoints.
 */

export interface BatchNormStats {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

export interface FoldedWeights {
  /** Filter in TF layout [kh, kw, in, out]. */
  filter: Float32Array;
  filterShape: [number, number, number, number];
  bias: Float32Array;
}

/**
 * Fold eval-mode BN into a PyTorch conv weight [out, in, kh, kw]:
 * bn(conv(x, W)) = conv(x, W·s) + (β − μ·s) with s = γ / sqrt(σ² + eps).
 * Returns the filter transposed to TF's [kh, kw, in, out]. Computed in float64.
 */
export function foldBatchNorm(
  weight: Float32Array,
  shape: readonly [number, number, number, number],
  bn: BatchNormStats,
  eps = 1e-5,
): FoldedWeights {
  const [outC, inC, kh, kw] = shape;
  const filter = new Float32Array(weight.length);
  const bias = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const scale = bn.gamma[o] / Math.sqrt(bn.variance[o] + eps);
    bias[o] = bn.beta[o] - bn.mean[o] * scale;
    for (let i = 0; i < inC; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          filter[((y * kw + x) * inC + i) * outC + o] = weight[((o * inC + i) * kh + y) * kw + x] * scale;
        }
      }
    }
  }
  return { filter, filterShape: [kh, kw, inC, outC], bias };
}

export interface ApplyOptions {
  /** Apply ReLU after the bias. */
  relu?: boolean;
  /**
   * Use one fused op (fast; default). `false` builds conv2d + add + relu, whose
   * gradient does not compute the (unused) filter gradient: use it under tf.grad.
   */
  fused?: boolean;
}

export class FoldedConv {
  readonly filter: tf.Variable<tf.Rank.R4>;
  readonly bias: tf.Variable<tf.Rank.R1>;

  constructor(
    weights: FoldedWeights,
    readonly stride: number,
    readonly pad: number,
  ) {
    // Variables, so a fine-tuning trainer can update them; the forward pass never changes them.
    // tidy frees the initial tensors (variables survive it).
    this.filter = tf.tidy(() => tf.variable(tf.tensor4d(weights.filter, weights.filterShape), true));
    this.bias = tf.tidy(() => tf.variable(tf.tensor1d(weights.bias), true));
  }

  apply(x: tf.Tensor4D, opts: ApplyOptions = {}): tf.Tensor4D {
    const { relu = false, fused = true } = opts;
    if (fused) {
      return tf.fused.conv2d({
        x,
        filter: this.filter,
        bias: this.bias,
        strides: this.stride,
        pad: this.pad,
        activation: relu ? 'relu' : 'linear',
      });
    }
    return tf.tidy(() => {
      const y = tf.add(tf.conv2d(x, this.filter, this.stride, this.pad), this.bias) as tf.Tensor4D;
      return relu ? tf.relu(y) : y;
    });
  }

  variables(): tf.Variable[] {
    return [this.filter, this.bias];
  }

  dispose(): void {
    this.filter.dispose();
    this.bias.dispose();
  }
}
