/**
 * The plotly.js bundle, inlined into every exported HTML so figures open
 * without a network. plotly.js-dist 4 ships only the unminified bundle
 * (~10 MB); it is minified once per process with esbuild (tsx's own
 * dependency), falling back to the unminified text if esbuild is unavailable.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cached: Promise<string> | null = null;

/** The plotly.js-dist version the figures are drawn with. */
export function plotlyVersion(): string {
  return (require('plotly.js-dist/package.json') as { version: string }).version;
}

/** The bundle's source text, minified when possible, safe to place inside a <script> element. */
export function plotlyBundle(): Promise<string> {
  cached ??= loadBundle();
  return cached;
}

async function loadBundle(): Promise<string> {
  const source = readFileSync(require.resolve('plotly.js-dist'), 'utf8');
  let code = source;
  try {
    const esbuild = await import('esbuild');
    code = (await esbuild.transform(source, { minify: true, legalComments: 'inline', charset: 'utf8' })).code;
  } catch {
    // Unminified still works; only the HTML files are larger.
  }
  return scriptSafe(code);
}

/** Inside <script>, the text "</script" would end the element early; "<\/script" means the same to JS. */
export function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
