/**
 * Fig. 3: a metric (image or pixel AUROC) against the training contamination
 * ratio, one line per method, mean over seeds with ± 1 std error bars.
 */
import type { ColumnTable } from 'arquero';
import type { Data } from 'plotly.js-dist';
import { metricLabel } from '../experiments/results-schema.ts';
import { describeSetting, selectSetting, type Setting } from '../experiments/settings.ts';
import { filterRows, MEAN_CATEGORY, meanStd, orderMethods, rowsOf, whereEquals, withCategoryMean } from '../experiments/tables.ts';
import { axis, baseLayout, type PlotlyFigure, countOf, SCORE_TICK_FORMAT, categoryScope } from './figure.ts';
import { methodColour, methodName, methodSymbol } from './palette.ts';

export interface RobustnessOptions {
  /** Default image_auroc; any pixel metric draws the localization curve. */
  metric?: string;
  /** One category, or MEAN_CATEGORY (default) for the mean over categories. */
  category?: string;
  /** Setting values to hold fixed (default: selectSetting's choice). */
  fixed?: Setting;
}

export function robustnessFigure(table: ColumnTable, opts: RobustnessOptions = {}): PlotlyFigure {
  const metric = opts.metric ?? 'image_auroc';
  const category = opts.category ?? MEAN_CATEGORY;
  const rows = filterRows(whereEquals(table, { metric }), (d) => d.category !== MEAN_CATEGORY);
  const { table: selected, chosen } = selectSetting(rows, { vary: ['ratio'], fixed: opts.fixed });
  const categories = new Set(rowsOf(selected).map((r) => r.category as string));
  const seeds = new Set(rowsOf(selected).map((r) => r.seed as number));
  const scoped = whereEquals(category === MEAN_CATEGORY ? withCategoryMean(selected) : selected, { category });
  const stats = rowsOf<{ method: string; ratio: number; mean: number; std: number | null; n: number }>(meanStd(scoped, ['method', 'ratio'], metric));
  const methods = orderMethods(stats.map((s) => s.method));
  const ratios = [...new Set(stats.map((s) => s.ratio))].sort((a, b) => a - b);

  const data: Data[] = methods.map((method) => {
    const points = stats.filter((s) => s.method === method).sort((a, b) => a.ratio - b.ratio);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: methodName(method),
      x: points.map((p) => percent(p.ratio)),
      y: points.map((p) => p.mean),
      error_y: { type: 'data', array: points.map((p) => p.std ?? 0), visible: true, thickness: 1.5, width: 5 },
      line: { color: methodColour(method, methods), width: method === 'multicue' ? 3 : 2 },
      marker: { size: 9, symbol: methodSymbol(method, methods), color: methodColour(method, methods) },
      customdata: points.map((p) => p.n),
      hovertemplate: `${methodName(method)}<br>r = %{x}%<br>${metricLabel(metric)} = %{y:.3f} ± %{error_y.array:.3f}<br>n = %{customdata}<extra></extra>`,
    };
  });

  const scope = categoryScope(category, MEAN_CATEGORY, categories.size);
  const setting = describeSetting(chosen);
  return {
    data,
    layout: {
      ...baseLayout(
        `${metricLabel(metric)} vs training contamination`,
        `${scope}; error bars ± 1 std over ${countOf(seeds.size, 'seed')}${setting ? `; ${setting}` : ''}`,
      ),
      xaxis: axis('Contamination ratio r of the training set (%)', { tickvals: ratios.map(percent), ticktext: ratios.map((r) => `${percent(r)}%`) }),
      yaxis: axis(metricLabel(metric), { tickformat: SCORE_TICK_FORMAT }),
    },
  };
}

function percent(ratio: number): number {
  return Number((ratio * 100).toFixed(2));
}
