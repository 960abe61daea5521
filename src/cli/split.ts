import type { Command } from 'commander';
import { loadDataset } from '../data/load-dataset.ts';
import { writeManifest } from '../data/manifest.ts';
import { buildManifest } from '../data/protocol.ts';
import { addDataOptions, cliNumber, dataSpecFromOptions, type DataOptions } from '../data/spec.ts';

interface SplitOptions extends DataOptions {
  ratio: string;
  shots: string;
  seed: string;
  noiseStd: string;
  withReplacement?: boolean;
  out: string;
  json?: boolean;
}

/** Split's numeric options all have defaults, so a value is always there. */
const numberOption = (value: string, option: string): number => cliNumber(value, option)!;

export function registerSplit(program: Command): void {
  const split = program
    .command('split')
    .description('draw few-shot, contaminating and test images (METHOD §1.1-1.3) and write the manifest')
    .addHelpText(
      'after',
      `
n_c = floor(r/(1-r) * N_good_train) contaminating anomalies (trained on as nominal, with
Gaussian noise) and k few-shot anomalies come from the test anomalies; the test set keeps
the rest. Same seed, same manifest bytes.`,
    );
  addDataOptions(split)
    .option('--ratio <r>', 'contamination ratio r in [0,1)', '0.1')
    .option('--shots <k>', 'few-shot real anomalies k', '10')
    .option('--seed <n>', 'seed of the draws', '0')
    .option('--noise-std <s>', 'std of the Gaussian noise on contaminating images ([0,1] scale)', '0.1')
    .option('--with-replacement', 'draw contaminating anomalies more than once when too few exist')
    .requiredOption('--out <manifest.json>', 'where to write the manifest')
    .option('--json', 'print the counts as JSON')
    .action((opts: SplitOptions) => {
      const dataSpec = dataSpecFromOptions(opts);
      const dataset = loadDataset(dataSpec);
      for (const w of dataset.warnings) process.stderr.write(`warning: ${w}\n`);
      const manifest = buildManifest(dataset, dataSpec, {
        ratio: numberOption(opts.ratio, '--ratio'),
        shots: numberOption(opts.shots, '--shots'),
        seed: numberOption(opts.seed, '--seed'),
        noiseStd: numberOption(opts.noiseStd, '--noise-std'),
        withReplacement: Boolean(opts.withReplacement),
      });
      writeManifest(opts.out, manifest);
      if (opts.json) {
        console.log(JSON.stringify({ out: opts.out, counts: manifest.counts }, null, 2));
        return;
      }
      const c = manifest.counts;
      const { ratio, shots, seed } = manifest.params;
      console.log(`${dataset.format} "${dataset.category}": ratio ${ratio}, shots ${shots}, seed ${seed}`);
      console.log(`  nominal        ${String(c.nominal).padStart(6)}  (train, label 0)`);
      console.log(`  contamination  ${String(c.contamination).padStart(6)}  (train, seen as 0, truly 1${c.contaminationRepeats ? `; ${c.contaminationRepeats} repeats` : ''})`);
      console.log(`  fewshot        ${String(c.fewshot).padStart(6)}  (train, label 1)`);
      console.log(`  test           ${String(c.test).padStart(6)}  (${c.testNominal} nominal, ${c.testAnomalous} anomalous)`);
      console.log(`wrote ${opts.out}`);
    });
}
