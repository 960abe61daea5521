/**
 * Figures inline in a tslab (Jupyter) notebook. tslab shows rich output through
 * `display.html(string)` (and `display.png(bytes)`); notebookDisplay builds the
 * HTML: a div plus a script drawing the figure with plotly, with the plotly
 * bundle inlined the first time in the kernel (or every time, for notebooks
 * whose cells are re-run out of order or exported one output at a time).
 *
 *   import { display } from 'tslab';
 *   display.html(await notebookDisplay(robustnessFigure(table)));
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_FIGURE_SIZE, type PlotlyFigure } from './figure.ts';
import { plotScript } from './html-export.ts';
import { plotlyBundle } from './plotly-bundle.ts';
import { FigureRenderer, type RenderOptions } from './render-png.ts';

export interface NotebookDisplayOptions {
  /** 'once' (default): inline plotly only in the first figure of this kernel; 'always': in every figure. */
  bundle?: 'once' | 'always';
}

let bundleInlined = false;

/** The HTML that shows a figure in a notebook output cell. */
export async function notebookDisplay(fig: PlotlyFigure, opts: NotebookDisplayOptions = {}): Promise<string> {
  const includeBundle = opts.bundle === 'always' || !bundleInlined;
  const divId = `multicue-figure-${randomBytes(6).toString('hex')}`;
  const height = fig.layout.height ?? DEFAULT_FIGURE_SIZE.height;
  const width = fig.layout.width;
  const style = `height:${height}px;${width ? `width:${width}px;` : 'width:100%;'}`;
  // Without the bundle in this output, the page may still be loading it from an earlier one: wait for it.
  const draw = plotScript(fig, divId);
  const script = `(function draw(tries) {
  if (window.Plotly) { ${draw} }
  else if (tries > 0) setTimeout(function () { draw(tries - 1); }, 100);
  else document.getElementById(${JSON.stringify(divId)}).textContent = 'plotly.js is not loaded on this page: re-run with notebookDisplay(fig, { bundle: "always" })';
})(50);`;
  const html = `${includeBundle ? `<script>${await plotlyBundle()}</script>` : ''}<div id="${divId}" style="${style}"></div><script>${script}</script>`;
  if (includeBundle) bundleInlined = true;
  return html;
}

/**
 * Show a figure in the running tslab notebook: interactive HTML by default, or
 * a PNG rendered in Chromium (`as: 'png'`, for notebooks viewed statically).
 */
export async function showFigure(fig: PlotlyFigure, opts: NotebookDisplayOptions & RenderOptions & { as?: 'html' | 'png' } = {}): Promise<void> {
  const tslab = await import('tslab').catch(() => null);
  if (!tslab) throw new Error('showFigure needs the tslab notebook kernel (npm package "tslab"); outside a notebook use writeFigureHtml or renderFigurePng');
  if (opts.as === 'png') {
    const renderer = await FigureRenderer.launch();
    try {
      tslab.display.png(await renderer.render(fig, opts));
    } finally {
      await renderer.close();
    }
  } else {
    tslab.display.html(await notebookDisplay(fig, opts));
  }
}

/** Forget that the bundle was inlined (after the notebook's outputs were cleared). */
export function resetNotebookBundle(): void {
  bundleInlined = false;
}
