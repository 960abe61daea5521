import type { Command } from 'commander';
import { join } from 'node:path';
import { readManifest } from '../data/manifest.ts';
import { addDataOptions, dataSpecFromOptions, type DataOptions } from '../data/spec.ts';
import { prepareExperiment } from '../pipeline/prepare.ts';
import { formatRunReport } from '../pipeline/report.ts';
import { runCell } from '../pipeline/run-cell.ts';
import { RUN_FILES, writeRunDir } from '../pipeline/run-dir.ts';
import { loadSavedRun } from '../pipeline/saved-run.ts';
import { parseGradientMaps } from './experiment-options.ts';

interface EvalOptions extends DataOptions {
  out?: string;
  gradientMaps?: string;
  json?: boolean;
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description("evaluate a trained run: on its own test set (default) or on another dataset's test split")
    .argument('<run-dir>', 'a run directory written by `multicue train`');
  addDataOptions(cmd)
    .option('--out <dir>', 'where the evaluation run directory goes (default <run-dir>/eval)')
    .option('--gradient-maps <n|all|none>', 'test images that get gradient maps (default: as the run)')
    .option('--json', 'print metrics.json')
    .action(async (runDir: string, opts: EvalOptions) => {
      // Bad flags are refused before the model and backbone are loaded.
      const gradientMaps = opts.gradientMaps === undefined ? undefined : parseGradientMaps(opts.gradientMaps);
      const run = await loadSavedRun(runDir);
      let experiment = run.experiment;
      if (gradientMaps !== undefined) experiment = { ...experiment, gradientMaps };
      const newData = Boolean(opts.data || opts.format || opts.root);
      if (newData) {
        // Another dataset: every image of its test split is a test image; nothing is trained.
        experiment = { ...experiment, data: dataSpecFromOptions(opts), protocol: { ...experiment.protocol, ratio: 0, shots: 0 } };
      }
      const prepared = await prepareExperiment(experiment, {
        backbone: run.backbone,
        groups: ['test'],
        ...(newData ? {} : { manifest: readManifest(join(runDir, RUN_FILES.manifest)) }),
      });
      const result = await runCell(experiment, prepared, run.model ? { model: run.model } : { baseline: run.baseline! });
      const out = opts.out ?? join(runDir, 'eval');
      const metrics = await writeRunDir(out, `eval of ${runDir}`, result, prepared.manifest, prepared.backbone);
      if (opts.json) console.log(JSON.stringify(metrics, null, 2));
      else {
        console.log(formatRunReport(metrics));
        console.log(`evaluation written to ${out}`);
      }
    });
}
