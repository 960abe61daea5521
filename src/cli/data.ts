import type { Command } from 'commander';
import { checkDataset, formatCheckReport, formatSummary, summarizeDataset } from '../data/inspect.ts';
import { loadDataset } from '../data/load-dataset.ts';
import { addDataOptions, dataSpecFromOptions, type DataOptions } from '../data/spec.ts';

/**
 * The `multicue data` command group. Other files may add subcommands through
 * `dataCommandGroup` (commander would otherwise register "data" twice).
 */
export function dataCommandGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'data') ??
    program.command('data').description('datasets: inspect layouts, counts and masks')
  );
}

export function registerData(program: Command): void {
  const inspect = dataCommandGroup(program)
    .command('inspect')
    .description('list a dataset: images per split and defect class, masks found/missing, warnings')
    .addHelpText(
      'after',
      `
Example (magnetic tile, a folder layout with masks <stem>.png beside <stem>.jpg):
  multicue data inspect --format folder --root ../shared/data/magnetic-tile --category magnetic-tile \\
    --nominal MT_Free/Imgs --anomalous 'MT_{Blowhole,Break,Crack,Fray,Uneven}/Imgs' \\
    --images '*.jpg' --mask-pattern '{stem}.png'
Exit status 1 when --check finds files that cannot be decoded.`,
    );
  addDataOptions(inspect)
    .option('--check', 'decode every image and mask, report corrupt files and mask/image size mismatches')
    .option('--json', 'print JSON')
    .action(async (opts: DataOptions & { check?: boolean; json?: boolean }) => {
      const dataset = loadDataset(dataSpecFromOptions(opts));
      const summary = summarizeDataset(dataset);
      const check = opts.check ? await checkDataset(dataset) : undefined;
      if (opts.json) {
        console.log(JSON.stringify({ summary, ...(check ? { check } : {}) }, null, 2));
      } else {
        console.log(formatSummary(summary));
        if (summary.warnings.length > 0) {
          console.log('\nwarnings:');
          for (const w of summary.warnings) console.log(`  - ${w}`);
        }
        if (check) console.log(`\n${formatCheckReport(check)}`);
      }
      if (check && check.corrupt.length > 0) process.exitCode = 1;
    });
}
