import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { exampleSweepResults } from '../../src/experiments/example-results.ts';
import { resultsTable } from '../../src/experiments/tables.ts';
import { robustnessFigure } from '../../src/plots/robustness.ts';
import { relativeDropFigure } from '../../src/plots/relative-drop.ts';
import { figureHtml, writeFigureHtml } from '../../src/plots/html-export.ts';
import { notebookDisplay, resetNotebookBundle } from '../../src/plots/notebook.ts';
import { chromiumPath, DEFAULT_CHROMIUM, FigureRenderer, renderFigurePng } from '../../src/plots/render-png.ts';
import type { PlotlyFigure } from '../../src/plots/figure.ts';

const table = resultsTable(exampleSweepResults({ categories: ['carpet'], seeds: [0, 1], fusionStep: 0, alphas: [0.1], lambdas: [0.1], imagesPerCell: 2 }).metrics);
const hasChromium = existsSync(process.env.MULTICUE_CHROMIUM ?? DEFAULT_CHROMIUM);

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'multicue-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every <script> and <link> that points outside the file. */
function externalReferences(html: string): string[] {
  return [...html.matchAll(/<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?[^"'\s>]+/gi)].map((m) => m[0]);
}

test('figure HTML is self-contained: plotly inlined, no external script or link, figure JSON safe inside <script>', async (t) => {
  const fig = robustnessFigure(table);
  // A hostile trace name must not end the script element early.
  (fig.data[0] as { name: string }).name = '</script><b>x</b>';
  const html = await figureHtml(fig);
  assert.deepEqual(externalReferences(html), []);
  assert.ok(html.length > 1_000_000, 'the plotly bundle is inlined');
  assert.match(html, /window\.Plotly/);
  assert.equal(html.match(/<\/script>/g)!.length, 2, 'exactly the bundle and the figure scripts close');
  assert.match(html, /<title>Image AUROC vs training contamination<\/title>/);
  const path = join(tempDir(t), 'figures', 'robustness.html');
  await writeFigureHtml(relativeDropFigure(table), path);
  assert.deepEqual(externalReferences(readFileSync(path, 'utf8')), []);
  // NaN in a figure becomes null: a gap for plotly, valid JSON.
  const gap: PlotlyFigure = { data: [{ type: 'heatmap', z: [[1, NaN]] }], layout: { title: { text: 'gap' } } };
  assert.match(await figureHtml(gap), /"z":\[\[1,null\]\]/);
});

test('notebookDisplay inlines plotly once per kernel (or always), then only draws', async () => {
  resetNotebookBundle();
  const fig = robustnessFigure(table);
  const first = await notebookDisplay(fig);
  const second = await notebookDisplay(fig);
  const always = await notebookDisplay(fig, { bundle: 'always' });
  assert.ok(first.length > 1_000_000 && always.length > 1_000_000);
  assert.ok(second.length < 100_000, 'the second figure does not repeat the bundle');
  for (const html of [first, second, always]) {
    assert.deepEqual(externalReferences(html), []);
    const id = html.match(/<div id="(multicue-figure-[0-9a-f]+)"/)![1];
    assert.ok(html.includes(`newPlot(${JSON.stringify(id)}`), 'the script draws into its own div');
  }
  assert.notEqual(first.match(/multicue-figure-[0-9a-f]+/)![0], second.match(/multicue-figure-[0-9a-f]+/)![0]);
});

test('a missing Chromium is a clear error that says how to install it', () => {
  assert.throws(() => chromiumPath('/nonexistent/chromium'), /apt-get install chromium/);
});

test('PNG rendering in headless Chromium: requested size, not blank, one browser for several figures', { timeout: 120_000 }, async (t) => {
  if (!hasChromium) return t.skip(`no Chromium at ${DEFAULT_CHROMIUM} (apt-get install chromium): PNG rendering not tested`);
  const dir = tempDir(t);
  const renderer = await FigureRenderer.launch();
  try {
    const figures = [robustnessFigure(table), relativeDropFigure(table)];
    for (const [i, fig] of figures.entries()) {
      const png = await renderer.render(fig, { width: 640, height: 400 });
      const image = sharp(png);
      const meta = await image.metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 640, 400], `figure ${i}`);
      const stats = await image.stats();
      assert.ok(stats.channels.some((c) => c.stdev > 5), `figure ${i} is not blank`);
      // The title's dark text and the traces' colours are drawn on the white page.
      assert.ok(stats.channels.every((c) => c.min < 100 && c.max > 240), `figure ${i} has ink on paper`);
    }
    const sharp2 = await sharp(await renderer.render(figures[0], { width: 320, height: 200, scale: 2 })).metadata();
    assert.deepEqual([sharp2.width, sharp2.height], [640, 400], 'scale 2 doubles the pixels');
  } finally {
    await renderer.close();
  }
  const path = join(dir, 'one.png');
  await renderFigurePng(robustnessFigure(table), path);
  const meta = await sharp(path).metadata();
  assert.deepEqual([meta.width, meta.height], [900, 560], 'the default size');
});

test('notebook HTML draws in a browser: the first output loads plotly, later outputs reuse it', { timeout: 120_000 }, async (t) => {
  if (!hasChromium) return t.skip(`no Chromium at ${DEFAULT_CHROMIUM} (apt-get install chromium): notebook HTML not rendered`);
  const { chromium } = await import('playwright-core');
  resetNotebookBundle();
  const outputs = [await notebookDisplay(robustnessFigure(table)), await notebookDisplay(relativeDropFigure(table))];
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.route(/^https?:/, (route) => route.abort());
    // Like a notebook page: each output cell appended as its own HTML fragment.
    await page.setContent('<!DOCTYPE html><html><body></body></html>');
    for (const html of outputs) {
      await page.evaluate((fragment: string) => {
        const cell = document.createElement('div');
        cell.innerHTML = fragment;
        document.body.appendChild(cell);
        // innerHTML does not run scripts: re-create them in order, as Jupyter does for trusted output.
        for (const script of Array.from(cell.querySelectorAll('script'))) {
          const copy = document.createElement('script');
          copy.textContent = script.textContent;
          script.replaceWith(copy);
        }
      }, html);
    }
    await page.waitForFunction(() => Object.keys((window as unknown as { __multicuePlotted?: object }).__multicuePlotted ?? {}).length === 2, undefined, { timeout: 60_000 });
    assert.equal(await page.locator('.js-plotly-plot').count(), 2);
  } finally {
    await browser.close();
  }
});
