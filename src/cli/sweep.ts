import type { Command } from 'commander';
import { relative } from 'node:path';
import { readSweepConfigFile, checkSweepInputs } from '../experiments/sweep-config.ts';
import { planSweep, runSweep } from '../experiments/sweep.ts';

interface SweepCliOptions {
  out?: string;
  dryRun?: boolean;
}

/** `multicue sweep CONFIG.json`: run (or resume) every cell of a sweep config. */
export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('run every cell of a sweep config (categories × methods × ratios × shots × seeds × α/λ × fusion weights); resumable')
    .argument('<config.json>', 'sweep config (see experiments/*.json); relative paths in it resolve from its folder')
    .option('--out <dir>', 'output folder instead of the config\'s "out" (resolved from the working directory)')
    .option('--dry-run', 'list the cells, what each will do and what is already done; run nothing')
    .addHelpText(
      'after',
      `
Output folder:
  runs/<category>/<cell>/   one run directory per cell, as \`multicue train\` writes it
  results.json              tidy MetricRows of every finished cell (rewritten after each cell)
  image-scores.json         per-image cues of the multicue/ADL cells
  failures.json             cells that failed, with their error (also <run>/error.json)
  features/                 the shared feature cache (unless base.featureCache says otherwise)

Rerunning the same command skips every finished cell (its run directory holds
metrics.json) and retries failed ones. Ctrl-C stops after the current cell; a
second Ctrl-C quits at once (that cell reruns next time). A finished cell whose
experiment.json differs from the config (another schedule, backbone, ...) is
refused before any work: delete it or use another --out.

Example:
  multicue sweep experiments/synthetic-contamination.json --dry-run
  multicue sweep experiments/magnetic-tile-contamination.json
  multicue results --sweep sweeps/magnetic-tile --out RESULTS.md`,
    )
    .action(async (configPath: string, opts: SweepCliOptions) => {
      const config = readSweepConfigFile(configPath, { out: opts.out });
      if (opts.dryRun) {
        try {
          checkSweepInputs(config, configPath);
        } catch (err) {
          // A dry run still lists the cells; the real run refuses.
          process.stderr.write(`warning: ${(err as Error).message}\n`);
        }
        printPlan(configPath, config.out, planSweep(config), config.description);
        return;
      }
      checkSweepInputs(config, configPath);
      const controller = new AbortController();
      let interrupts = 0;
      const onInterrupt = () => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        process.stderr.write('\nstopping after the current cell (Ctrl-C again to quit now; rerun the command to resume)\n');
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      process.on('SIGTERM', onInterrupt);
      const command = ['multicue sweep', configPath, ...(opts.out ? ['--out', opts.out] : [])].join(' ');
      try {
        const summary = await runSweep(config, { signal: controller.signal, command });
        const where = relative(process.cwd(), summary.out) || '.';
        console.log(
          `sweep ${where}: ${summary.cells} cells, ${summary.skipped} already done, ${summary.ran} ran now, ` +
            `${summary.failed.length} failed, ${summary.remaining} without results (${(summary.seconds / 60).toFixed(1)} min)`,
        );
        for (const f of summary.failed) console.log(`  FAILED ${f.dir}: ${f.message.split('\n')[0]}`);
        console.log(`results: ${where}/results.json`);
        if (summary.aborted) process.exitCode = 130;
        else if (summary.failed.length > 0) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
      }
    });
}

function printPlan(configPath: string, out: string, plan: ReturnType<typeof planSweep>, description?: string): void {
  if (description) console.log(description);
  const done = plan.filter((p) => p.state === 'done').length;
  const failed = plan.filter((p) => p.state === 'failed').length;
  const stale = plan.filter((p) => p.state === 'stale').length;
  const heavy = plan.filter((p) => p.state !== 'done' && p.action !== 'rescore').length;
  console.log(`${configPath}: ${plan.length} cells → ${out}`);
  console.log(`  ${done} done, ${failed} failed before, ${plan.length - done} to run (${heavy} train or fit, ${plan.length - done - heavy} re-score)`);
  if (stale > 0) console.log(`  ${stale} finished with other settings (stale): the sweep refuses to run until they are deleted`);
  const width = Math.max(...plan.map((p) => p.cell.category.length + p.cell.name.length + 1));
  for (const p of plan) {
    console.log(`  ${p.state.padEnd(6)} ${`${p.cell.category}/${p.cell.name}`.padEnd(width)}  ${p.action}`);
  }
}
