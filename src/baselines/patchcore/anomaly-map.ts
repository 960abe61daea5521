import * as tf from '@tensorflow/tfjs';
import { gaussianBlur } from '../../localization/gaussian-blur.ts';

/**
 * Map post-processing shared by PatchCore and PaDiM (as in anomalib): patch
 * scores on the stride-8 grid are upsampled bilinearly to the map size
 * (PyTorch's align_corners=False convention) and then Gaussian-smoothed
 * (σ = 4 px by default).
 */
export function patchScoresToMap(
  patchScores: Float32Array,
  grid: { height: number; width: number },
  mapSize: { height: number; width: number },
  sigma: number,
): Float32Array {
  if (patchScores.length !== grid.height * grid.width) {
    throw new Error(`patchScoresToMap: ${patchScores.length} scores for a ${grid.height}x${grid.width} grid`);
  }
  let map: Float32Array;
  if (mapSize.height === grid.height && mapSize.width === grid.width) {
    map = Float32Array.from(patchScores);
  } else {
    const resized = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(patchScores, [1, grid.height, grid.width, 1]), [mapSize.height, mapSize.width], false, true),
    );
    map = resized.dataSync() as Float32Array;
    resized.dispose();
  }
  return sigma > 0 ? gaussianBlur(map, mapSize.width, mapSize.height, sigma) : map;
}

/** The input size a stride-8 grid came from (what maps default to). */
export function defaultMapSize(grid: { height: number; width: number }, stride = 8): { height: number; width: number } {
  return { height: grid.height * stride, width: grid.width * stride };
}
