/**
 * The chart's data, without the DOM: copying and extending series, telling
 * a grown series from a new one, and the colour of each series.
 */
import type { MetricCsvPoint } from '@nbqueue/common';

import type { IMetricPoints, IMetricSeries } from './types';

/** Trace colours, in the order series first appear (plotly's defaults). */
export const COLORS: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf'
];

/** The colour of the `index`-th series (0-based); the palette repeats. */
export function colorAt(index: number): string {
  return COLORS[index % COLORS.length];
}

/** A series' own copy, with one time per value (NaN when it has none). */
export function copySeries(series: IMetricSeries): IMetricSeries {
  const n = series.values.length;
  return {
    ...series,
    steps: series.steps.slice(),
    values: series.values.slice(),
    times:
      series.times.length === n ? series.times.slice() : new Array(n).fill(NaN)
  };
}

/** Add points at the end of `series` (in place); a missing time is NaN. */
export function appendPoints(
  series: IMetricSeries,
  points: Pick<IMetricPoints, 'steps' | 'values' | 'times'>
): void {
  const n = points.values.length;
  for (let i = 0; i < n; i++) {
    series.steps.push(points.steps[i]);
    series.values.push(points.values[i]);
    series.times.push(points.times[i] ?? NaN);
  }
}

/** Whether `next` is `current` with points added at the end. */
export function extendsSeries(
  current: IMetricSeries,
  next: IMetricSeries
): boolean {
  const n = current.values.length;
  if (next.values.length < n) {
    return false;
  }
  if (n === 0) {
    return true;
  }
  const last = n - 1;
  return (
    Object.is(next.steps[last], current.steps[last]) &&
    next.values[last] === current.values[last] &&
    Object.is(next.times[last] ?? NaN, current.times[last])
  );
}

/** The points of `series` from index `from` on. */
export function pointsFrom(series: IMetricSeries, from: number): IMetricPoints {
  return {
    name: series.name,
    steps: series.steps.slice(from),
    values: series.values.slice(from),
    times: series.times.slice(from)
  };
}

/** The largest finite last step of the series (0 when there is none). */
export function lastStep(series: readonly IMetricSeries[]): number {
  let max = 0;
  for (const { steps } of series) {
    const last = steps[steps.length - 1];
    if (Number.isFinite(last)) {
      max = Math.max(max, last);
    }
  }
  return max;
}

/** A smoothing weight in [0, 0.99]; anything not a number is 0. */
export function clampSmoothing(value: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 0.99) : 0;
}

/**
 * Every point of the series, in order, as the metrics CSV (`@nbqueue/common`)
 * takes them: the chart's CSV has the sidecar's format.
 */
export function* seriesCsvPoints(
  series: readonly IMetricSeries[]
): Generator<MetricCsvPoint> {
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      yield {
        job: s.job,
        name: s.name,
        step: s.steps[i],
        value: s.values[i],
        time: s.times[i]
      };
    }
  }
}
