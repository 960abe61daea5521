import { InputError } from '../../util/errors.ts';
import { Rng } from '../../util/rng.ts';
import { progress } from '../../util/progress.ts';
import { greedyCoreset, randomProjection } from '../coreset.ts';
import { FittedBaseline, patchScorePrediction, tapShapesOf, type TapShapes } from '../baseline-state.ts';
import { MemoryBank } from '../knn.ts';
import {
  checkTapShapes,
  loadBaselineState,
  saveBaselineState,
  toImageTaps,
  type BaselinePrediction,
  type FitReport,
  type PointMatrix,
  type PredictOptions,
  type TapsInput,
  type UnsupervisedBaseline,
} from '../types.ts';
import { parsePatchCoreConfig, type PatchCoreConfig, type PatchCoreOptions } from './config.ts';
import { patchCoreFeatures } from './patch-features.ts';
import { reweightedImageScore } from './reweight.ts';

/**
 * PatchCore (Roth et al., "Towards Total Recall in Industrial Anomaly
 * Detection", CVPR 2022) over frozen backbone taps.
 *
 * fit: every training patch's aggregated stride-8+16 feature goes into a pool;
 * k-center greedy picks a coreset (default 10%) on randomly projected copies,
 * and the full-width features of the chosen patches form the memory bank.
 * predict: each test patch's score is its distance to the nearest memory entry;
 * the image score is the largest one, reweighted (see reweight.ts); the map is
 * the patch scores upsampled to input size and Gaussian-smoothed.
 */

interface State {
  bank: MemoryBank;
  tapShapes: TapShapes;
  report: FitReport;
}

export class PatchCore extends FittedBaseline<State> implements UnsupervisedBaseline {
  readonly method = 'patchcore' as const;
  readonly config: PatchCoreConfig;

  constructor(options: PatchCoreOptions = {}) {
    super('PatchCore: call fit() (or PatchCore.load()) before predict/save');
    this.config = parsePatchCoreConfig(options);
  }

  /** The memory bank (rows = memory entries, full feature width). */
  get memoryBank(): PointMatrix {
    return this.requireState().bank.points;
  }

  async fit(train: Iterable<TapsInput> | AsyncIterable<TapsInput>): Promise<FitReport> {
    const chunks: Float32Array[] = [];
    let tapShapes: TapShapes | null = null;
    let cols = 0;
    let images = 0;
    for await (const input of train) {
      const taps = toImageTaps(input);
      if (!tapShapes) tapShapes = tapShapesOf(taps);
      else checkTapShapes(taps, tapShapes);
      const features = patchCoreFeatures(taps);
      cols = features.cols;
      chunks.push(features.data);
      images++;
    }
    if (!tapShapes || images === 0) throw new Error('PatchCore.fit: no training images');
    const pool = concatRows(chunks, cols);

    const rng = new Rng(this.config.seed);
    const projectionRng = rng.fork('projection');
    const coresetRng = rng.fork('coreset');
    const searchSpace =
      this.config.projectionDim > 0 ? randomProjection(pool, this.config.projectionDim, projectionRng) : pool;
    const bar = progress('PatchCore coreset', Math.max(1, Math.round(pool.rows * this.config.coresetRatio)), { unit: 'patches' });
    let shown = 0;
    const coreset = greedyCoreset(searchSpace, this.config.coresetRatio, coresetRng, {
      onProgress: (chosen) => {
        bar.tick(chosen - shown);
        shown = chosen;
      },
    });
    bar.done();

    const bank = new Float32Array(coreset.indices.length * cols);
    coreset.indices.forEach((row, i) => bank.set(pool.data.subarray(row * cols, (row + 1) * cols), i * cols));
    const report: FitReport = {
      method: 'patchcore',
      trainImages: images,
      details: {
        patchesSeen: pool.rows,
        memoryBankSize: coreset.indices.length,
        featureDim: cols,
        coresetRadius: coreset.maxDistance,
        coresetRadiusSpace: searchSpace === pool ? 'features' : `random projection to ${searchSpace.cols} dims`,
      },
    };
    this.setState({ rows: coreset.indices.length, cols, data: bank }, tapShapes, report);
    return report;
  }

  predict(input: TapsInput, opts: PredictOptions = {}): BaselinePrediction {
    const { bank, tapShapes } = this.requireState();
    const taps = toImageTaps(input);
    checkTapShapes(taps, tapShapes);
    const features = patchCoreFeatures(taps);
    const nearest = bank.search(features, 1);
    const patchScores = nearest.distances;
    let best = 0;
    for (let i = 1; i < patchScores.length; i++) if (patchScores[i] > patchScores[best]) best = i;
    const imageScore = this.reweight(features, best, nearest.indices[best], patchScores[best]);
    return patchScorePrediction(patchScores, taps, opts, this.config.sigma, () => imageScore);
  }

  /** Image score from the max patch: distances from it to m* and m*'s nearest memory neighbours. */
  private reweight(features: PointMatrix, patch: number, nearestEntry: number, maxScore: number): number {
    const { bank } = this.requireState();
    const { cols, data: memory } = bank.points;
    const entry: PointMatrix = { rows: 1, cols, data: memory.slice(nearestEntry * cols, (nearestEntry + 1) * cols) };
    const neighbours = bank.search(entry, this.config.numNeighbors);
    // m* first, then its neighbours (m* itself is normally its own first neighbour: skip it).
    const support = [nearestEntry, ...Array.from(neighbours.indices).filter((i) => i !== nearestEntry)].slice(
      0,
      neighbours.k,
    );
    const distances = support.map((entryRow) => {
      let sq = 0;
      for (let c = 0; c < cols; c++) {
        const diff = features.data[patch * cols + c] - memory[entryRow * cols + c];
        sq += diff * diff;
      }
      return Math.sqrt(sq);
    });
    return reweightedImageScore(maxScore, distances);
  }

  async save(dir: string): Promise<void> {
    const { bank, tapShapes, report } = this.requireState();
    await saveBaselineState(dir, {
      method: 'patchcore',
      meta: { config: this.config, tapShapes, bankShape: [bank.rows, bank.cols], report },
      arrays: { memoryBank: bank.points.data },
    });
  }

  static async load(dir: string): Promise<PatchCore> {
    const state = await loadBaselineState(dir, 'patchcore');
    const meta = state.meta as { config: PatchCoreOptions; tapShapes: TapShapes; bankShape: [number, number]; report: FitReport };
    const model = new PatchCore(meta.config);
    const [rows, cols] = meta.bankShape;
    if (state.arrays.memoryBank.length !== rows * cols) {
      throw new InputError(`memory bank holds ${state.arrays.memoryBank.length} values, manifest says ${rows}x${cols}`, dir, 'fit and save the baseline again');
    }
    model.setState({ rows, cols, data: state.arrays.memoryBank }, meta.tapShapes, meta.report);
    return model;
  }

  /** Frees the memory bank's tensors. */
  dispose(): void {
    this.state?.bank.dispose();
    this.state = null;
  }

  private setState(points: PointMatrix, tapShapes: TapShapes, report: FitReport): void {
    this.state?.bank.dispose();
    this.state = { bank: new MemoryBank(points), tapShapes, report };
  }
}

function concatRows(chunks: Float32Array[], cols: number): PointMatrix {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const c of chunks) {
    data.set(c, offset);
    offset += c.length;
  }
  return { rows: total / cols, cols, data };
}
