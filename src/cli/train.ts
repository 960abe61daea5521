import type { Command } from 'commander';
import { join } from 'node:path';
import { categoryOf } from '../data/spec.ts';
import { applyMethodPreset, cellName } from '../pipeline/experiment.ts';
import { prepareExperiment } from '../pipeline/prepare.ts';
import { formatRunReport } from '../pipeline/report.ts';
import { runCell } from '../pipeline/run-cell.ts';
import { writeRunDir } from '../pipeline/run-dir.ts';
import { addExperimentOptions, experimentFromOptions, type ExperimentOptions } from './experiment-options.ts';

interface TrainOptions extends ExperimentOptions {
  out?: string;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('draw the protocol, extract features, train (or fit a baseline), evaluate, and write a run directory');
  addExperimentOptions(cmd)
    .option('--out <dir>', 'run directory (default runs/<category>/<cell>)')
    .option('--json', 'print metrics.json instead of the summary')
    .addHelpText(
      'after',
      `
Example (the real magnetic-tile data, 10% contamination, 10 shots):
  multicue train --format folder --root ../shared/data/magnetic-tile --category magnetic-tile \\
    --nominal MT_Free/Imgs --anomalous 'MT_{Blowhole,Break,Crack,Fray,Uneven}/Imgs' \\
    --images '*.jpg' --mask-pattern '{stem}.png' --ratio 0.1 --shots 10 --seed 0 --backbone mobilenetv2`,
    )
    .action(async (opts: TrainOptions) => {
      const experiment = applyMethodPreset(experimentFromOptions(opts));
      const cell = cellName(experiment);
      const category = categoryOf(experiment.data);
      const out = opts.out ?? join('runs', category, cell);
      const prepared = await prepareExperiment(experiment);
      if (prepared.backbone.warning) process.stderr.write(`\nWARNING: ${prepared.backbone.warning}\n\n`);
      const result = await runCell(experiment, prepared, { checkpointDir: join(out, 'checkpoint') });
      const metrics = await writeRunDir(out, cell, result, prepared.manifest, prepared.backbone);
      if (opts.json) console.log(JSON.stringify(metrics, null, 2));
      else {
        console.log(formatRunReport(metrics));
        console.log(`run directory: ${out}`);
      }
    });
}
