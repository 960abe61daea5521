/**
 * An error about the user's input: it names the file or folder at fault and says
 * how to fix it. The CLI prints these without a stack trace.
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly path?: string,
    readonly fix?: string,
  ) {
    super([message, path ? `  at: ${path}` : '', fix ? `  fix: ${fix}` : ''].filter(Boolean).join('\n'));
    this.name = 'InputError';
  }
}

/** Warnings go through one function so tests and notebooks can capture them. */
export type WarnFn = (message: string) => void;
export const warnToStderr: WarnFn = (message) => process.stderr.write(`warning: ${message}\n`);
