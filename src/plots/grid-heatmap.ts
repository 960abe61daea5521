/**
 * Grid-search heatmaps: fusion weights (w_d rows × w_u columns, w_s = 1 − w_d − w_u)
 * and reweighting (α rows × λ columns). Each cell shows the seed-mean metric;
 * grey cells are invalid (w_d + w_u > 1) or were not run; a star marks the best.
 */
import type { Data, Shape } from 'plotly.js-dist';
import type { ParameterGrid } from '../experiments/grids.ts';
import { metricLabel } from '../experiments/results-schema.ts';
import { describeSetting } from '../experiments/settings.ts';
import { MEAN_CATEGORY } from '../experiments/tables.ts';
import { axis, baseLayout, type PlotlyFigure } from './figure.ts';
import { methodName } from './palette.ts';

const SYMBOLS: Record<string, string> = { w_d: 'w_d', w_u: 'w_u', alpha: 'α', lambda: 'λ' };

const AXIS_TITLES: Record<string, string> = {
  w_d: 'Deviation weight w_d',
  w_u: 'Uncertainty weight w_u',
  alpha: 'α-divergence order α',
  lambda: 'Reweighting temperature λ',
};

export function gridHeatmapFigure(grid: ParameterGrid, title: string, note: string): PlotlyFigure {
  const x = grid.columnValues.map(String);
  const y = grid.rowValues.map(String);
  const z = grid.mean.map((row) => row.map((v) => (Number.isFinite(v) ? v : null)));
  const text = grid.mean.map((row, i) =>
    row.map((v, j) => (Number.isFinite(v) ? `${v.toFixed(3)}${grid.std[i][j] !== null ? `<br>±${(grid.std[i][j] as number).toFixed(3)}` : ''}` : '')),
  );
  const data: Data[] = [
    {
      type: 'heatmap',
      x,
      y,
      z,
      text,
      texttemplate: '%{text}',
      textfont: { size: 12 },
      hoverongaps: false,
      colorscale: 'Viridis',
      colorbar: { title: { text: metricLabel(grid.metric), side: 'right' }, thickness: 18 },
      hovertemplate: `${grid.rowName} = %{y}, ${grid.columnName} = %{x}<br>${metricLabel(grid.metric)} = %{z:.4f}<extra></extra>`,
      xgap: 2,
      ygap: 2,
    },
  ];
  // The best cell gets a red frame (category axes place cell i at i ± 0.5).
  const shapes: Partial<Shape>[] = grid.best
    ? [
        {
          type: 'rect',
          xref: 'x',
          yref: 'y',
          x0: grid.columnValues.indexOf(grid.best.column) - 0.5,
          x1: grid.columnValues.indexOf(grid.best.column) + 0.5,
          y0: grid.rowValues.indexOf(grid.best.row) - 0.5,
          y1: grid.rowValues.indexOf(grid.best.row) + 0.5,
          line: { color: '#e4002b', width: 4 },
        },
      ]
    : [];
  const scope = grid.category === MEAN_CATEGORY ? 'mean over categories' : `category ${grid.category}`;
  const fixed = describeSetting({ [grid.method]: grid.fixed });
  const best = grid.best ? `red frame: best ${grid.best.mean.toFixed(3)} at ${SYMBOLS[grid.rowName] ?? grid.rowName} = ${grid.best.row}, ${SYMBOLS[grid.columnName] ?? grid.columnName} = ${grid.best.column}` : 'no valid cell';
  const side = Math.max(380, 80 * Math.max(x.length, y.length));
  const width = side + 260;
  const subtitle = `${methodName(grid.method)}, ${scope}, seed mean ± std; ${best}; ${note}${fixed ? `; ${fixed}` : ''}`;
  // The height depends on the subtitle's line count, the title position on the height.
  const height = side + (baseLayout(title, subtitle, { width }).margin?.t ?? 80) + 90;
  const base = baseLayout(title, subtitle, { width, height });
  return {
    data,
    layout: {
      ...base,
      xaxis: axis(AXIS_TITLES[grid.columnName] ?? grid.columnName, { type: 'category', showgrid: false }),
      yaxis: axis(AXIS_TITLES[grid.rowName] ?? grid.rowName, { type: 'category', showgrid: false }),
      plot_bgcolor: '#d9d9d9',
      shapes,
      width,
      height,
    },
  };
}

export function fusionGridFigure(grid: ParameterGrid): PlotlyFigure {
  return gridHeatmapFigure(grid, `${metricLabel(grid.metric)} over fusion weights`, 'w_s = 1 − w_d − w_u; grey: w_d + w_u > 1 or not run');
}

export function alphaLambdaGridFigure(grid: ParameterGrid): PlotlyFigure {
  return gridHeatmapFigure(grid, `${metricLabel(grid.metric)} over reweighting α and λ`, 'grey: not run');
}
