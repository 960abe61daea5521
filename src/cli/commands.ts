import type { Command } from 'commander';
import { registerEnv } from './env.ts';

/** Every CLI command registers itself here: one file per command in src/cli/. */
export function registerCommands(program: Command): void {
  registerEnv(program);
}
