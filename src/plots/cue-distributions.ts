/**
 * Fig. 4: each cue's scores on nominal vs anomalous test images, one panel per
 * cue (deviation, uncertainty, segmentation, fused), as split violins or
 * overlaid density histograms. Each panel names the cue's image AUROC so the
 * overlap can be read as a number too.
 */
import type { Annotation, Data, Layout } from 'plotly.js-dist';
import { auroc } from '../evaluation/metrics/auroc.ts';
import { CUE_COLUMNS, type CueColumn, type ImageScoreRow } from '../experiments/results-schema.ts';
import { axis, baseLayout, DEFAULT_FIGURE_SIZE, type PlotlyFigure } from './figure.ts';
import { LABEL_COLOURS } from './palette.ts';

export const CUE_TITLES: Record<CueColumn, string> = {
  deviation: 'Deviation cue φ(x)',
  uncertainty: 'Uncertainty cue H(p(x))',
  segmentation: 'Segmentation cue (top-ρ of S)',
  fused: 'Fused score S',
};

export interface CueDistributionOptions {
  kind?: 'violin' | 'histogram';
  cues?: readonly CueColumn[];
  /** Shown under the title, e.g. the cell (category, method, ratio, seed). */
  subtitle?: string;
  /** Histogram bins per panel (default 24). */
  bins?: number;
}

export function cueDistributionFigure(scores: readonly ImageScoreRow[], opts: CueDistributionOptions = {}): PlotlyFigure {
  const kind = opts.kind ?? 'violin';
  const cues = opts.cues ?? CUE_COLUMNS;
  const nominal = scores.filter((s) => s.label === 0);
  const anomalous = scores.filter((s) => s.label === 1);
  const groups = [
    { name: `nominal (n = ${nominal.length})`, rows: nominal, colour: LABEL_COLOURS.nominal, side: 'negative' as const },
    { name: `anomalous (n = ${anomalous.length})`, rows: anomalous, colour: LABEL_COLOURS.anomalous, side: 'positive' as const },
  ];
  const gap = 0.07;
  const width = (1 - gap * (cues.length - 1)) / cues.length;
  const data: Data[] = [];
  const annotations: Partial<Annotation>[] = [];
  const base = baseLayout('Per-cue score distributions: nominal vs anomalous test images', opts.subtitle, { width: DEFAULT_FIGURE_SIZE.width, titleGap: 36 });
  const layout: Partial<Layout> & Record<string, unknown> = {
    ...base,
    legend: { orientation: 'h', x: 0.5, xanchor: 'center', y: -0.2, yanchor: 'top', font: { size: 13 } },
    margin: { ...base.margin, l: 70, b: 110 },
    ...(kind === 'violin' ? { violinmode: 'overlay', violingap: 0 } : { barmode: 'overlay' }),
  };
  cues.forEach((cue, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const domain = [i * (width + gap), i * (width + gap) + width];
    const lo = scores.reduce((m, r) => Math.min(m, r[cue]), Infinity);
    const hi = scores.reduce((m, r) => Math.max(m, r[cue]), -Infinity);
    // Shared bins so the two groups' bars line up.
    const binSize = hi > lo ? (hi - lo) / (opts.bins ?? 24) : 1;
    for (const group of groups) {
      const values = group.rows.map((r) => r[cue]);
      const common = {
        name: group.name,
        legendgroup: group.name,
        showlegend: i === 0,
        xaxis: `x${suffix}`,
        yaxis: `y${suffix}`,
      } as const;
      if (kind === 'violin') {
        data.push({
          type: 'violin',
          ...common,
          x0: 0,
          y: values,
          side: group.side,
          width: 0.9,
          scalegroup: cue,
          line: { color: group.colour, width: 1.5 },
          fillcolor: group.colour,
          opacity: 0.65,
          points: false,
          box: { visible: true, width: 0.15 },
          meanline: { visible: true },
          spanmode: 'hard',
          hoverinfo: 'y+name',
        } as Data);
      } else {
        data.push({
          type: 'histogram',
          ...common,
          x: values,
          histnorm: 'probability density',
          autobinx: false,
          xbins: { start: lo, end: hi + binSize * 1e-6, size: binSize },
          opacity: 0.55,
          marker: { color: group.colour, line: { color: 'white', width: 0.5 } },
        } as Data);
      }
    }
    if (kind === 'violin') {
      layout[`xaxis${suffix}`] = {
        ...axis(CUE_TITLES[cue], { domain, anchor: `y${suffix}`, showticklabels: false, showgrid: false, ticks: '' }),
        range: [-0.5, 0.5],
      };
      layout[`yaxis${suffix}`] = axis(i === 0 ? 'Score' : '', { anchor: `x${suffix}` });
    } else {
      layout[`xaxis${suffix}`] = axis(`${CUE_TITLES[cue]}`, { domain, anchor: `y${suffix}` });
      layout[`yaxis${suffix}`] = axis(i === 0 ? 'Density' : '', { anchor: `x${suffix}` });
    }
    const auc = cueAuroc(scores, cue);
    if (auc !== null) {
      annotations.push({
        text: `AUROC ${auc.toFixed(3)}`,
        x: (domain[0] + domain[1]) / 2,
        y: 1.0,
        xref: 'paper',
        yref: 'paper',
        xanchor: 'center',
        yanchor: 'bottom',
        showarrow: false,
        font: { size: 13 },
      });
    }
  });
  layout.annotations = annotations;
  return { data, layout };
}
/** A cue's image AUROC, or null when one class is missing. */
function cueAuroc(scores: readonly ImageScoreRow[], cue: CueColumn): number | null {
  const labels = scores.map((s) => s.label);
  if (!labels.includes(0) || !labels.includes(1)) return null;
  return auroc(scores.map((s) => s[cue]), labels);
}
