/**
 * What plotly draws for a group of series: the traces of each series (raw,
 * and smoothed over a faint raw line), downsampled for display, and the
 * group's layout and config. Pure functions of the data and the settings.
 */
import { downsample, take } from './lttb';
import { IMetricSeries, seriesKey, seriesLabel } from './types';
import type { IAxisScale } from './units';

export type XAxis = 'step' | 'time';

/** A trace or layout as plotly takes it. */
export type PlotlyObject = Record<string, unknown>;

export interface ITraceOptions {
  xAxis: XAxis;
  color: string;
  /** At most this many points per trace. */
  maxPoints: number;
  /** The smoothed values (one per value), or null without smoothing. */
  smoothed: readonly (number | null)[] | null;
  /** Values shown divided by a unit (system metrics); none: as logged. */
  scale?: IAxisScale | null;
}

/** Traces with this many points or fewer show their points as markers. */
const MARKERS_UP_TO = 50;

/** Plotly reads a few HTML tags in texts; a metric name is plain text. */
export function escapeText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** The plotly traces of one series: raw (faint when smoothed) and smoothed. */
export function seriesTraces(
  series: IMetricSeries,
  options: ITraceOptions
): PlotlyObject[] {
  const { color, xAxis, maxPoints, smoothed } = options;
  const scale = options.scale ?? null;
  const label = escapeText(seriesLabel(series));
  const scaled = (values: readonly (number | null)[]) =>
    scale && scale.divisor !== 1
      ? values.map(v => (v === null ? null : v / scale.divisor))
      : values;
  const x = (indices: number[]) =>
    xAxis === 'step'
      ? take(series.steps, indices)
      : take(series.times, indices).map(t => new Date(t));
  const trace = (
    values: readonly (number | null)[],
    name: string,
    extra: PlotlyObject
  ): PlotlyObject => {
    const indices = downsample(series.steps, values, maxPoints);
    return {
      type: 'scatter',
      mode: indices.length <= MARKERS_UP_TO ? 'lines+markers' : 'lines',
      x: x(indices),
      y: take(scaled(values), indices),
      name,
      legendgroup: seriesKey(series),
      connectgaps: false,
      hovertemplate: scale
        ? `%{y:.4g}${scale.suffix === '%' ? '' : ' '}${scale.suffix}`
        : '%{y:.6g}',
      marker: { size: 4, color },
      ...extra
    };
  };
  if (!smoothed) {
    return [trace(series.values, label, { line: { color, width: 1.5 } })];
  }
  return [
    trace(series.values, `${label} (raw)`, {
      line: { color, width: 1 },
      opacity: 0.3,
      showlegend: false
    }),
    trace(smoothed, label, { line: { color, width: 2 } })
  ];
}

export interface ILayoutOptions {
  group: string;
  xAxis: XAxis;
  /** The x axis' title ("step", "time"). */
  xTitle: string;
  /** The largest step of the group's series. */
  lastStep: number;
  height: number;
  fontColor: string;
  gridColor: string;
  /** The y axis' unit (system metrics): its title and tick suffix. */
  scale?: IAxisScale | null;
}

/** The layout of one group's chart. */
export function groupLayout(options: ILayoutOptions): PlotlyObject {
  const { xAxis, gridColor } = options;
  return {
    height: options.height,
    autosize: true,
    margin: { l: 55, r: 15, t: 10, b: 40 },
    hovermode: 'x unified',
    showlegend: true,
    legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: options.fontColor, size: 11 },
    xaxis: {
      title: { text: options.xTitle },
      type: xAxis === 'step' ? 'linear' : 'date',
      // Steps are whole numbers: no 0.2, 0.4 ticks on a short run.
      ...(xAxis === 'step' && options.lastStep <= 10 ? { dtick: 1 } : {}),
      gridcolor: gridColor,
      zeroline: false
    },
    yaxis: {
      gridcolor: gridColor,
      zeroline: false,
      automargin: true,
      ...(options.scale
        ? {
            title: { text: options.scale.suffix },
            ...(options.scale.suffix === '%' ? { ticksuffix: '%' } : {})
          }
        : {})
    },
    // Keep zoom and hidden traces across live updates.
    uirevision: `${options.group}:${xAxis}`
  };
}

/** The config of one group's chart; `filename` names its PNG. */
export function groupConfig(filename: string): PlotlyObject {
  return {
    responsive: false,
    displaylogo: false,
    modeBarButtonsToRemove: ['lasso2d', 'select2d'],
    toImageButtonOptions: { filename }
  };
}

/** The file name stem of a group's PNG. */
export function pngName(filename: string, group: string): string {
  return `${filename}-${group.replace(/[^\w.-]+/g, '_')}`;
}
