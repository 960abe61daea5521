// The public API the notebooks and other programs import.
export { Rng } from './util/rng.ts';
export { initBackend, environmentReport } from './engine/backend.ts';
export type { BackendName } from './engine/backend.ts';
export { registerWasmKernels, WASM_KERNEL_CONFIGS } from './engine/wasm-kernels.ts';
export { installThreadedWasm, installedWasmThreads, wantedWasmThreads } from './engine/wasm-threads.ts';
export { readSafetensors, parseSafetensors, writeSafetensors, encodeSafetensors } from './backbones/safetensors.ts';
export type { SafetensorsFile, NamedTensor, StoredTensor, WritableDtype } from './backbones/safetensors.ts';
export { loadResNet18FromSafetensors, resnet18Forward, loadResNet18Params } from './backbones/resnet18.ts';
export type { ResNet18Params, ResNet18Output } from './backbones/resnet18.ts';
export { multiScaleFeatures, multiScaleChannels, resizeBilinearTorch } from './backbones/multiscale.ts';
export { verifyResNet18, formatVerifyTable } from './backbones/verify.ts';
export type { VerifyResult, LayerError } from './backbones/verify.ts';
export { FoldedConv, foldBatchNorm } from './backbones/conv.ts';
// TFLite / tfjs-layers backbones, the offline fallback, the registry and the weights cache.
export { loadBackbone, listBackbones, resolveAutoBackbone, resolveWeightsPath, BACKBONE_NAMES } from './backbones/registry.ts';
export type { BackboneName, BackboneInfo, LoadBackboneOptions } from './backbones/registry.ts';
export type { Backbone } from './backbones/types.ts';
export { loadTfliteBackbone, loadMobileNetV2Tflite, TfliteGraph, MOBILENETV2_TFLITE_TAPS } from './backbones/tflite.ts';
export type { TfliteBackboneOptions } from './backbones/tflite.ts';
export { parseTflite, dequantizeTensor } from './backbones/flatbuffer.ts';
export type { TfliteModel, TfliteTensor, TfliteOperator } from './backbones/flatbuffer.ts';
export { loadTfjsModelBackbone, loadMobileNetV2Tfjs, tfjsModelBackbone, tapSubModel, MOBILENETV2_KERAS_TAPS } from './backbones/tfjs-model.ts';
export type { TfjsBackboneOptions } from './backbones/tfjs-model.ts';
export { loadNsfwjsBackbone, NSFWJS_WARNING } from './backbones/nsfwjs.ts';
export { fetchWeights, fetchSource, downloadFile, DownloadError } from './backbones/download.ts';
export type { FetchResult, FetchOptions } from './backbones/download.ts';
export { weightsCacheDir, cachedWeightPath, isCached, listCache, WEIGHT_SOURCES } from './backbones/weights-cache.ts';
export type { WeightSource, CacheEntry, DownloadableBackbone } from './backbones/weights-cache.ts';
// Datasets and the contamination protocol.
export { loadDataset } from './data/load-dataset.ts';
export { parseDataSpec, readDataSpecFile, DataSpecSchema } from './data/spec.ts';
export type { DataSpec, DataSpecInput, MvtecSpec, VisaSpec, FolderSpec } from './data/spec.ts';
export { summarizeDataset, checkDataset } from './data/inspect.ts';
export type { DatasetSummary, CheckReport } from './data/inspect.ts';
export { buildManifest, contaminationCount } from './data/protocol.ts';
export { readManifest, writeManifest, manifestJson, ManifestSchema } from './data/manifest.ts';
export type { Manifest, ManifestItem, ManifestRole, ManifestCounts, ProtocolParams, ProtocolParamsInput } from './data/manifest.ts';
export { applyContaminationNoise } from './data/contamination-noise.ts';
// Metrics (METHOD §7).
export {
  auroc,
  averagePrecision,
  f1Max,
  rocCurve,
  thresholdCounts,
  pixelAuroc,
  PixelAurocAccumulator,
  aupro,
  AuproAccumulator,
  connectedComponents8,
  trapezoidUpTo,
  WeightedScoreCounter,
} from './evaluation/metrics/index.ts';
export type {
  F1Max,
  RocCurve,
  ThresholdCounts,
  PixelAurocResult,
  AuproOptions,
  ProCurve,
  ScoreMap,
  ScoreCounterOptions,
} from './evaluation/metrics/index.ts';
// Instance reweighting and the 2-means rule (METHOD §3-4).
export { alphaDivergenceWeights, lambdaSchedule, stepWeights, uniformWeights } from './training/reweighting.ts';
export type { ReweightPhase } from './training/reweighting.ts';
export { twoMeans, twoMeansLabels } from './training/two-means.ts';
export type { TwoMeansResult } from './training/two-means.ts';
// Cues, normalisation and fusion (METHOD §5).
export { binaryEntropyCue, boxFilter2d, segmentationCue, ADL_SMOOTH_SIZE } from './scoring/cues.ts';
export type { BoxEdge, SegmentationCueOptions } from './scoring/cues.ts';
export { topFractionMean, topFractionCount } from './scoring/top-fraction.ts';
export { normalizeCue } from './scoring/normalize.ts';
export {
  fuseCues,
  fuseAll,
  resolveFusionConfig,
  fusionConfigSchema,
  DEFAULT_FUSION_CONFIG,
} from './scoring/fusion.ts';
export type { CueValues, CueScores, CueWeights, FusionConfig, FusionConfigInput } from './scoring/fusion.ts';
// Unsupervised baselines (PatchCore, PaDiM) over the same frozen backbone taps.
export { PatchCore } from './baselines/patchcore/patchcore.ts';
export { PatchCoreConfigSchema, parsePatchCoreConfig } from './baselines/patchcore/config.ts';
export type { PatchCoreConfig, PatchCoreOptions } from './baselines/patchcore/config.ts';
export { Padim } from './baselines/padim/padim.ts';
export { PadimConfigSchema, parsePadimConfig } from './baselines/padim/config.ts';
export type { PadimConfig, PadimOptions } from './baselines/padim/config.ts';
export { savedBaselineMethod, splitBatchTaps, tapsFromCache, toImageTaps, BASELINE_METHODS } from './baselines/types.ts';
export type {
  UnsupervisedBaseline,
  BaselineMethod,
  BaselinePrediction,
  FitReport,
  FeatureMap,
  ImageTaps,
  TapsInput,
  PointMatrix,
  PredictOptions,
} from './baselines/types.ts';
export { greedyCoreset, randomProjection } from './baselines/coreset.ts';
export type { CoresetResult } from './baselines/coreset.ts';
export { MemoryBank, nearestNeighbors } from './baselines/knn.ts';
export type { NeighborResult } from './baselines/knn.ts';
export { cholesky, choleskySolve, mahalanobisSquared } from './baselines/mahalanobis.ts';
export { gaussianBlur, gaussianKernel1d } from './localization/gaussian-blur.ts';
// Perlin noise, pseudo-anomalies (METHOD §1.4) and the embedded synthetic dataset.
export { perlin2d, fractalPerlin2d, perlinField, perlinMask, drawPerlinMask, PERLIN_BOUND } from './data/perlin.ts';
export type { PerlinField, PerlinMaskOptions, PerlinMaskDraw } from './data/perlin.ts';
export { makePseudoAnomaly, blendInMask, colorJitter, resizeRgbBilinear } from './data/pseudo-anomaly.ts';
export type { PseudoAnomaly, PseudoAnomalyOptions, ColorJitterOptions } from './data/pseudo-anomaly.ts';
export { folderAnomalySource, proceduralAnomalySource, anomalySource } from './data/anomaly-source.ts';
export type { AnomalySource, FolderSourceOptions } from './data/anomaly-source.ts';
export { proceduralTexture, randomProceduralTexture, PROCEDURAL_TEXTURE_KINDS } from './data/procedural-texture.ts';
export type { ProceduralTextureKind } from './data/procedural-texture.ts';
export { generateSyntheticDataset, SyntheticDatasetOptionsSchema } from './data/synthetic/generate.ts';
export type { SyntheticDatasetOptions, SyntheticDatasetSummary, SyntheticCategorySummary } from './data/synthetic/generate.ts';
export { SYNTHETIC_CATEGORIES, syntheticCategory } from './data/synthetic/categories.ts';
export type { SyntheticCategory, SyntheticSample } from './data/synthetic/category.ts';
export { writeDataFigures } from './data/synthetic/figures.ts';
export { montagePng, writeMontage } from './data/montage.ts';
export type { MontageTile, MontageOptions } from './data/montage.ts';
// The MultiCue detector (METHOD §2–6): config, model, feature cache, training, scoring, localization.
export { parseConfig, defaultConfig, MultiCueConfigSchema } from './training/config.ts';
export type {
  MultiCueConfig,
  MultiCueConfigInput,
  ModelConfig,
  LossConfig,
  ReweightingConfig,
  OptimizerConfig,
  ScheduleConfig,
  CacheConfig,
  ScoringConfig,
  LocalizationConfig,
} from './training/config.ts';
export { MultiCueModel, createMultiCueModel } from './model/multicue-model.ts';
export type { MultiCueOutputs, Taps } from './model/multicue-model.ts';
export { modelSpec, backboneIdentity, specMismatch, segmentationOutputSize } from './model/spec.ts';
export type { ModelSpec, BackboneIdentity } from './model/spec.ts';
export { saveModel, loadModel, readModelInfo } from './model/serialization.ts';
export type { SavedModelJson, LoadModelExpectation } from './model/serialization.ts';
export {
  buildFeatureCache,
  FeatureCache,
  manifestFeatureSources,
  datasetItemSource,
  pseudoAnomalySources,
  pseudoAnomalyGenerator,
  fileContentKey,
  featureCacheFolder,
  float32ToFloat16,
  float16ToFloat32,
} from './training/feature-cache.ts';
export type {
  FeatureSource,
  FeatureGroup,
  CachedFeatures,
  LoadedImage,
  HalfTensor,
  BuildFeatureCacheOptions,
  FeatureCacheStats,
  PseudoAnomalyGenerator,
  PseudoAnomalySourceOptions,
  ManifestSourcesOptions,
} from './training/feature-cache.ts';
export { train, learningRateAt } from './training/trainer.ts';
export type { TrainOptions, TrainResult, TrainProgress, EpochLog, WeightSummary } from './training/trainer.ts';
export { NonFiniteLossError } from './training/nan-guard.ts';
export {
  softDeviationLoss,
  binaryCrossEntropyWithLogits,
  focalSegmentationLoss,
  classificationTargets,
  referenceMoments,
  weightedSum,
} from './training/losses.ts';
export { BalancedBatchSampler } from './training/batches.ts';
export { scoreImages, scoreRgbImages, fusionConfigOf } from './scoring/score.ts';
export type { ScoredImage, ScoredFeatureImage, ScoreResult, ScoreOptions } from './scoring/score.ts';
export { localize, sigmaForSize } from './localization/localize.ts';
export type { LocalizationMap, LocalizeOptions } from './localization/localize.ts';
export { CUE_NAMES } from './localization/cue-tensors.ts';
export type { CueName } from './localization/cue-tensors.ts';
// Result tables and figures (METHOD §7): tidy results schema, arquero tables, plotly figures, PNG/HTML export.
export {
  RESULTS_FILE,
  IMAGE_SCORES_FILE,
  METRIC_LABELS,
  METRIC_NAMES,
  PIXEL_METRICS,
  CUE_AUROC_METRICS,
  CUE_COLUMNS,
  KNOWN_METHODS,
  MetricRowSchema,
  ImageScoreRowSchema,
  metricLabel,
  cellIdOf,
  parseCellId,
  parseFusionWeights,
  formatFusionWeights,
} from './experiments/results-schema.ts';
export type { MetricName, MetricRow, MetricRowInput, ImageScoreRow, CueColumn, CellKey } from './experiments/results-schema.ts';
export { readSweepResults, writeSweepResults } from './experiments/sweep-results.ts';
export type { SweepResults } from './experiments/sweep-results.ts';
export {
  resultsTable,
  rowsOf,
  filterRows,
  whereEquals,
  meanStd,
  seedSummary,
  withCategoryMean,
  relativeDrop,
  relativeGainOverZeroShots,
  perClassTable,
  ablationTable,
  formatMeanStd,
  percentLabel,
  writeTableCsv,
  writeTableJson,
  readTableCsv,
  RESULT_COLUMNS,
  SETTING_KEYS,
  CONDITION_KEYS,
  MEAN_CATEGORY,
} from './experiments/tables.ts';
export type { SettingKey, PerClassOptions } from './experiments/tables.ts';
export { selectSetting, describeSetting, DEFAULT_SETTING } from './experiments/settings.ts';
export type { Setting, SelectedSetting } from './experiments/settings.ts';
export { fusionGrid, alphaLambdaGrid } from './experiments/grids.ts';
export type { ParameterGrid } from './experiments/grids.ts';
export { exampleSweepResults } from './experiments/example-results.ts';
export type { ExampleSweepOptions } from './experiments/example-results.ts';
export type { PlotlyFigure } from './plots/figure.ts';
export { robustnessFigure } from './plots/robustness.ts';
export { cueDistributionFigure } from './plots/cue-distributions.ts';
export { relativeDropFigure } from './plots/relative-drop.ts';
export { shotsFigure } from './plots/shots.ts';
export { fusionGridFigure, alphaLambdaGridFigure } from './plots/grid-heatmap.ts';
export { colormapLut, COLORMAP_NAMES } from './plots/colormap.ts';
export type { ColormapName } from './plots/colormap.ts';
export { heatmapOverlay, colorizeMap, binarizeMap, normalizeMap } from './plots/heatmap.ts';
export { qualitativePanel, writeQualitativePanel } from './plots/qualitative-panel.ts';
export type { QualitativeRow, QualitativePanelOptions } from './plots/qualitative-panel.ts';
export { figureHtml, writeFigureHtml } from './plots/html-export.ts';
export { FigureRenderer, renderFigurePng } from './plots/render-png.ts';
export type { RenderOptions } from './plots/render-png.ts';
export { notebookDisplay, showFigure } from './plots/notebook.ts';
export { writeResultFigures } from './plots/results-figures.ts';
export type { ResultFiguresOptions, ResultFiguresReport } from './plots/results-figures.ts';
// The one-cell pipeline (experiment → features → trained, evaluated cell) and the notebooks' scale switch.
export { parseExperiment, applyMethodPreset, cellName, METHODS } from './pipeline/experiment.ts';
export type { Experiment, ExperimentInput, Method } from './pipeline/experiment.ts';
export { prepareExperiment, loadExperimentBackbone } from './pipeline/prepare.ts';
export type { Prepared, PrepareOptions } from './pipeline/prepare.ts';
export { runCell } from './pipeline/run-cell.ts';
export { readImage, readMask } from './data/image.ts';
export type { CellResult, TestImageResult, RunCellOptions } from './pipeline/run-cell.ts';
export {
  notebookScale,
  notebookScaleName,
  notebookExperimentBase,
  notebookSweepConfig,
  runNotebookSweep,
  ensureNotebookData,
  ensureSyntheticData,
  useSharedWeights,
  fusionSimplex,
  magneticTileSpec,
  NotebookFigures,
} from './experiments/notebook-scale.ts';
export type { NotebookScale, NotebookScaleName, NotebookDataset, NotebookDisplay, NotebookSweepAxes, NotebookSweepResult, InlineFigureKind, FusionTriple } from './experiments/notebook-scale.ts';
// Sweeps (multicue sweep) and RESULTS.md (multicue results).
export { SweepConfigSchema, parseSweepConfig, readSweepConfigFile, checkSweepInputs, specCategory } from './experiments/sweep-config.ts';
export type { SweepConfig, SweepConfigInput, ParseSweepOptions } from './experiments/sweep-config.ts';
export { expandSweep, sweepUnits } from './experiments/sweep-cells.ts';
export type { SweepCell, FusionVector } from './experiments/sweep-cells.ts';
export { runSweep, planSweep, planUnit } from './experiments/sweep.ts';
export type { SweepOptions, SweepSummary, SweepCellEvent, CellAction, PlannedCell } from './experiments/sweep.ts';
export { SWEEP_FILE, FAILURES_FILE, ERROR_FILE, sweepRunsDir, sweepFeatureCacheDir } from './experiments/sweep-files.ts';
export { finishedCellRows, failedCells, cellKeyOf } from './experiments/sweep-collect.ts';
export type { CellRows, FailureRow, CellError } from './experiments/sweep-collect.ts';
export { rescoreTrainedRun, fuseSavedCues, MODEL_REF_FILE } from './experiments/sweep-rescore.ts';
export type { ModelRef, RescoredMetricsFile } from './experiments/sweep-rescore.ts';
export { staleCells, staleDifference } from './experiments/sweep-stale.ts';
export { parseScoresCsv, readScoresCsv, formatScoresCsv } from './experiments/sweep-scores-csv.ts';
export { resultsMarkdown, writeResultsMarkdown } from './experiments/results-md.ts';
export type { ResultsMarkdownOptions } from './experiments/results-md.ts';
