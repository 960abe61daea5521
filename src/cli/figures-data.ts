import { type Command, InvalidArgumentError } from 'commander';
import { anomalySource } from '../data/anomaly-source.ts';
import { writeDataFigures } from '../data/synthetic/figures.ts';

/**
 * The `multicue figures` command group. Other files add their figures as
 * subcommands through `figuresCommandGroup` (commander would otherwise
 * register "figures" twice).
 */
export function figuresCommandGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'figures') ??
    program.command('figures').description('draw the figures (PNG) of the docs and reports')
  );
}

export function registerFiguresData(program: Command): void {
  figuresCommandGroup(program)
    .command('data')
    .description('draw synthetic-montage.png (the synthetic dataset) and pseudo-anomalies.png (METHOD §1.4)')
    .option('--out <dir>', 'output folder', 'figures')
    .option('--seed <n>', 'random seed', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${v}" is not a non-negative integer`);
      return n;
    }, 0)
    .option('--anomaly-source <dir>', 'folder of texture images (e.g. DTD) for the pseudo-anomalies; default procedural')
    .action(async (opts: { out: string; seed: number; anomalySource?: string }) => {
      const paths = await writeDataFigures({
        outDir: opts.out,
        seed: opts.seed,
        anomalySource: opts.anomalySource ? anomalySource(opts.anomalySource) : undefined,
      });
      console.log(`wrote ${paths.syntheticMontage}`);
      console.log(`wrote ${paths.pseudoAnomalies}`);
    });
}
