#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the package needs no build step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const tsxLoader = require.resolve('tsx');
// Ctrl-C reaches the child too (same process group); stay alive until it has finished its cleanup.
process.on('SIGINT', () => {});
const result = spawnSync(
  process.execPath,
  ['--import', tsxLoader, join(here, '..', 'src', 'cli', 'main.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
