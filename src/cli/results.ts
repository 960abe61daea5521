import { type Command, InvalidArgumentError } from 'commander';
import { writeResultsMarkdown } from '../experiments/results-md.ts';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `multicue results`: RESULTS.md from sweep folders (their results.json and run directories only). */
export function registerResults(program: Command): void {
  program
    .command('results')
    .description('write RESULTS.md from sweep output: image AUROC/AUPRC and pixel AUROC (mean ± std over seeds) per method and contamination, the cue ablation, backbone and versions')
    .requiredOption('--sweep <dir>', 'a sweep folder holding results.json (repeatable: one section per sweep)', collect)
    .option('--out <file>', 'Markdown file to write', 'RESULTS.md')
    .option('--digits <n>', 'decimals of the numbers', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 6) throw new InvalidArgumentError(`"${v}" is not a whole number from 1 to 6`);
      return n;
    }, 3)
    .addHelpText(
      'after',
      `
The output is deterministic (no dates): the same sweep files give the same bytes.
It names the commands that regenerate it, taken from each sweep's sweep.json.

Example:
  multicue results --sweep sweeps/magnetic-tile --sweep sweeps/synthetic --out RESULTS.md`,
    )
    .action(async (opts: { sweep: string[]; out: string; digits: number }) => {
      await writeResultsMarkdown({ sweeps: opts.sweep, out: opts.out, digits: opts.digits });
      console.log(`wrote ${opts.out} from ${opts.sweep.join(', ')}`);
    });
}
