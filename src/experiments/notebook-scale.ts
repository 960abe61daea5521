/**
 * The scale switch of the teaching notebooks (notebooks/*.ipynb). One place
 * holds every knob that makes a notebook cheap or faithful:
 *
 *   MULTICUE_SMOKE=1   tiny: synthetic data at 64 px, one category, few images,
 *                      one seed, a few training steps. The whole set of
 *                      notebooks runs in minutes on 2 cores (CI).
 *   (unset)            real: magnetic tile from ../shared/data/magnetic-tile
 *                      when present, else the synthetic dataset; 256 px; the
 *                      detector settings `multicue train` uses by default here
 *                      (preset paper on node-gpu, else cpu;
 *                      MULTICUE_NOTEBOOK_PRESET overrides); the paper's sweeps,
 *                      3 seeds. Hours on a CPU.
 *
 * Smoke figures go to figures/smoke/ (git-ignored) so they never overwrite the
 * real ones in figures/notebooks/. Generated data, sweeps and feature caches
 * go to the git-ignored data/, sweeps/ and .cache/ folders of the checkout.
 *
 * Besides the knobs (notebookScale), the few helpers every notebook shares:
 * the sweep config over the scale's data and its runner (notebookSweepConfig,
 * runNotebookSweep), the data check (ensureNotebookData), the weights folder
 * (useSharedWeights) and the figure sink that shows and exports
 * (NotebookFigures). Notebooks reach them as `mc.*` (see notebooks/README.md).
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { resolveAutoBackbone } from '../backbones/registry.ts';
import { weightsCacheDir } from '../backbones/weights-cache.ts';
import type { DataSpecInput } from '../data/spec.ts';
import type { ResizeMode } from '../data/types.ts';
import { generateSyntheticDataset, type SyntheticDatasetOptions } from '../data/synthetic/generate.ts';
import { readSweepResults, type SweepResults } from './sweep-results.ts';
import { parseSweepConfig, type SweepConfig } from './sweep-config.ts';
import { runSweep, type SweepSummary } from './sweep.ts';
import type { PlotlyFigure } from '../plots/figure.ts';
import { writeFigureHtml } from '../plots/html-export.ts';
import { notebookDisplay } from '../plots/notebook.ts';
import { FigureRenderer } from '../plots/render-png.ts';
import type { MultiCueConfigInput } from '../training/config.ts';
import { CONFIG_PRESET_NAMES, CONFIG_PRESETS, defaultPreset, mergeConfig, type ConfigPresetName } from '../training/presets.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import { REPO_ROOT, sharedDir } from '../util/paths.ts';

export type NotebookScaleName = 'smoke' | 'real';
/** How figures show inline: a PNG (static, small, renders on GitHub) or interactive plotly HTML. */
export type InlineFigureKind = 'png' | 'html';
export type FusionTriple = [number, number, number];

export interface NotebookDataset {
  /** Where the data came from, for the notebooks' prose. */
  source: 'magnetic-tile' | 'synthetic';
  category: string;
  spec: DataSpecInput;
}

export interface NotebookScale {
  name: NotebookScaleName;
  repoRoot: string;
  /** Figures of this scale: figures/notebooks (real) or figures/smoke (git-ignored). */
  figuresDir: string;
  /** The sweep folder of this scale, preset, size and backbone (git-ignored). */
  sweepsDir: string;
  /** On-disk feature cache shared by every notebook (git-ignored). */
  featureCache: string;
  inline: InlineFigureKind;
  /** The synthetic dataset the quickstart generates (and the fallback of the others). */
  synthetic: SyntheticDatasetOptions & { out: string; size: number; categories: string[] };
  /** The quickstart's category (a synthetic one). */
  quickstartCategory: string;
  /** Data of notebooks 02-07. */
  dataset: NotebookDataset;
  /** Square input size of the network, and how images of another shape get there. */
  size: number;
  resize: ResizeMode;
  /** The backbone `auto` resolves to with the weights found (call useSharedWeights first). */
  backbone: string;
  /** Contamination sweep (Fig. 3, 5) and the main ratio of the other notebooks. */
  ratios: number[];
  mainRatio: number;
  /** Shot sweep (Fig. 6) and the main k of the other notebooks. */
  shots: number[];
  mainShots: number;
  seeds: number[];
  /** Methods of the robustness comparison. */
  methods: string[];
  /** α/λ grid (METHOD §4). */
  alphas: number[];
  lambdas: number[];
  /** Fusion weights (w_d, w_u, w_s) re-scored on one trained model (METHOD §5). */
  fusionWeights: FusionTriple[];
  /** The detector config's starting point (src/training/presets.ts). */
  preset: ConfigPresetName;
  /** Detector config on top of METHOD's defaults: the preset (smoke: with a tiny schedule). */
  config: MultiCueConfigInput;
  /** Test images that get gradient maps in sweeps (METHOD §6 is slow on CPU). */
  gradientMaps: number | 'all';
  /** Rows of the qualitative panel (Fig. 2). */
  qualitativeRows: number;
}

/** The scale the environment asks for: MULTICUE_SMOKE=1 (or "true") is smoke, anything else real. */
export function notebookScaleName(env: NodeJS.ProcessEnv = process.env): NotebookScaleName {
  const flag = (env.MULTICUE_SMOKE ?? '').trim().toLowerCase();
  return flag === '1' || flag === 'true' || flag === 'yes' ? 'smoke' : 'real';
}

/** Fusion weights on a simplex grid of the given step (w_d + w_u + w_s = 1, each ≥ 0). */
export function fusionSimplex(step: number): FusionTriple[] {
  const n = Math.round(1 / step);
  if (!(n >= 1) || Math.abs(n * step - 1) > 1e-9) throw new Error(`fusion grid step must divide 1, got ${step}`);
  const out: FusionTriple[] = [];
  const round = (x: number) => Number(x.toFixed(6));
  for (let i = 0; i <= n; i++) {
    for (let j = 0; i + j <= n; j++) out.push([round(i / n), round(j / n), round((n - i - j) / n)]);
  }
  return out;
}

/** The magnetic-tile folder layout (shared/data/magnetic-tile/SOURCE.md) as a data spec. */
export function magneticTileSpec(root: string): DataSpecInput {
  return {
    format: 'folder',
    root,
    category: 'magnetic-tile',
    nominal: ['MT_Free/Imgs'],
    anomalous: ['MT_{Blowhole,Break,Crack,Fray,Uneven}/Imgs'],
    images: '*.jpg',
    maskPattern: '{stem}.png',
  };
}

function magneticTileRoot(): string | null {
  const shared = sharedDir();
  const root = shared ? join(shared, 'data', 'magnetic-tile') : null;
  return root && existsSync(join(root, 'MT_Free')) ? root : null;
}

/** Smoke: a dozen small steps on top of the cpu preset: every code path runs, little is learned. */
const SMOKE_SCHEDULE = { schedule: { epochs: 3, stepsPerEpoch: 4, batchSize: 8 } };

export interface NotebookScaleOptions {
  env?: NodeJS.ProcessEnv;
  /** The checkout (default: the one this file is in). */
  repoRoot?: string;
}

/**
 * Every knob of the notebooks at the scale the environment asks for. Further
 * switches: MULTICUE_NOTEBOOK_INLINE=html shows interactive figures instead of
 * PNGs; MULTICUE_NOTEBOOK_DATA=synthetic|magnetic-tile, MULTICUE_NOTEBOOK_PRESET
 * and MULTICUE_NOTEBOOK_SIZE set the real scale's data, detector preset and
 * input size (e.g. 128 to match the committed magnetic-tile sweep's speed).
 */
export function notebookScale(opts: NotebookScaleOptions = {}): NotebookScale {
  const env = opts.env ?? process.env;
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const name = notebookScaleName(env);
  const smoke = name === 'smoke';
  const inlineFlag = (env.MULTICUE_NOTEBOOK_INLINE ?? 'png').trim().toLowerCase();
  if (inlineFlag !== 'png' && inlineFlag !== 'html') {
    throw new InputError(`MULTICUE_NOTEBOOK_INLINE must be "png" or "html", got "${inlineFlag}"`, undefined, 'unset it (PNG) or set it to html');
  }
  const dataFlag = (env.MULTICUE_NOTEBOOK_DATA ?? '').trim().toLowerCase();
  if (dataFlag !== '' && dataFlag !== 'synthetic' && dataFlag !== 'magnetic-tile') {
    throw new InputError(`MULTICUE_NOTEBOOK_DATA must be "synthetic" or "magnetic-tile", got "${dataFlag}"`, undefined, 'unset it to pick automatically');
  }

  const presetFlag = (env.MULTICUE_NOTEBOOK_PRESET ?? '').trim();
  if (presetFlag !== '' && !(CONFIG_PRESET_NAMES as readonly string[]).includes(presetFlag)) {
    throw new InputError(`MULTICUE_NOTEBOOK_PRESET must be one of ${CONFIG_PRESET_NAMES.join(', ')}, got "${presetFlag}"`, undefined, 'unset it to use the CLI default (paper on node-gpu, else cpu)');
  }
  const sizeFlag = (env.MULTICUE_NOTEBOOK_SIZE ?? '').trim();
  const realSize = sizeFlag === '' ? 256 : Number(sizeFlag);
  if (!Number.isInteger(realSize) || realSize < 32) {
    throw new InputError(`MULTICUE_NOTEBOOK_SIZE must be a whole number of pixels ≥ 32, got "${sizeFlag}"`, undefined, 'unset it (256) or e.g. MULTICUE_NOTEBOOK_SIZE=128');
  }
  // The real scale trains like `multicue train` does by default on this machine.
  const preset: ConfigPresetName = smoke ? 'cpu' : ((presetFlag || defaultPreset(env.MULTICUE_BACKEND)) as ConfigPresetName);

  const size = smoke ? 64 : realSize;
  // 'auto' resolved now (after useSharedWeights), so every cell and folder names the backbone it used.
  const backbone = resolveAutoBackbone({ cacheDir: weightsCacheDir(env) });

  const synthetic = smoke
    ? { out: join(repoRoot, 'data', 'synthetic-smoke'), seed: 0, size: 64, categories: ['wood'], train: 16, testGood: 8, testPerDefect: 4, silent: true }
    : // The demo's counts: 30 anomalies per category leave test anomalies after k = 10 and r = 20%.
      // A folder of its own: data/synthetic is written by other commands at other sizes.
      { out: join(repoRoot, 'data', 'synthetic-notebooks'), seed: 0, size: 256, categories: ['carpet', 'wood', 'washer', 'pill'], train: 60, testGood: 20, testPerDefect: 10, silent: true };
  const syntheticDataset = (category: string): NotebookDataset => ({
    source: 'synthetic',
    category,
    spec: { format: 'mvtec', root: synthetic.out, category },
  });

  const tileRoot = magneticTileRoot();
  if (dataFlag === 'magnetic-tile' && !tileRoot) {
    throw new InputError('MULTICUE_NOTEBOOK_DATA=magnetic-tile but the data is not there', join(repoRoot, '..', 'shared', 'data', 'magnetic-tile'), 'set MULTICUE_SHARED to the shared folder, or unset MULTICUE_NOTEBOOK_DATA');
  }
  const useTile = !smoke && tileRoot !== null && dataFlag !== 'synthetic';
  const dataset = useTile ? { source: 'magnetic-tile' as const, category: 'magnetic-tile', spec: magneticTileSpec(tileRoot!) } : syntheticDataset(smoke ? 'wood' : 'carpet');

  return {
    name,
    repoRoot,
    figuresDir: join(repoRoot, 'figures', smoke ? 'smoke' : 'notebooks'),
    // Everything a sweep's cell names leave out goes into the folder name, so a finished cell is
    // only reused by a run with the same preset, input size and backbone.
    sweepsDir: join(repoRoot, 'sweeps', `notebooks-${name}-${preset}-${size}-${backbone}`),
    featureCache: join(repoRoot, '.cache', 'notebooks', 'features'),
    inline: inlineFlag,
    synthetic,
    quickstartCategory: smoke ? 'wood' : 'carpet',
    dataset,
    size,
    // Magnetic tiles are long and narrow (103-632 × 222-403 px): a centre crop would cut defects at the ends.
    resize: useTile ? 'stretch' : 'center-crop',
    backbone,
    ratios: [0.05, 0.1, 0.15, 0.2],
    mainRatio: 0.1,
    shots: smoke ? [0, 1, 2, 5] : [0, 1, 2, 5, 10],
    mainShots: smoke ? 2 : 10,
    seeds: smoke ? [0] : [0, 1, 2],
    methods: ['multicue', 'adl', 'patchcore', 'padim'],
    alphas: smoke ? [0.1, 1] : [0.1, 0.5, 1, 2],
    lambdas: smoke ? [0.1, 1] : [0.01, 0.1, 1],
    // Step 0.1 holds METHOD's default (0.5, 0.2, 0.3), so the grid re-scores the model notebook 02 trained.
    fusionWeights: fusionSimplex(0.1),
    preset,
    config: smoke ? mergeConfig(CONFIG_PRESETS.cpu, SMOKE_SCHEDULE) : structuredClone(CONFIG_PRESETS[preset]),
    // Gradient maps cost a backward pass per image; notebook 07 computes them for every test image of one cell.
    gradientMaps: smoke ? 6 : 40,
    qualitativeRows: smoke ? 4 : 6,
  };
}

/**
 * The experiment keys every notebook cell shares (geometry, backbone, config,
 * caches): a sweep config's `base`, or with data, protocol and method added,
 * one experiment for parseExperiment. Plain JSON.
 */
export function notebookExperimentBase(scale: NotebookScale): Record<string, unknown> {
  return {
    geometry: { size: scale.size, resize: scale.resize },
    backbone: { name: scale.backbone },
    config: structuredClone(scale.config),
    featureCache: scale.featureCache,
    gradientMaps: scale.gradientMaps,
  };
}

/** The sweep axes a notebook varies; the rest (seeds, data, base) come from the scale. */
export interface NotebookSweepAxes {
  ratios?: number[];
  shots?: number[];
  methods?: string[];
  alphaLambda?: [number, number][];
  fusionWeights?: FusionTriple[];
  seeds?: number[];
  description?: string;
}

/**
 * A sweep config (the JSON `multicue sweep` reads) over the scale's dataset.
 * Every notebook of a scale sweeps into the same folder, so a cell that one
 * notebook finished (same experiment, same run directory) is reused by the
 * next instead of trained again; each sweep rewrites results.json with its own cells.
 */
export function notebookSweepConfig(scale: NotebookScale, axes: NotebookSweepAxes, dataset: NotebookDataset = scale.dataset): Record<string, unknown> {
  return {
    ...(axes.description ? { description: axes.description } : {}),
    out: scale.sweepsDir,
    datasets: [dataset.spec],
    ratios: axes.ratios ?? [scale.mainRatio],
    shots: axes.shots ?? [scale.mainShots],
    seeds: axes.seeds ?? scale.seeds,
    methods: axes.methods ?? ['multicue'],
    ...(axes.alphaLambda ? { alphaLambda: axes.alphaLambda } : {}),
    ...(axes.fusionWeights ? { fusionWeights: axes.fusionWeights } : {}),
    base: notebookExperimentBase(scale),
  };
}

export interface NotebookSweepResult extends SweepResults {
  config: SweepConfig;
  summary: SweepSummary;
}

/**
 * Run (or resume) a sweep from a notebook and read its results. Prints one line
 * per trained or fitted cell (progress bars too at the real scale, where cells
 * take minutes); throws if a cell failed, so a headless run fails loudly.
 */
export async function runNotebookSweep(
  scale: NotebookScale,
  configInput: Record<string, unknown>,
  opts: { log?: (line: string) => void } = {},
): Promise<NotebookSweepResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const config = parseSweepConfig(configInput);
  let rescored = 0;
  const summary = await runSweep(config, {
    silent: scale.name === 'smoke',
    onCell: (event) => {
      if (event.action === 'rescore') rescored++;
      else log(`${event.status === 'done' ? 'done' : 'FAILED'}: ${event.cell.category}/${event.cell.name} (${event.action}, ${event.seconds.toFixed(1)} s)`);
    },
  });
  log(
    `${summary.cells} cells: ${summary.skipped} already finished, ${summary.ran} run now` +
      `${rescored > 0 ? ` (${rescored} re-scored without training)` : ''}, ${summary.failed.length} failed; ${summary.seconds.toFixed(1)} s`,
  );
  if (summary.failed.length > 0 || summary.remaining > 0) {
    const failures = summary.failed.map((f) => `${f.cell}: ${f.message.split('\n')[0]}`).join('; ');
    throw new Error(`sweep incomplete (${summary.remaining} cells without results)${failures ? `: ${failures}` : ''}; see ${join(config.out, 'failures.json')}`);
  }
  return { ...readSweepResults(config.out), config, summary };
}

/**
 * Write the scale's synthetic dataset unless a matching one is already there
 * (same seed, size and counts, holding every wanted category). Returns its root.
 */
export async function ensureSyntheticData(scale: NotebookScale): Promise<string> {
  const opts = scale.synthetic;
  const summaryPath = join(opts.out, 'synthetic.json');
  if (existsSync(summaryPath)) {
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as {
      seed: number;
      size: number;
      categories: { name: string; train: number; testGood: number; defects: Record<string, number> }[];
    };
    const matches =
      summary.seed === opts.seed &&
      summary.size === opts.size &&
      opts.categories.every((name) => {
        const c = summary.categories.find((s) => s.name === name);
        return c && c.train === opts.train && c.testGood === opts.testGood && Object.values(c.defects).every((n) => n === opts.testPerDefect);
      });
    if (matches) return opts.out;
  }
  await generateSyntheticDataset(opts);
  return opts.out;
}

/** Make sure the scale's dataset exists (generating the synthetic one if that is the data). */
export async function ensureNotebookData(scale: NotebookScale, dataset: NotebookDataset = scale.dataset): Promise<NotebookDataset> {
  if (dataset.source === 'synthetic') await ensureSyntheticData(scale);
  return dataset;
}

/**
 * Point the backbone registry at the team's shared weights folder when there is
 * one and nothing else was chosen (MULTICUE_WEIGHTS); else the registry's
 * offline default applies. Returns the folder used, or null.
 */
export function useSharedWeights(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.MULTICUE_WEIGHTS) return env.MULTICUE_WEIGHTS;
  const shared = sharedDir();
  const weights = shared ? join(shared, 'weights') : null;
  if (!weights || !existsSync(weights)) return null;
  env.MULTICUE_WEIGHTS = weights;
  return weights;
}

/** What a notebook output cell can show (tslab's `display`). */
export interface NotebookDisplay {
  html(html: string): void;
  png(bytes: Uint8Array): void;
}

/**
 * Every figure of a notebook goes through one sink: it is shown inline (PNG,
 * or interactive HTML with MULTICUE_NOTEBOOK_INLINE=html) and written to the
 * scale's figures folder as `<prefix>-<name>.html` + `.png`. One headless
 * Chromium renders all PNGs; close() it in the last cell.
 */
export class NotebookFigures {
  private renderer: FigureRenderer | null = null;
  /** Every file written so far, in order. */
  readonly written: string[] = [];

  constructor(
    readonly scale: NotebookScale,
    /** File-name prefix, e.g. the notebook's number "02". */
    readonly prefix: string,
    private readonly display: NotebookDisplay = tslabDisplay(),
  ) {}

  path(name: string, ext: string): string {
    return join(this.scale.figuresDir, `${this.prefix}-${name}.${ext}`);
  }

  /** Show a plotly figure and export it as HTML and PNG. */
  async plot(fig: PlotlyFigure, name: string): Promise<void> {
    const html = this.path(name, 'html');
    const png = this.path(name, 'png');
    await writeFigureHtml(fig, html);
    this.renderer ??= await FigureRenderer.launch();
    const bytes = await this.renderer.render(fig);
    await writeFileAtomic(png, bytes);
    this.written.push(html, png);
    if (this.scale.inline === 'html') this.display.html(await notebookDisplay(fig));
    else this.display.png(bytes);
  }

  /** Show PNG bytes (a panel, a montage) and export them. */
  async image(bytes: Uint8Array, name: string): Promise<void> {
    const png = this.path(name, 'png');
    await writeFileAtomic(png, bytes);
    this.written.push(png);
    this.display.png(bytes);
  }

  /** Show a table inline and export it as CSV. */
  async table(table: ColumnTable, name: string, opts: { limit?: number; digits?: number } = {}): Promise<void> {
    const csv = this.path(name, 'csv');
    await writeFileAtomic(csv, aq.toCSV(table));
    this.written.push(csv);
    const digits = opts.digits ?? 3;
    const format = Object.fromEntries(table.columnNames().map((c) => [c, (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(digits) : v === null || v === undefined ? '' : String(v))]));
    this.display.html(aq.toHTML(table, { limit: opts.limit ?? 40, format }));
  }

  async close(): Promise<void> {
    await this.renderer?.close();
    this.renderer = null;
  }
}

/** tslab's display, loaded lazily so this module also loads outside a notebook. */
function tslabDisplay(): NotebookDisplay {
  const missing = () => {
    throw new Error('notebook output needs the tslab kernel (npm package "tslab"); pass a display to NotebookFigures outside a notebook');
  };
  let display: NotebookDisplay | null = null;
  const get = (): NotebookDisplay => {
    if (!display) {
      try {
        display = (createRequire(import.meta.url)('tslab') as { display: NotebookDisplay }).display;
      } catch {
        missing();
      }
    }
    return display!;
  };
  return { html: (html) => get().html(html), png: (bytes) => get().png(bytes) };
}
