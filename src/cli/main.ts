#!/usr/bin/env node
import { Command } from 'commander';
import { InputError } from '../util/errors.ts';
import { registerCommands } from './commands.ts';

const program = new Command();
program
  .name('multicue')
  .description('Visual anomaly detection and localization under training-data contamination')
  .option('--backend <name>', 'force a TensorFlow.js backend: node-gpu | node | wasm | cpu')
  .hook('preAction', (cmd) => {
    const backend = cmd.opts().backend as string | undefined;
    if (backend) process.env.MULTICUE_BACKEND = backend;
  });

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof InputError) {
    process.stderr.write(`error: ${err.message}\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
