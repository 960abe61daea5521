import { join } from 'node:path';
import type { Backbone } from '../backbones/types.ts';
import { Padim } from '../baselines/padim/padim.ts';
import { PatchCore } from '../baselines/patchcore/patchcore.ts';
import { savedBaselineMethod, type UnsupervisedBaseline } from '../baselines/types.ts';
import type { MultiCueModel } from '../model/multicue-model.ts';
import { loadModel } from '../model/serialization.ts';
import { backboneIdentity } from '../model/spec.ts';
import type { Experiment } from './experiment.ts';
import { isSupervisedMethod, loadExperimentBackbone } from './prepare.ts';
import { RUN_FILES, readRunExperiment } from './run-dir.ts';

/** A finished run loaded back: its experiment, backbone and trained model or fitted baseline. */
export interface SavedRun {
  dir: string;
  experiment: Experiment;
  backbone: Backbone;
  model: MultiCueModel | null;
  baseline: UnsupervisedBaseline | null;
}

/**
 * Load a run directory. The backbone is the one the run names; a model trained
 * on other weights or another image size is refused with the reason.
 */
export async function loadSavedRun(dir: string, opts: { backbone?: Backbone } = {}): Promise<SavedRun> {
  const experiment = readRunExperiment(dir);
  const backbone = opts.backbone ?? (await loadExperimentBackbone(experiment));
  const modelDir = join(dir, RUN_FILES.model);
  if (isSupervisedMethod(experiment.method)) {
    const model = await loadModel(modelDir, { backbone: backboneIdentity(backbone), imageSize: experiment.geometry.size });
    return { dir, experiment, backbone, model, baseline: null };
  }
  const method = savedBaselineMethod(modelDir);
  const baseline = method === 'patchcore' ? await PatchCore.load(modelDir) : await Padim.load(modelDir);
  return { dir, experiment, backbone, model: null, baseline };
}
