/**
 * Fig. 5: the relative drop of a metric between consecutive contamination
 * levels, (AUROC_prev − AUROC_next) / AUROC_prev in percent, grouped bars per
 * transition with one bar colour per method. Smaller bars = more robust.
 */
import type { ColumnTable } from 'arquero';
import type { Data } from 'plotly.js-dist';
import { metricLabel } from '../experiments/results-schema.ts';
import { describeSetting, selectSetting, type Setting } from '../experiments/settings.ts';
import { filterRows, MEAN_CATEGORY, orderMethods, relativeDrop, rowsOf, whereEquals, withCategoryMean } from '../experiments/tables.ts';
import { axis, baseLayout, type PlotlyFigure, categoryScope } from './figure.ts';
import { methodColour, methodName } from './palette.ts';

export interface RelativeDropOptions {
  metric?: string;
  category?: string;
  fixed?: Setting;
}

export function relativeDropFigure(table: ColumnTable, opts: RelativeDropOptions = {}): PlotlyFigure {
  const metric = opts.metric ?? 'image_auroc';
  const category = opts.category ?? MEAN_CATEGORY;
  const rows = filterRows(whereEquals(table, { metric }), (d) => d.category !== MEAN_CATEGORY);
  const { table: selected, chosen } = selectSetting(rows, { vary: ['ratio'], fixed: opts.fixed });
  const categories = new Set(rowsOf(selected).map((r) => r.category as string));
  const scoped = whereEquals(category === MEAN_CATEGORY ? withCategoryMean(selected) : selected, { category });
  const drops = rowsOf<{ method: string; transition: string; ratio_from: number; relative_drop: number; value_from: number; value_to: number }>(
    relativeDrop(scoped, { metric }),
  );
  const methods = orderMethods(drops.map((d) => d.method));
  // Transitions in ratio order, whatever order the methods list them in.
  const transitions = [...new Map(drops.sort((a, b) => a.ratio_from - b.ratio_from).map((d) => [d.transition, d.ratio_from])).keys()];

  const data: Data[] = methods.map((method) => {
    const own = new Map(drops.filter((d) => d.method === method).map((d) => [d.transition, d]));
    const points = transitions.map((t) => own.get(t));
    return {
      type: 'bar',
      name: methodName(method),
      x: transitions,
      y: points.map((p) => (p ? p.relative_drop * 100 : null)),
      marker: { color: methodColour(method, methods) },
      text: points.map((p) => (p ? `${(p.relative_drop * 100).toFixed(1)}%` : '')),
      textposition: 'outside',
      cliponaxis: false,
      customdata: points.map((p) => (p ? [p.value_from, p.value_to] : [null, null])),
      hovertemplate: `${methodName(method)} %{x}<br>drop %{y:.2f}%<br>${metricLabel(metric)} %{customdata[0]:.3f} → %{customdata[1]:.3f}<extra></extra>`,
    };
  });

  const scope = categoryScope(category, MEAN_CATEGORY, categories.size);
  const setting = describeSetting(chosen);
  return {
    data,
    layout: {
      ...baseLayout(
        `Relative ${metricLabel(metric)} drop between contamination levels`,
        `(prev − next) / prev on seed means; ${scope}${setting ? `; ${setting}` : ''}`,
      ),
      barmode: 'group',
      bargap: 0.25,
      xaxis: axis('Contamination transition'),
      yaxis: axis(`Relative drop of ${metricLabel(metric)} (%)`, { ticksuffix: '%', zeroline: true, zerolinecolor: '#444' }),
    },
  };
}
