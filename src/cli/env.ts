import type { Command } from 'commander';
import { environmentReport } from '../engine/backend.ts';

export function registerEnv(program: Command): void {
  program
    .command('env')
    .description('print the TensorFlow.js backend, threads and versions')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const report = await environmentReport();
      if (opts.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      console.log(`backend:   ${report.backend} (tfjs "${report.tfBackend}")`);
      console.log(`threads:   ${report.threads ?? 'n/a'}`);
      console.log(`cpus:      ${report.cpus}`);
      console.log(`node:      ${report.node}`);
      for (const [name, version] of Object.entries(report.versions)) console.log(`${name}: ${version}`);
      for (const [name, present] of Object.entries(report.optionalBackends)) {
        console.log(`optional ${name}: ${present ? 'installed' : 'not installed'}`);
      }
    });
}
