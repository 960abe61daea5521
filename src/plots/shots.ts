/**
 * Fig. 6: the few-shot sweep. Left: the metric against the number k of real
 * anomalies in training (mean ± 1 std over seeds); right: its relative gain
 * over the zero-shot model, (value_k − value_0) / value_0 in percent.
 */
import type { ColumnTable } from 'arquero';
import type { Data } from 'plotly.js-dist';
import { metricLabel } from '../experiments/results-schema.ts';
import { describeSetting, selectSetting, type Setting } from '../experiments/settings.ts';
import {
  filterRows,
  MEAN_CATEGORY,
  orderMethods,
  relativeGainOverZeroShots,
  rowsOf,
  whereEquals,
  withCategoryMean,
} from '../experiments/tables.ts';
import { axis, baseLayout, type PlotlyFigure, countOf, SCORE_TICK_FORMAT, categoryScope } from './figure.ts';
import { methodColour, methodName, methodSymbol } from './palette.ts';

export interface ShotsOptions {
  metric?: string;
  category?: string;
  fixed?: Setting;
}

interface GainRow {
  method: string;
  shots: number;
  mean: number;
  std: number | null;
  relative_gain: number | null;
}

export function shotsFigure(table: ColumnTable, opts: ShotsOptions = {}): PlotlyFigure {
  const metric = opts.metric ?? 'image_auroc';
  const category = opts.category ?? MEAN_CATEGORY;
  const rows = filterRows(whereEquals(table, { metric }), (d) => d.category !== MEAN_CATEGORY);
  const { table: selected, chosen } = selectSetting(rows, { vary: ['shots'], fixed: opts.fixed });
  const categories = new Set(rowsOf(selected).map((r) => r.category as string));
  const seeds = new Set(rowsOf(selected).map((r) => r.seed as number));
  const scoped = whereEquals(category === MEAN_CATEGORY ? withCategoryMean(selected) : selected, { category });
  const gains = rowsOf<GainRow>(relativeGainOverZeroShots(scoped, { metric }));
  const methods = orderMethods(gains.map((g) => g.method));
  const shots = [...new Set(gains.map((g) => g.shots))].sort((a, b) => a - b);

  const data: Data[] = [];
  const kRange = [shots[0] ?? 0, shots[shots.length - 1] ?? 0];
  for (const method of methods) {
    const points = gains.filter((g) => g.method === method).sort((a, b) => a.shots - b.shots);
    const style = {
      line: { color: methodColour(method, methods), width: method === 'multicue' ? 3 : 2 },
      marker: { size: 9, symbol: methodSymbol(method, methods), color: methodColour(method, methods) },
      legendgroup: method,
    };
    if (points.length === 1) {
      // A method trained without shots (an unsupervised baseline): a flat reference line.
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${methodName(method)} (k = ${points[0].shots} only)`,
        x: kRange,
        y: [points[0].mean, points[0].mean],
        line: { ...style.line, dash: 'dash' },
        legendgroup: method,
        hovertemplate: `${methodName(method)}: ${metricLabel(metric)} = %{y:.3f}<extra></extra>`,
        xaxis: 'x',
        yaxis: 'y',
      });
      continue;
    }
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: methodName(method),
      x: points.map((p) => p.shots),
      y: points.map((p) => p.mean),
      error_y: { type: 'data', array: points.map((p) => p.std ?? 0), visible: true, thickness: 1.5, width: 5 },
      hovertemplate: `${methodName(method)}<br>k = %{x}<br>${metricLabel(metric)} = %{y:.3f}<extra></extra>`,
      xaxis: 'x',
      yaxis: 'y',
      ...style,
    });
    const withGain = points.filter((p) => p.relative_gain !== null);
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: methodName(method),
      showlegend: false,
      x: withGain.map((p) => p.shots),
      y: withGain.map((p) => (p.relative_gain as number) * 100),
      hovertemplate: `${methodName(method)}<br>k = %{x}<br>gain over k = 0: %{y:.2f}%<extra></extra>`,
      xaxis: 'x2',
      yaxis: 'y2',
      ...style,
    });
  }

  const scope = categoryScope(category, MEAN_CATEGORY, categories.size);
  const setting = describeSetting(chosen);
  const shotsAxis = (extra: Record<string, unknown>) => axis('Real anomalies in training, k (shots)', { tickvals: shots, ...extra });
  const base = baseLayout(
    `${metricLabel(metric)} and its gain over zero shots vs number of real anomalies`,
    `${scope}; ± 1 std over ${countOf(seeds.size, 'seed')}${setting ? `; ${setting}` : ''}`,
  );
  return {
    data,
    layout: {
      ...base,
      xaxis: shotsAxis({ domain: [0, 0.44] }),
      yaxis: axis(metricLabel(metric), { tickformat: SCORE_TICK_FORMAT, anchor: 'x' }),
      xaxis2: shotsAxis({ domain: [0.56, 1], anchor: 'y2' }),
      yaxis2: axis(`Relative gain over k = 0 (%)`, { ticksuffix: '%', anchor: 'x2', zeroline: true, zerolinecolor: '#444' }),
      legend: { orientation: 'h', x: 0.5, xanchor: 'center', y: -0.18, yanchor: 'top', font: { size: 13 } },
      margin: { ...base.margin, b: 110 },
    },
  };
}
