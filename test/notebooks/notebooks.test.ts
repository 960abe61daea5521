import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/util/paths.ts';

/**
 * The committed notebooks: valid nbformat-4 JSON for the tslab kernel, teaching
 * prose between the code, the library loaded from src/ the one way tslab
 * allows, and the outputs of a smoke run (figures included, no errors).
 * Executing them is `npm run notebooks` (jupyter), not this test.
 */

interface Cell {
  cell_type: 'markdown' | 'code' | 'raw';
  source: string[] | string;
  outputs?: { output_type: string; data?: Record<string, unknown>; name?: string; text?: string[] | string }[];
}
interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: { kernelspec?: { name: string; language: string } };
  cells: Cell[];
}

const dir = join(REPO_ROOT, 'notebooks');
const EXPECTED = [
  '01-quickstart.ipynb',
  '02-contamination-robustness.ipynb',
  '03-sensitivity-drops.ipynb',
  '04-shot-efficiency.ipynb',
  '05-cue-distributions-and-ablation.ipynb',
  '06-fusion-and-alpha-lambda-grid.ipynb',
  '07-qualitative-localization.ipynb',
];
const text = (s: string[] | string | undefined) => (Array.isArray(s) ? s.join('') : (s ?? ''));
const load = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Notebook;

test('the seven notebooks are there', () => {
  const found = readdirSync(dir).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort();
  assert.deepEqual(found, EXPECTED);
});

for (const name of EXPECTED) {
  test(`${name}: nbformat 4, tslab kernel, prose, library from src/, smoke outputs with figures`, () => {
    const nb = load(name);
    assert.equal(nb.nbformat, 4);
    assert.equal(nb.metadata.kernelspec?.name, 'tslab');
    const markdown = nb.cells.filter((c) => c.cell_type === 'markdown');
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.match(text(markdown[0]?.source), /^# 0\d · /, 'opens with a numbered title');
    assert.ok(markdown.length >= 4, `${markdown.length} markdown cells: a teaching notebook explains each step`);
    assert.ok(markdown.map((c) => text(c.source)).join('').length > 1500, 'substantial prose');
    // tslab compiles cells on its own; the library is loaded at run time through tsx.
    assert.match(text(code[0].source), /require\('tsx\/cjs\/api'\)\.require\('\.\.\/src\/index\.ts'/);
    assert.match(text(code[0].source), /notebookScale\(\)/);
    for (const cell of code) {
      assert.doesNotMatch(text(cell.source), /^\s*import .* from ['"]\.\.\/src/m, 'no static import of src (fails under tslab)');
      assert.ok((cell.outputs ?? []).length > 0, `every code cell has outputs from a smoke run: ${text(cell.source).slice(0, 60)}`);
      assert.ok(!(cell.outputs ?? []).some((o) => o.output_type === 'error'), 'no error outputs');
    }
    const figures = code.flatMap((c) => c.outputs ?? []).filter((o) => o.data && ('image/png' in o.data || 'text/html' in o.data));
    assert.ok(figures.some((o) => 'image/png' in (o.data ?? {})), 'at least one figure rendered inline');
    const printed = code.flatMap((c) => c.outputs ?? []).map((o) => text(o.text)).join('');
    assert.match(printed, /scale smoke/, 'the committed outputs come from a smoke run');
    assert.match(text(code[code.length - 1].source), /figures\.close\(\)/, 'the last cell closes the PNG renderer');
  });
}
