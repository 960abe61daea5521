import * as tf from '@tensorflow/tfjs';
import { multiScaleFeatures, multiScaleChannels } from '../backbones/multiscale.ts';
import type { Rng } from '../util/rng.ts';
import type { BatchMoments } from './batch-norm.ts';
import { addDeviationHeadParameters, deviationHead } from './deviation-head.ts';
import { ParameterSet } from './parameters.ts';
import { addSegmentationHeadParameters, anomalyMapAt, segmentationHead } from './segmentation-head.ts';
import { upsampleBlocks, type ModelSpec } from './spec.ts';
import { addUncertaintyHeadParameters, uncertaintyHead } from './uncertainty-head.ts';

/** The three backbone taps (strides 8, 16, 32), NHWC. */
export type Taps = readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];

export interface MultiCueOutputs {
  /** |patch score| on the stride-8 grid, [N, h, w]. */
  patchScores: tf.Tensor3D;
  /** Deviation score φ(x) ≥ 0, [N]. */
  phi: tf.Tensor1D;
  /** Classifier logit and p(x) = sigmoid(logit), [N]. */
  logit: tf.Tensor1D;
  p: tf.Tensor1D;
  /** Two-class softmax at the segmentation head's resolution, [N, s, s, 2]. */
  segmentation: tf.Tensor4D;
}

/**
 * The MultiCue network over a frozen encoder's taps (METHOD §2): deviation head
 * on the multi-scale map F, uncertainty head on the stride-32 tap A,
 * segmentation head on F. Tensors in, tensors out; parameters are tf.Variables.
 */
export class MultiCueModel {
  constructor(
    readonly spec: ModelSpec,
    readonly params: ParameterSet,
  ) {}

  /**
   * One forward pass. `training` uses batch statistics in batch norm and pushes
   * them onto `collect` for the running-estimate update.
   */
  forward(taps: Taps, opts: { training?: boolean; collect?: BatchMoments[] } = {}): MultiCueOutputs {
    const training = opts.training ?? false;
    return tf.tidy(() => {
      const features = multiScaleFeatures(taps);
      const { patchScores, phi } = deviationHead(features, this.params, this.spec.kappa, this.spec.deviationHidden);
      const { logit, p } = uncertaintyHead(taps[2], this.params, this.spec.uncertaintyPooling);
      const segmentation = segmentationHead(features, this.params, upsampleBlocks(this.spec), training, opts.collect);
      return { patchScores, phi, logit, p, segmentation };
    });
  }

  /**
   * φ(x) and p(x) without the segmentation head (no batch norm involved, so
   * training and inference agree): what the trainer's per-sample losses need.
   */
  forwardScores(taps: Taps): Pick<MultiCueOutputs, 'phi' | 'logit' | 'p'> {
    return tf.tidy(() => {
      const { phi } = deviationHead(multiScaleFeatures(taps), this.params, this.spec.kappa, this.spec.deviationHidden);
      const { logit, p } = uncertaintyHead(taps[2], this.params, this.spec.uncertaintyPooling);
      return { phi, logit, p };
    });
  }

  /** S(x) at input size, [N, H, W] (bilinear when the head stops short of it). */
  anomalyMap(segmentation: tf.Tensor4D): tf.Tensor3D {
    return anomalyMapAt(segmentation, this.spec.imageSize, this.spec.imageSize);
  }

  trainableVariables(): tf.Variable[] {
    return this.params.trainableVariables();
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** A freshly initialised model (weights drawn from `rng`). */
export function createMultiCueModel(spec: ModelSpec, rng: Rng): MultiCueModel {
  const params = new ParameterSet();
  const channels = multiScaleChannels(spec.backbone.tapChannels);
  addDeviationHeadParameters(params, channels, rng.fork('deviation'), spec.deviationHidden);
  addUncertaintyHeadParameters(params, spec.backbone.tapChannels[2], rng.fork('uncertainty'), spec.uncertaintyPooling);
  addSegmentationHeadParameters(
    params,
    {
      inputChannels: channels,
      width: spec.segmentationChannels,
      upsampleBlocks: upsampleBlocks(spec),
      projection: spec.segmentationProjection ?? 0,
    },
    rng.fork('segmentation'),
  );
  return new MultiCueModel(spec, params);
}
