/**
 * Figures are plain plotly.js specs ({data, layout}) built by pure functions,
 * so a notebook can show them inline, the CLI can write them as HTML and PNG,
 * and tests can read their axes and traces.
 */
import type { Data, Layout } from 'plotly.js-dist';

export interface PlotlyFigure {
  data: Data[];
  layout: Partial<Layout>;
}

/** Default size the HTML and PNG exports use when a figure sets none. */
export const DEFAULT_FIGURE_SIZE = { width: 900, height: 560 };

/**
 * A shared look: white background, readable fonts, legend outside the plot
 * area. A long subtitle ("a; b; c") is wrapped at its "; " to fit the width.
 */
export function baseLayout(
  title: string,
  subtitle?: string,
  opts: { width?: number; height?: number; titleGap?: number } = {},
): Partial<Layout> {
  const lines = subtitle ? wrapAtSemicolons(subtitle, Math.floor((opts.width ?? DEFAULT_FIGURE_SIZE.width) / 7.2)) : [];
  return {
    title: {
      text: title,
      subtitle: lines.length ? { text: lines.join('<br>'), font: { size: 13, color: '#555' } } : undefined,
      x: 0.5,
      xanchor: 'center',
      // Pinned 12 px below the top edge; the top margin below is sized for the subtitle lines.
      y: 1 - 12 / (opts.height ?? DEFAULT_FIGURE_SIZE.height),
      yref: 'container',
      yanchor: 'top',
      font: { size: 18 },
    },
    font: { family: 'DejaVu Sans, Liberation Sans, Arial, sans-serif', size: 14, color: '#222' },
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    margin: { l: 80, r: 30, t: 12 + 28 + 19 * lines.length + (opts.titleGap ?? 14), b: 70 },
    legend: { orientation: 'v', x: 1.02, xanchor: 'left', y: 1, yanchor: 'top', bordercolor: '#ccc', borderwidth: 1, font: { size: 13 } },
    hovermode: 'closest',
  };
}

/** An axis with a title and light grid lines. */
export function axis(title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: { text: title, font: { size: 15 } },
    showgrid: true,
    gridcolor: '#e5e5e5',
    zeroline: false,
    showline: true,
    linecolor: '#444',
    ticks: 'outside',
    automargin: true,
    ...extra,
  };
}

/** Split "a; b; c" into lines of at most maxChars characters, breaking only after "; ". */
export function wrapAtSemicolons(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const part of text.split('; ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 2 + part.length <= maxChars) lines[last] += `; ${part}`;
    else lines.push(part);
  }
  return lines;
}

/** "1 seed", "3 seeds": a count with its noun. */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** What a figure's numbers cover: "mean over 3 categories" or "category carpet". */
export function categoryScope(category: string, meanCategory: string, categoryCount: number): string {
  return category === meanCategory ? `mean over ${countOf(categoryCount, 'category', 'categories')}` : `category ${category}`;
}

/** A y-axis tick format for scores in [0, 1]: three decimals at most, trailing zeros dropped, so close ticks stay distinct. */
export const SCORE_TICK_FORMAT = '.3~f';
