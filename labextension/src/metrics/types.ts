/**
 * The notebook chart output of `nbqueue.log_metric` (docs/protocol.md,
 * "Metrics"), and the series the chart draws.
 */

/** The MIME type of a metrics chart output. */
export const METRICS_MIME_TYPE = 'application/vnd.nbqueue.metrics+json';

/** One metric's points, in logging order; `null` is NaN or an infinity. */
export interface IMetricSeries {
  name: string;
  steps: number[];
  values: (number | null)[];
  /** Wall time of each point, epoch milliseconds. */
  times: number[];
  /**
   * The job the series belongs to, for views that overlay several jobs:
   * series with the same name but different jobs are different lines.
   */
  job?: string;
  /** The legend text; defaults to the name, or "<job> · <name>". */
  label?: string;
}

/** The output's data, as the Python API writes it. */
export interface IMetricsData {
  version: 1;
  series: IMetricSeries[];
}

/** New points for one series (created if it is new). */
export interface IMetricPoints {
  name: string;
  job?: string;
  label?: string;
  steps: number[];
  values: (number | null)[];
  times: number[];
}

/** Identity of a series in a chart: its job and its name. */
export function seriesKey(series: { name: string; job?: string }): string {
  return `${series.job ?? ''}\u0000${series.name}`;
}

/** The legend text of a series. */
export function seriesLabel(series: IMetricSeries): string {
  if (series.label) {
    return series.label;
  }
  return series.job ? `${series.job} · ${series.name}` : series.name;
}

/**
 * The series of a metrics output, or null when the data is not one: the
 * output comes from a notebook, which anyone may have edited.
 */
export function parseMetricsData(data: unknown): IMetricSeries[] | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const { version, series } = data as { version?: unknown; series?: unknown };
  if (version !== 1 || !Array.isArray(series)) {
    return null;
  }
  const parsed: IMetricSeries[] = [];
  for (const item of series) {
    if (typeof item !== 'object' || item === null) {
      return null;
    }
    const { name, steps, values, times } = item as Record<string, unknown>;
    if (
      typeof name !== 'string' ||
      !Array.isArray(steps) ||
      !Array.isArray(values) ||
      steps.length !== values.length
    ) {
      return null;
    }
    const n = values.length;
    parsed.push({
      name,
      steps: steps.map(step => (typeof step === 'number' ? step : NaN)),
      values: values.map(value =>
        typeof value === 'number' && Number.isFinite(value) ? value : null
      ),
      times: Array.isArray(times) && times.length === n ? times.map(Number) : []
    });
  }
  return parsed;
}
