import * as tf from '@tensorflow/tfjs';
import { splitBatchTaps } from '../baselines/types.ts';
import type { RgbImage } from '../data/types.ts';
import { localize } from '../localization/localize.ts';
import { scoreRgbImages } from '../scoring/score.ts';
import { imagesToTensor } from '../training/feature-cache.ts';
import type { SavedRun } from './saved-run.ts';

/** One image through a saved run: its score, its cues (multicue/adl) and its localization map. */
export interface Prediction {
  id: string;
  score: number;
  cues: { deviation: number; uncertainty: number; segmentation: number } | null;
  /** The run's main map at input size, row-major. */
  map: Float32Array;
  /** S(x) at input size (multicue/adl), null for the baselines. */
  segmentation: Float32Array | null;
}

export function predictImages(run: SavedRun, images: readonly RgbImage[], ids: readonly string[]): Prediction[] {
  const size = run.experiment.geometry.size;
  if (run.model) {
    const scored = scoreRgbImages(run.model, run.backbone, images, run.experiment.config.scoring, { ids, silent: true });
    const needGradients = run.experiment.mainMap !== 'seg';
    const gradients = needGradients ? localize(run.model, run.backbone, images, run.experiment.config, { silent: true }) : null;
    return scored.scores.map((s, i) => {
      const seg = scored.maps![i];
      const grad = gradients?.[i].map ?? null;
      const map =
        run.experiment.mainMap === 'seg' ? seg : run.experiment.mainMap === 'grad' ? grad! : seg.map((v, j) => v * grad![j]);
      return {
        id: ids[i],
        score: s.fused,
        cues: { deviation: s.deviation, uncertainty: s.uncertainty, segmentation: s.segmentation },
        map,
        segmentation: seg,
      };
    });
  }
  const baseline = run.baseline!;
  const input = imagesToTensor(images, size);
  const taps = run.backbone.forward(input);
  const perImage = splitBatchTaps(taps);
  tf.dispose([input, ...taps]);
  return perImage.map((t, i) => {
    const p = baseline.predict(t, { mapSize: { height: size, width: size } });
    return { id: ids[i], score: p.imageScore, cues: null, map: p.map, segmentation: null };
  });
}
