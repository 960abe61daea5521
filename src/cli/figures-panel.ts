import type { Command } from 'commander';
import { writeRunPanel } from '../pipeline/run-panel.ts';
import { figuresCommandGroup } from './figures-data.ts';

/** `multicue figures panel RUN`: Fig. 2 (qualitative panel) of a finished run. */
export function registerFiguresPanel(program: Command): void {
  figuresCommandGroup(program)
    .command('panel')
    .description(
      'the qualitative panel of a run (Fig. 2): per defect kind its top-scoring test image, plus the top nominal one: input, ground truth, map overlay, binarised map, S(x)',
    )
    .argument('<run>', 'run directory (from train, demo or a sweep)')
    .requiredOption('--out <file.png>', 'PNG to write')
    .option('--title <text>', 'panel title (default: method, category, r, k, seed)')
    .action(async (runDir: string, opts: { out: string; title?: string }) => {
      console.log(`wrote ${await writeRunPanel(runDir, opts.out, { title: opts.title })}`);
    });
}
