import * as tf from '@tensorflow/tfjs';

/**
 * Adam with L2 weight decay added to the gradient (PyTorch's Adam(weight_decay)),
 * a learning rate the caller sets per step (step decay), and global gradient-norm
 * clipping. Own implementation because tfjs's AdamOptimizer has neither weight
 * decay nor a settable learning rate. State lives in variables created on the
 * first step, so the tensor count stays flat afterwards.
 */

export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export class AdamWithDecay {
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  private step = 0;

  constructor(private readonly settings: AdamSettings) {}

  get iterations(): number {
    return this.step;
  }

  /** Apply one update. `grads` must align with `variables`; they are not disposed. */
  apply(variables: tf.Variable[], grads: tf.Tensor[], learningRate: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.settings;
    this.step += 1;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    variables.forEach((variable, i) => {
      let state = this.moments.get(variable);
      if (!state) {
        state = { m: zeroVariable(variable), v: zeroVariable(variable) };
        this.moments.set(variable, state);
      }
      const { m, v } = state;
      tf.tidy(() => {
        const g = weightDecay > 0 ? tf.add(grads[i], tf.mul(variable, weightDecay)) : grads[i];
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon));
        variable.assign(tf.sub(variable, tf.mul(update, learningRate)));
      });
    });
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
  }
}

function zeroVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}

/** Global L2 norm of a list of gradients (a plain number). */
export function globalNorm(grads: tf.Tensor[]): number {
  return tf.tidy(() => {
    const squares = grads.map((g) => tf.sum(tf.square(g)));
    return Math.sqrt(tf.addN(squares).dataSync()[0]);
  });
}

/**
 * Scale gradients so their global norm is at most maxNorm (PyTorch's
 * clip_grad_norm_: factor maxNorm / (norm + 1e-6), capped at 1). Returns new
 * tensors when scaling, the inputs otherwise.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], norm: number, maxNorm: number): tf.Tensor[] {
  const factor = maxNorm / (norm + 1e-6);
  if (factor >= 1) return grads;
  return grads.map((g) => tf.mul(g, factor));
}
