import * as tf from '@tensorflow/tfjs';
import type { MultiCueModel, MultiCueOutputs } from '../model/multicue-model.ts';
import { topFractionMeanRows } from '../model/tensor-ops.ts';
import type { ScoringConfig } from '../training/config.ts';

/**
 * The three cues as differentiable tensors [N] (the same definitions as the
 * scoring's plain-number cues), so that ∂s_c/∂x and ∂s_c/∂A can be taken.
 */

export type CueName = 'deviation' | 'uncertainty' | 'segmentation';
export const CUE_NAMES: readonly CueName[] = ['deviation', 'uncertainty', 'segmentation'];

/** p is kept off 0 and 1 so the entropy's gradient log((1−p)/p) stays finite. */
const P_CLAMP = 1e-7;

export function cueTensor(
  cue: CueName,
  model: MultiCueModel,
  out: MultiCueOutputs,
  scoring: Pick<ScoringConfig, 'rho' | 'boxFilter' | 'boxFilterSize'>,
): tf.Tensor1D {
  return tf.tidy(() => {
    switch (cue) {
      case 'deviation':
        return out.phi;
      case 'uncertainty': {
        const p = tf.clipByValue(out.p, P_CLAMP, 1 - P_CLAMP);
        const q = tf.sub(1, p);
        const entropy = tf.neg(tf.add(tf.mul(p, tf.log(p)), tf.mul(q, tf.log(q))));
        return tf.div(entropy, Math.LN2) as tf.Tensor1D;
      }
      case 'segmentation': {
        let map = model.anomalyMap(out.segmentation);
        const [n, h, w] = map.shape;
        if (scoring.boxFilter && scoring.boxFilterSize > 1) {
          const pooled = tf.avgPool(tf.reshape(map, [n, h, w, 1]) as tf.Tensor4D, scoring.boxFilterSize, 1, 'same');
          map = tf.reshape(pooled, [n, h, w]) as tf.Tensor3D;
        }
        return topFractionMeanRows(tf.reshape(map, [n, h * w]) as tf.Tensor2D, scoring.rho);
      }
    }
  });
}
