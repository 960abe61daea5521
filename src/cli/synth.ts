import { type Command, InvalidArgumentError } from 'commander';
import { SYNTHETIC_CATEGORIES } from '../data/synthetic/categories.ts';
import { generateSyntheticDataset } from '../data/synthetic/generate.ts';

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('write the embedded synthetic dataset (MVTec-AD layout, exact masks) for demos and tests')
    .requiredOption('--out <dir>', 'output folder (category folders are written inside it)')
    .option('--seed <n>', 'random seed: the same seed writes byte-identical files', integer, 0)
    .option('--size <px>', 'image side', integer, 256)
    .option('--categories <list>', `comma-separated subset of: ${SYNTHETIC_CATEGORIES.map((c) => c.name).join(', ')}`)
    .option('--train <n>', 'nominal training images per category', integer, 60)
    .option('--test-good <n>', 'nominal test images per category', integer, 15)
    .option('--test-per-defect <n>', 'test images per defect kind per category', integer, 6)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Categories: ${SYNTHETIC_CATEGORIES.map((c) => `\n  ${c.name.padEnd(8)} ${c.kind.padEnd(8)} ${c.description}`).join('')}

Example:
  multicue synth --out runs/synthetic --seed 0
  multicue data inspect --format mvtec --root runs/synthetic --category washer`,
    )
    .action(
      async (opts: {
        out: string;
        seed: number;
        size: number;
        categories?: string;
        train: number;
        testGood: number;
        testPerDefect: number;
        json?: boolean;
      }) => {
        const started = Date.now();
        const summary = await generateSyntheticDataset({
          out: opts.out,
          seed: opts.seed,
          size: opts.size,
          categories: opts.categories?.split(',').map((s) => s.trim()).filter(Boolean),
          train: opts.train,
          testGood: opts.testGood,
          testPerDefect: opts.testPerDefect,
        });
        if (opts.json) {
          console.log(JSON.stringify(summary, null, 2));
          return;
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`wrote ${summary.files} files to ${summary.root} in ${seconds}s (seed ${summary.seed}, ${summary.size}²)`);
        for (const c of summary.categories) {
          const defects = Object.entries(c.defects).map(([d, n]) => `${d} ${n}`).join(', ');
          console.log(`  ${c.name.padEnd(8)} train/good ${c.train}, test/good ${c.testGood}, ${defects}`);
        }
      },
    );
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not an integer`);
  return n;
}
