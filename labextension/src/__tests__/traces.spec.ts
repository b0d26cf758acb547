/**
 * The chart's data without a DOM: series copied and extended, a grown series
 * told from a new one, colours, and the traces and layout plotly is given.
 */
import {
  appendPoints,
  clampSmoothing,
  colorAt,
  COLORS,
  copySeries,
  extendsSeries,
  lastStep,
  pointsFrom
} from '../metrics/series';
import {
  escapeText,
  groupConfig,
  groupLayout,
  pngName,
  seriesTraces
} from '../metrics/traces';
import type { IMetricSeries } from '../metrics/types';

function metric(name: string, n: number, job?: string): IMetricSeries {
  const steps = Array.from({ length: n }, (_, i) => i);
  return {
    name,
    job,
    steps,
    values: steps.map(i => 1 / (i + 1)),
    times: steps.map(i => 1_700_000_000_000 + i * 100)
  };
}

const TRACE = { xAxis: 'step' as const, color: '#123456', maxPoints: 2000 };

describe('series data', () => {
  it('copies a series, filling missing times with NaN', () => {
    const original = { ...metric('loss', 3), times: [] };
    const copy = copySeries(original);
    expect(copy.times.map(Number.isNaN)).toEqual([true, true, true]);
    copy.values.push(9);
    expect(original.values).toHaveLength(3);
  });

  it('appends points, a missing time as NaN', () => {
    const series = metric('loss', 2);
    appendPoints(series, { steps: [2, 3], values: [0.5, null], times: [7] });
    expect(series.steps).toEqual([0, 1, 2, 3]);
    expect(series.values).toEqual([1, 0.5, 0.5, null]);
    expect(series.times[2]).toBe(7);
    expect(series.times[3]).toBeNaN();
  });

  it('tells a grown series from different data under the same name', () => {
    const shown = metric('loss', 3);
    expect(extendsSeries(shown, metric('loss', 5))).toBe(true);
    expect(extendsSeries(shown, metric('loss', 3))).toBe(true);
    expect(extendsSeries(shown, metric('loss', 2))).toBe(false);
    const rerun = metric('loss', 5);
    rerun.values[2] = 42;
    expect(extendsSeries(shown, rerun)).toBe(false);
    expect(extendsSeries(metric('loss', 0), rerun)).toBe(true);
    expect(pointsFrom(metric('loss', 5), 3)).toEqual({
      name: 'loss',
      steps: [3, 4],
      values: [1 / 4, 1 / 5],
      times: [1_700_000_000_300, 1_700_000_000_400]
    });
  });

  it('gives colours in order, repeating the palette', () => {
    expect(colorAt(0)).toBe(COLORS[0]);
    expect(colorAt(1)).toBe(COLORS[1]);
    expect(colorAt(COLORS.length)).toBe(COLORS[0]);
  });

  it('clamps the smoothing weight and finds the last step', () => {
    expect([
      clampSmoothing(-1),
      clampSmoothing(0.5),
      clampSmoothing(1)
    ]).toEqual([0, 0.5, 0.99]);
    expect(clampSmoothing(NaN)).toBe(0);
    expect(lastStep([metric('a', 3), metric('b', 8), metric('c', 0)])).toBe(7);
    expect(lastStep([])).toBe(0);
  });
});

describe('traces', () => {
  it('draws one line without smoothing, markers on short series', () => {
    const traces = seriesTraces(metric('loss', 5), {
      ...TRACE,
      smoothed: null
    });
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatchObject({
      type: 'scatter',
      mode: 'lines+markers',
      name: 'loss',
      x: [0, 1, 2, 3, 4],
      line: { color: '#123456', width: 1.5 }
    });
  });

  it('draws the smoothed line over a faint raw one, out of the legend', () => {
    const series = metric('loss', 3);
    const [raw, smooth] = seriesTraces(series, {
      ...TRACE,
      smoothed: [1, 0.8, 0.6]
    });
    expect(raw).toMatchObject({
      name: 'loss (raw)',
      opacity: 0.3,
      showlegend: false,
      y: series.values
    });
    expect(smooth).toMatchObject({ name: 'loss', y: [1, 0.8, 0.6] });
    expect(raw.legendgroup).toBe(smooth.legendgroup);
  });

  it('downsamples long series to lines only', () => {
    const [trace] = seriesTraces(metric('loss', 10_000), {
      ...TRACE,
      maxPoints: 300,
      smoothed: null
    });
    expect((trace.x as unknown[]).length).toBeLessThanOrEqual(300);
    expect(trace.mode).toBe('lines');
  });

  it('uses dates on the time axis and escapes names', () => {
    const [trace] = seriesTraces(metric('<b>loss</b>', 2, 'j-1'), {
      ...TRACE,
      xAxis: 'time',
      smoothed: null
    });
    expect(trace.x).toEqual([
      new Date(1_700_000_000_000),
      new Date(1_700_000_000_100)
    ]);
    expect(trace.name).toBe('j-1 · &lt;b&gt;loss&lt;/b&gt;');
    expect(escapeText('a & b')).toBe('a &amp; b');
  });

  it('lays out a group: whole steps on short runs, dates on the time axis', () => {
    const options = {
      group: 'train',
      xAxis: 'step' as const,
      xTitle: 'step',
      lastStep: 5,
      height: 220,
      fontColor: '#000',
      gridColor: '#eee'
    };
    const short = groupLayout(options);
    expect(short).toMatchObject({
      height: 220,
      xaxis: { title: { text: 'step' }, type: 'linear', dtick: 1 },
      uirevision: 'train:step'
    });
    expect(
      groupLayout({ ...options, lastStep: 500 }).xaxis as object
    ).not.toHaveProperty('dtick');
    const time = groupLayout({ ...options, xAxis: 'time', xTitle: 'time' });
    expect(time.xaxis).toMatchObject({ type: 'date', title: { text: 'time' } });
    expect(time.xaxis).not.toHaveProperty('dtick');
    expect(groupConfig('metrics-train')).toMatchObject({
      toImageButtonOptions: { filename: 'metrics-train' }
    });
    expect(pngName('run 1', 'train/eval')).toBe('run 1-train_eval');
  });
});
