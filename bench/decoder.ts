/**
 * One training step of METHOD §2's segmentation decoder for the benchmark:
 * 8×32×32×896 features → 3×3 conv 896→64, BN, ReLU, 3×3 conv 64→64, BN, ReLU,
 * 3× (nearest ×2, 3×3 conv 64→64, BN, ReLU), 3×3 conv →2, softmax; focal loss
 * (γ = 2) against a random mask; gradients; Adam (lr 2e-4, weight decay 1e-5).
 *
 * Uses the product's head (src/model/segmentation-head.ts, its Adam and focal
 * loss) when present, else a small stand-in with the same layers.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/util/rng.ts';

export interface DecoderStep {
  step(): void;
  dispose(): void;
  /** Which implementation ran (recorded in the benchmark table). */
  implementation: string;
}

const IN_CHANNELS = 896;
const WIDTH = 64;
const BLOCKS = 3;

interface ModelModules {
  params: {
    ParameterSet: new () => {
      trainableVariables(): tf.Variable[];
      dispose(): void;
    };
  };
  head: {
    addSegmentationHeadParameters(p: unknown, s: { inputChannels: number; width: number; upsampleBlocks: number }, r: Rng): void;
    segmentationHead(f: tf.Tensor4D, p: unknown, blocks: number, training: boolean, collect?: unknown[]): tf.Tensor4D;
  };
  bn: { updateRunningMoments(p: unknown, moments: unknown[]): void };
  optimizer: {
    AdamWithDecay: new (s: { beta1: number; beta2: number; epsilon: number; weightDecay: number }) => {
      apply(v: tf.Variable[], g: tf.Tensor[], lr: number): void;
      dispose(): void;
    };
  };
  losses: {
    focalSegmentationLoss(p: tf.Tensor4D, t: tf.Tensor4D, valid: tf.Tensor, gamma: number, smoothing: number): tf.Scalar;
  };
}

async function productModules(): Promise<ModelModules | null> {
  try {
    return {
      params: await import('../src/model/parameters.ts'),
      head: (await import('../src/model/segmentation-head.ts')) as unknown as ModelModules['head'],
      bn: (await import('../src/model/batch-norm.ts')) as unknown as ModelModules['bn'],
      optimizer: (await import('../src/model/optimizer.ts')) as unknown as ModelModules['optimizer'],
      losses: (await import('../src/training/losses.ts')) as unknown as ModelModules['losses'],
    };
  } catch {
    return null;
  }
}

function inputs(batch: number, size: number): { features: tf.Tensor4D; target: tf.Tensor4D } {
  const grid = size / 2 ** BLOCKS;
  return tf.tidy(() => ({
    features: tf.randomNormal([batch, grid, grid, IN_CHANNELS], 0, 1, 'float32', 3) as tf.Tensor4D,
    target: tf.cast(tf.greater(tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 4), 0.9), 'float32') as tf.Tensor4D,
  }));
}

export async function decoderStepFactory(batch: number, size: number): Promise<DecoderStep> {
  const modules = await productModules();
  const { features, target } = inputs(batch, size);
  if (modules) {
    const params = new modules.params.ParameterSet();
    modules.head.addSegmentationHeadParameters(
      params,
      { inputChannels: IN_CHANNELS, width: WIDTH, upsampleBlocks: BLOCKS },
      new Rng(0),
    );
    const adam = new modules.optimizer.AdamWithDecay({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-5 });
    const valid = tf.scalar(1);
    return {
      implementation: 'src/model segmentation head',
      step() {
        const vars = params.trainableVariables();
        const moments: unknown[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const probs = modules.head.segmentationHead(features, params, BLOCKS, true, moments);
          return modules.losses.focalSegmentationLoss(probs, target, valid, 2, 1e-5);
        }, vars);
        adam.apply(
          vars,
          vars.map((v) => grads[v.name]),
          2e-4,
        );
        modules.bn.updateRunningMoments(params, moments);
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
      },
      dispose() {
        tf.dispose([features, target, valid]);
        adam.dispose();
        params.dispose();
      },
    };
  }
  return standInDecoder(features, target);
}

/** The same layers with plain variables, tf.train.adam and a focal loss (no running BN statistics). */
function standInDecoder(features: tf.Tensor4D, target: tf.Tensor4D): DecoderStep {
  const rng = new Rng(0);
  const conv = (inC: number, outC: number) => {
    const bound = 1 / Math.sqrt(9 * inC);
    const w = Float32Array.from({ length: 9 * inC * outC }, () => rng.uniform(-bound, bound));
    return { w: tf.variable(tf.tensor4d(w, [3, 3, inC, outC])), b: tf.variable(tf.zeros([outC])) };
  };
  const layers = [conv(IN_CHANNELS, WIDTH), conv(WIDTH, WIDTH), ...Array.from({ length: BLOCKS }, () => conv(WIDTH, WIDTH))];
  const norms = layers.map(() => ({ gamma: tf.variable(tf.ones([WIDTH])), beta: tf.variable(tf.zeros([WIDTH])) }));
  const out = conv(WIDTH, 2);
  const optimizer = tf.train.adam(2e-4);
  const block = (x: tf.Tensor4D, i: number) => {
    const y = tf.add(tf.conv2d(x, layers[i].w as tf.Variable<tf.Rank.R4>, 1, 'same'), layers[i].b) as tf.Tensor4D;
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    return tf.relu(tf.batchNorm(y, mean, variance, norms[i].beta, norms[i].gamma, 1e-5)) as tf.Tensor4D;
  };
  return {
    implementation: 'bench stand-in (src/model not found)',
    step() {
      const loss = optimizer.minimize(() => {
        let x = block(block(features, 0), 1);
        for (let i = 0; i < BLOCKS; i++) {
          const [, h, w] = x.shape;
          x = block(tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]), 2 + i);
        }
        const probs = tf.softmax(tf.add(tf.conv2d(x, out.w as tf.Variable<tf.Rank.R4>, 1, 'same'), out.b));
        const p1 = tf.slice(probs, [0, 0, 0, 1], [-1, -1, -1, 1]);
        const pt = tf.add(tf.mul(target, p1), tf.mul(tf.sub(1, target), tf.sub(1, p1)));
        return tf.mean(tf.mul(tf.neg(tf.square(tf.sub(1, pt))), tf.log(tf.add(pt, 1e-5)))) as tf.Scalar;
      }, true);
      loss?.dataSync();
      loss?.dispose();
    },
    dispose() {
      tf.dispose([features, target]);
      optimizer.dispose();
      for (const l of [...layers, out]) tf.dispose([l.w, l.b]);
      for (const n of norms) tf.dispose([n.gamma, n.beta]);
    },
  };
}
