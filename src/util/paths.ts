import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The team's shared folder (datasets, weights, test vectors) that sits beside a
 * checkout as ../shared. MULTICUE_SHARED overrides. Returns null when absent.
 */
export function sharedDir(): string | null {
  const candidates = [process.env.MULTICUE_SHARED, join(REPO_ROOT, '..', 'shared')].filter(
    (p): p is string => Boolean(p),
  );
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** A path under shared/, or throws naming what is missing (tests use this). */
export function sharedPath(...parts: string[]): string {
  const dir = sharedDir();
  if (!dir) throw new Error('shared/ folder not found beside the checkout; set MULTICUE_SHARED to its path');
  return join(dir, ...parts);
}
