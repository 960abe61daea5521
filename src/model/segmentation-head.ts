import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { addBatchNormParameters, batchNorm, type BatchMoments } from './batch-norm.ts';
import { uniformInit, type ParameterSet } from './parameters.ts';
import { conv3x3Same, pointwise, upsampleNearest2x } from './tensor-ops.ts';

/**
 * Segmentation head (METHOD §2): 3×3 conv C→64, BN, ReLU, 3×3 conv 64→64, BN,
 * ReLU, then upsampling blocks (nearest ×2, 3×3 conv, BN, ReLU), a 3×3 conv →2
 * and a softmax whose channel 1 is the anomaly map S(x). The full head has as
 * many blocks as it takes to reach input size (3 from a stride-8 grid); the lite
 * head keeps fewer and the caller resizes S bilinearly. Convolutions are the
 * unfused op so that gradients work on every backend.
 */

export interface SegmentationHeadShape {
  inputChannels: number;
  width: number;
  upsampleBlocks: number;
  /**
   * Channels of an optional 1×1 projection before the first 3×3 conv (0: none,
   * METHOD's head). With 2048-channel MobileNet features the first 3×3 conv is
   * ~90% of a training step on CPU; projecting to 64 channels first cuts it ~9×.
   */
  projection: number;
}

function conv3x3Names(prefix: string): [string, string] {
  return [`${prefix}.weight`, `${prefix}.bias`];
}

function addConv3x3(params: ParameterSet, prefix: string, inC: number, outC: number, rng: Rng): void {
  const [weight, bias] = conv3x3Names(prefix);
  params.add(weight, uniformInit(9 * inC * outC, 9 * inC, rng), [3, 3, inC, outC]);
  params.add(bias, uniformInit(outC, 9 * inC, rng), [outC]);
}

export function addSegmentationHeadParameters(params: ParameterSet, shape: SegmentationHeadShape, rng: Rng): void {
  const { inputChannels, width, upsampleBlocks, projection } = shape;
  if (projection > 0) {
    params.add('segmentation.proj.weight', uniformInit(inputChannels * projection, inputChannels, rng), [inputChannels, projection]);
    params.add('segmentation.proj.bias', uniformInit(projection, inputChannels, rng), [projection]);
  }
  addConv3x3(params, 'segmentation.conv0', projection > 0 ? projection : inputChannels, width, rng);
  addBatchNormParameters(params, 'segmentation.bn0', width);
  addConv3x3(params, 'segmentation.conv1', width, width, rng);
  addBatchNormParameters(params, 'segmentation.bn1', width);
  for (let b = 0; b < upsampleBlocks; b++) {
    addConv3x3(params, `segmentation.up${b}.conv`, width, width, rng);
    addBatchNormParameters(params, `segmentation.up${b}.bn`, width);
  }
  addConv3x3(params, 'segmentation.out', width, 2, rng);
}

function conv3x3(x: tf.Tensor4D, params: ParameterSet, prefix: string): tf.Tensor4D {
  const [weight, bias] = conv3x3Names(prefix);
  return tf.add(conv3x3Same(x, params.get(weight) as tf.Tensor4D), params.get(bias)) as tf.Tensor4D;
}

function convBnRelu(
  x: tf.Tensor4D,
  params: ParameterSet,
  conv: string,
  bn: string,
  training: boolean,
  collect?: BatchMoments[],
): tf.Tensor4D {
  return tf.relu(batchNorm(conv3x3(x, params, conv), params, bn, training, collect));
}

/**
 * Two-class probabilities at the head's own resolution, [N, h·2^blocks, w·2^blocks, 2].
 * With `training`, batch moments are pushed onto `collect`.
 */
export function segmentationHead(
  features: tf.Tensor4D,
  params: ParameterSet,
  upsampleBlocks: number,
  training: boolean,
  collect?: BatchMoments[],
): tf.Tensor4D {
  return tf.tidy(() => {
    const input = params.has('segmentation.proj.weight')
      ? pointwise(features, params.get('segmentation.proj.weight') as tf.Tensor2D, params.get('segmentation.proj.bias') as tf.Tensor1D)
      : features;
    let x = convBnRelu(input, params, 'segmentation.conv0', 'segmentation.bn0', training, collect);
    x = convBnRelu(x, params, 'segmentation.conv1', 'segmentation.bn1', training, collect);
    for (let b = 0; b < upsampleBlocks; b++) {
      x = convBnRelu(upsampleNearest2x(x), params, `segmentation.up${b}.conv`, `segmentation.up${b}.bn`, training, collect);
    }
    return tf.softmax(conv3x3(x, params, 'segmentation.out')) as tf.Tensor4D;
  });
}

/** S(x) (channel 1) at the given size, bilinearly resized when the head stopped short: [N, H, W]. */
export function anomalyMapAt(probabilities: tf.Tensor4D, height: number, width: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, h, w] = probabilities.shape;
    let s = tf.slice(probabilities, [0, 0, 0, 1], [-1, -1, -1, 1]) as tf.Tensor4D;
    if (h !== height || w !== width) s = tf.image.resizeBilinear(s, [height, width]);
    return tf.reshape(s, [n, height, width]) as tf.Tensor3D;
  });
}
