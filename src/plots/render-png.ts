/**
 * PNG rendering of plotly figures in headless Debian Chromium through
 * playwright-core. One browser (and one page holding the plotly bundle) is
 * reused for many figures; nothing is fetched from the network: the page is
 * set from content and every http(s) request is refused.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeFileAtomic } from '../util/atomic.ts';
import { InputError } from '../util/errors.ts';
import { DEFAULT_FIGURE_SIZE, type PlotlyFigure } from './figure.ts';
import { figureJson } from './html-export.ts';
import { plotlyBundle } from './plotly-bundle.ts';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface RenderOptions {
  width?: number;
  height?: number;
  /** Device pixel ratio: 2 gives a sharper PNG of twice the pixel size. */
  scale?: number;
}

export interface RendererOptions {
  /** Chromium binary; default MULTICUE_CHROMIUM or /usr/bin/chromium. */
  executablePath?: string;
  /** Milliseconds to wait for one figure to draw (default 60 s). */
  timeoutMs?: number;
}

/** The Chromium binary to use, or throws saying how to install it. */
export function chromiumPath(executablePath?: string): string {
  const path = executablePath ?? process.env.MULTICUE_CHROMIUM ?? DEFAULT_CHROMIUM;
  if (!existsSync(path)) {
    throw new InputError(
      'Chromium not found: PNG figures are rendered in headless Chromium',
      path,
      'install it (apt-get install chromium) or set MULTICUE_CHROMIUM to a Chromium binary; HTML figures (--no-png) do not need it',
    );
  }
  return path;
}

/** Renders figures to PNG with one shared headless browser; call close() when done. */
export class FigureRenderer {
  private browser: Browser | null = null;
  private page: Page | null = null;
  private scale = 0;
  private readonly timeoutMs: number;

  private constructor(private readonly executablePath: string, opts: RendererOptions) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  static async launch(opts: RendererOptions = {}): Promise<FigureRenderer> {
    const renderer = new FigureRenderer(chromiumPath(opts.executablePath), opts);
    renderer.browser = await chromium.launch({ executablePath: renderer.executablePath, args: CHROMIUM_ARGS, headless: true });
    return renderer;
  }

  /** A page with the plotly bundle loaded, one per device scale. */
  private async pageFor(scale: number): Promise<Page> {
    if (this.page && this.scale === scale) return this.page;
    if (!this.browser) throw new Error('FigureRenderer is closed');
    await this.page?.context().close();
    const context = await this.browser.newContext({ deviceScaleFactor: scale, viewport: DEFAULT_FIGURE_SIZE });
    await context.route(/^(https?|wss?):/, (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(this.timeoutMs);
    const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;background:white}</style><script>${await plotlyBundle()}</script></head><body><div id="figure"></div></body></html>`;
    await page.setContent(html, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof (window as unknown as { Plotly?: unknown }).Plotly === 'object');
    this.page = page;
    this.scale = scale;
    return page;
  }

  /** The figure as PNG bytes of width × height CSS pixels (times scale). */
  async render(fig: PlotlyFigure, opts: RenderOptions = {}): Promise<Buffer> {
    const width = opts.width ?? fig.layout.width ?? DEFAULT_FIGURE_SIZE.width;
    const height = opts.height ?? fig.layout.height ?? DEFAULT_FIGURE_SIZE.height;
    const page = await this.pageFor(opts.scale ?? 1);
    await page.setViewportSize({ width, height });
    const json = figureJson({ data: fig.data, layout: { ...fig.layout, width, height } });
    const error = await page.evaluate(async (figText: string) => {
      const w = window as unknown as { Plotly: { newPlot(div: HTMLElement, data: unknown, layout: unknown, config: unknown): Promise<unknown>; purge(div: HTMLElement): void } };
      const div = document.getElementById('figure') as HTMLElement;
      const fig = JSON.parse(figText) as { data: unknown; layout: { width: number; height: number } };
      div.style.width = `${fig.layout.width}px`;
      div.style.height = `${fig.layout.height}px`;
      try {
        w.Plotly.purge(div);
        await w.Plotly.newPlot(div, fig.data, fig.layout, { staticPlot: true, displayModeBar: false });
        return null;
      } catch (err) {
        return String(err);
      }
    }, json);
    if (error) throw new Error(`plotly could not draw the figure: ${error}`);
    return page.locator('#figure').screenshot({ type: 'png', animations: 'disabled' });
  }

  /** Render and write a PNG atomically. */
  async renderToFile(fig: PlotlyFigure, path: string, opts: RenderOptions = {}): Promise<void> {
    await writeFileAtomic(path, await this.render(fig, opts));
  }

  async close(): Promise<void> {
    const browser = this.browser;
    this.browser = null;
    this.page = null;
    await browser?.close();
  }
}

/** Render one figure to a PNG file (launches and closes a browser; use FigureRenderer for many). */
export async function renderFigurePng(fig: PlotlyFigure, path: string, opts: RenderOptions & RendererOptions = {}): Promise<void> {
  const renderer = await FigureRenderer.launch(opts);
  try {
    await renderer.renderToFile(fig, path, opts);
  } finally {
    await renderer.close();
  }
}
