import { type Command, InvalidArgumentError } from 'commander';
import { writeResultFigures } from '../plots/results-figures.ts';
import { figuresCommandGroup } from './figures-data.ts';

/** `multicue figures results`: the tables and figures of a finished sweep (METHOD §7). */
export function registerFiguresResults(program: Command): void {
  figuresCommandGroup(program)
    .command('results')
    .description(
      'draw the result figures of a sweep (robustness, score distributions, relative drop, shots, fusion and α/λ grids) as HTML + PNG, and its tables as CSV',
    )
    .requiredOption('--sweep <dir>', 'sweep folder holding results.json (and optionally image-scores.json)')
    .option('--out <dir>', 'output folder', 'figures')
    .option('--metric <name>', 'image metric of the robustness, drop, shots and grid figures', 'image_auroc')
    .option('--method <name>', 'method whose grids and score distributions are drawn', 'multicue')
    .option('--scale <n>', 'PNG pixel scale (2 = sharper, twice the size)', (v: string) => {
      const n = Number(v);
      if (!(n > 0 && n <= 4)) throw new InvalidArgumentError(`"${v}" is not a scale in (0, 4]`);
      return n;
    }, 1)
    .option('--no-html', 'skip the interactive HTML files')
    .option('--no-png', 'skip the PNG files (no Chromium needed)')
    .action(async (opts: { sweep: string; out: string; metric: string; method: string; scale: number; html: boolean; png: boolean }) => {
      const report = await writeResultFigures({
        sweepDir: opts.sweep,
        outDir: opts.out,
        metric: opts.metric,
        method: opts.method,
        scale: opts.scale,
        html: opts.html,
        png: opts.png,
      });
      for (const path of report.written) console.log(`wrote ${path}`);
      for (const reason of report.skipped) console.log(`skipped ${reason}`);
    });
}
