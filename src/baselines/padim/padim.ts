import { InputError } from '../../util/errors.ts';
import { Rng } from '../../util/rng.ts';
import { mahalanobisSquared } from '../mahalanobis.ts';
import { FittedBaseline, patchScorePrediction, tapShapesOf, type TapShapes } from '../baseline-state.ts';
import {
  checkTapShapes,
  loadBaselineState,
  saveBaselineState,
  toImageTaps,
  type BaselinePrediction,
  type FitReport,
  type PredictOptions,
  type TapsInput,
  type UnsupervisedBaseline,
} from '../types.ts';
import { parsePadimConfig, type PadimConfig, type PadimOptions } from './config.ts';
import { padimEmbedding, selectChannels } from './embedding.ts';
import { PatchGaussianAccumulator } from './gaussian-fit.ts';

/**
 * PaDiM (Defard et al., "PaDiM: a Patch Distribution Modeling Framework for
 * Anomaly Detection and Localization", ICPR 2021) over frozen backbone taps.
 *
 * fit: one Gaussian per stride-8 grid cell over d randomly chosen channels of
 * the concatenated stride-8/16/32 features (mean, covariance + ε·I, Cholesky).
 * predict: each patch's score is its Mahalanobis distance to its cell's
 * Gaussian; the map is those scores upsampled to input size and
 * Gaussian-smoothed; the image score is the map's maximum (as anomalib does).
 * Memory: patches·d² floats (32×32 cells at d = 100: 40 MB).
 */

interface State {
  channels: Int32Array;
  mean: Float32Array;
  choleskyFactors: Float32Array;
  tapShapes: TapShapes;
  report: FitReport;
}

export class Padim extends FittedBaseline<State> implements UnsupervisedBaseline {
  readonly method = 'padim' as const;
  readonly config: PadimConfig;

  constructor(options: PadimOptions = {}) {
    super('PaDiM: call fit() (or Padim.load()) before predict/save');
    this.config = parsePadimConfig(options);
  }

  /** The selected channel indices into the concatenated stride-8/16/32 features. */
  get channels(): Int32Array {
    return this.requireState().channels;
  }

  async fit(train: Iterable<TapsInput> | AsyncIterable<TapsInput>): Promise<FitReport> {
    let accumulator: PatchGaussianAccumulator | null = null;
    let channels: Int32Array | null = null;
    let tapShapes: TapShapes | null = null;
    for await (const input of train) {
      const taps = toImageTaps(input);
      if (!tapShapes || !channels || !accumulator) {
        tapShapes = tapShapesOf(taps);
        const total = taps[0].channels + taps[1].channels + taps[2].channels;
        channels = selectChannels(total, this.config.featureDim, new Rng(this.config.seed).fork('channels'));
        accumulator = new PatchGaussianAccumulator(taps[0].height * taps[0].width, channels.length);
      } else {
        checkTapShapes(taps, tapShapes);
      }
      accumulator.add(padimEmbedding(taps, channels));
    }
    if (!accumulator || !channels || !tapShapes) throw new Error('PaDiM.fit: no training images');
    const { mean, choleskyFactors } = accumulator.finish(this.config.epsilon);
    const report: FitReport = {
      method: 'padim',
      trainImages: accumulator.images,
      details: { patches: accumulator.patches, featureDim: channels.length, totalChannels: sumChannels(tapShapes) },
    };
    this.state = { channels, mean, choleskyFactors, tapShapes, report };
    return report;
  }

  predict(input: TapsInput, opts: PredictOptions = {}): BaselinePrediction {
    const { channels, mean, choleskyFactors, tapShapes } = this.requireState();
    const taps = toImageTaps(input);
    checkTapShapes(taps, tapShapes);
    const embedding = padimEmbedding(taps, channels);
    const d = channels.length;
    const patchScores = new Float32Array(embedding.rows);
    for (let p = 0; p < embedding.rows; p++) {
      const x = embedding.data.subarray(p * d, (p + 1) * d);
      patchScores[p] = Math.sqrt(mahalanobisSquared(choleskyFactors, x, mean, d, p * d * d, p * d));
    }
    return patchScorePrediction(patchScores, taps, opts, this.config.sigma, (map) => {
      let imageScore = -Infinity;
      for (let i = 0; i < map.length; i++) if (map[i] > imageScore) imageScore = map[i];
      return imageScore;
    });
  }

  async save(dir: string): Promise<void> {
    const { channels, mean, choleskyFactors, tapShapes, report } = this.requireState();
    await saveBaselineState(dir, {
      method: 'padim',
      meta: { config: this.config, tapShapes, channels: Array.from(channels), report },
      arrays: { mean, choleskyFactors },
    });
  }

  static async load(dir: string): Promise<Padim> {
    const saved = await loadBaselineState(dir, 'padim');
    const meta = saved.meta as { config: PadimOptions; tapShapes: TapShapes; channels: number[]; report: FitReport };
    const model = new Padim(meta.config);
    const channels = Int32Array.from(meta.channels);
    const patches = meta.tapShapes[0][0] * meta.tapShapes[0][1];
    const d = channels.length;
    const { mean, choleskyFactors } = saved.arrays;
    if (mean.length !== patches * d || choleskyFactors.length !== patches * d * d) {
      throw new InputError('saved PaDiM arrays do not match its manifest shapes', dir, 'fit and save the baseline again');
    }
    model.state = { channels, mean, choleskyFactors, tapShapes: meta.tapShapes, report: meta.report };
    return model;
  }

  /** Nothing to free (no tensors are held); present so every baseline can be disposed alike. */
  dispose(): void {
    this.state = null;
  }
}

function sumChannels(shapes: TapShapes): number {
  return shapes.reduce((n, s) => n + s[2], 0);
}
