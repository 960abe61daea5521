import type { Command } from 'commander';
import { registerEnv } from './env.ts';
import { registerWeights } from './weights.ts';
import { registerData } from './data.ts';
import { registerSplit } from './split.ts';
import { registerBackbone } from './backbone.ts';
import { registerSynth } from './synth.ts';
import { registerFiguresData } from './figures-data.ts';
import { registerFiguresPanel } from './figures-panel.ts';
import { registerFiguresResults } from './figures-results.ts';
import { registerTrain } from './train.ts';
import { registerPredict } from './predict.ts';
import { registerEval } from './eval.ts';
import { registerDemo } from './demo.ts';
import { registerSweep } from './sweep.ts';
import { registerResults } from './results.ts';

/** Every CLI command registers itself here: one file per command in src/cli/. */
export function registerCommands(program: Command): void {
  registerEnv(program);
  registerWeights(program);
  registerData(program);
  registerSplit(program);
  registerBackbone(program);
  registerSynth(program);
  registerFiguresData(program);
  registerFiguresResults(program);
  registerFiguresPanel(program);
  registerTrain(program);
  registerPredict(program);
  registerEval(program);
  registerDemo(program);
  registerSweep(program);
  registerResults(program);
}
