import { defaultMapSize, patchScoresToMap } from './patchcore/anomaly-map.ts';
import type { BaselinePrediction, ImageTaps, PredictOptions } from './types.ts';

/**
 * Scaffolding PatchCore and PaDiM share: the fitted state (none until fit or
 * load), the tap shapes recorded at fit time, and a prediction assembled from
 * per-patch scores.
 */

/** Each tap's [height, width, channels], as seen at fit time. */
export type TapShapes = [number, number, number][];

export function tapShapesOf(taps: ImageTaps): TapShapes {
  return taps.map((t) => [t.height, t.width, t.channels] as [number, number, number]);
}

/** A baseline's fitted state: null until fit() or load(), required by predict and save. */
export abstract class FittedBaseline<S> {
  protected state: S | null = null;
  readonly #notFitted: string;

  /** `notFitted`: the error message when predict/save run before fit or load. */
  protected constructor(notFitted: string) {
    this.#notFitted = notFitted;
  }

  get fitted(): boolean {
    return this.state !== null;
  }

  protected requireState(): S {
    if (!this.state) throw new Error(this.#notFitted);
    return this.state;
  }
}

/**
 * One image's prediction from its per-patch scores on the stride-8 grid: the map
 * is those scores upsampled to `opts.mapSize` (default: the input size) and
 * smoothed with `sigma`; `imageScore` gets that map.
 */
export function patchScorePrediction(
  patchScores: Float32Array,
  taps: ImageTaps,
  opts: PredictOptions,
  sigma: number,
  imageScore: (map: Float32Array) => number,
): BaselinePrediction {
  const grid = { height: taps[0].height, width: taps[0].width };
  const mapSize = opts.mapSize ?? defaultMapSize(grid);
  const map = patchScoresToMap(patchScores, grid, mapSize, sigma);
  return {
    imageScore: imageScore(map),
    map,
    mapHeight: mapSize.height,
    mapWidth: mapSize.width,
    patchScores,
    gridHeight: grid.height,
    gridWidth: grid.width,
  };
}
