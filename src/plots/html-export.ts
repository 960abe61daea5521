/**
 * Self-contained HTML for a figure: the plotly.js bundle and the figure JSON
 * are inlined, so the file opens offline and renders the same in a browser,
 * in headless Chromium (render-png.ts) and in a notebook.
 */
import { writeFileAtomic } from '../util/atomic.ts';
import { DEFAULT_FIGURE_SIZE, type PlotlyFigure } from './figure.ts';
import { plotlyBundle, scriptSafe } from './plotly-bundle.ts';

/** Figure JSON that is safe inside a <script> element (NaN becomes null: a gap). */
export function figureJson(fig: PlotlyFigure): string {
  return scriptSafe(JSON.stringify({ data: fig.data, layout: fig.layout }));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The page title: the figure's title without its HTML subtitle. */
export function figureTitle(fig: PlotlyFigure): string {
  const title = fig.layout.title;
  const text = typeof title === 'string' ? title : (title?.text ?? 'figure');
  return text.split('<br>')[0].replace(/<[^>]*>/g, '');
}

/**
 * The script that draws a figure into the element with `divId` and sets
 * window.__multicuePlotted[divId] once plotly has finished (the PNG renderer waits for it).
 */
export function plotScript(fig: PlotlyFigure, divId: string, opts: { responsive?: boolean } = {}): string {
  const config = JSON.stringify({ responsive: opts.responsive ?? true, displaylogo: false });
  return `(function () {
  var fig = ${figureJson(fig)};
  var done = (window.__multicuePlotted = window.__multicuePlotted || {});
  window.Plotly.newPlot(${JSON.stringify(divId)}, fig.data, fig.layout, ${config}).then(function () { done[${JSON.stringify(divId)}] = true; });
})();`;
}

/** A complete, self-contained HTML page showing the figure. */
export async function figureHtml(fig: PlotlyFigure): Promise<string> {
  const width = fig.layout.width ?? DEFAULT_FIGURE_SIZE.width;
  const height = fig.layout.height ?? DEFAULT_FIGURE_SIZE.height;
  const sized: PlotlyFigure = { data: fig.data, layout: { width, height, ...fig.layout } };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(figureTitle(fig))}</title>
<style>html, body { margin: 0; background: white; } #figure { width: ${width}px; height: ${height}px; }</style>
<script>${await plotlyBundle()}</script>
</head>
<body>
<div id="figure"></div>
<script>${plotScript(sized, 'figure', { responsive: false })}</script>
</body>
</html>
`;
}

/** Write the figure as a self-contained HTML file (atomically). */
export async function writeFigureHtml(fig: PlotlyFigure, path: string): Promise<void> {
  await writeFileAtomic(path, await figureHtml(fig));
}

/** A self-contained HTML page showing a PNG (for figures composed as pixels, like the qualitative panel). */
export function imageHtml(title: string, png: Uint8Array): string {
  const data = Buffer.from(png).toString('base64');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>html, body { margin: 0; background: white; } img { display: block; max-width: 100%; }</style>
</head>
<body>
<img alt="${escapeHtml(title)}" src="data:image/png;base64,${data}">
</body>
</html>
`;
}
