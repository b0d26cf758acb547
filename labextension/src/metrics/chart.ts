/**
 * `MetricsChart`: the metrics of a notebook output, a job, or several jobs
 * side by side, drawn with plotly.js as one chart per metric group, with an
 * x axis toggle (step or wall time), EMA smoothing, and PNG and CSV downloads.
 *
 * Points can be added while the chart is shown (`updateSeries`, `extend`);
 * redraws are coalesced to at most ten a second, and each trace is
 * downsampled to at most `maxPoints` points while the full data stays for
 * the CSV. The data and the traces are in series.ts and traces.ts, each
 * plot's lifecycle in plot.ts, the controls in ChartToolbar.tsx.
 */
import { Panel } from '@lumino/widgets';
import { metricsCsv } from '@nbqueue/common';
import * as React from 'react';

import { nbqueueBundle, TranslationBundle } from '../translation';
import { ChartToolbar, GroupHeader, RenderWidget } from './ChartToolbar';
import { downloadText } from './download';
import { DEFAULT_SMOOTHING, Ema } from './ema';
import { groupByPrefix, groupOf } from './group';
import { MAX_POINTS } from './lttb';
import { PlotlyPlot } from './plot';
import { IPlotly, loadPlotly } from './plotly';
import {
  appendPoints,
  clampSmoothing,
  colorAt,
  copySeries,
  extendsSeries,
  lastStep,
  pointsFrom,
  seriesCsvPoints
} from './series';
import { browserClock, IClock, Throttle } from './throttle';
import {
  groupConfig,
  groupLayout,
  pngName,
  PlotlyObject,
  seriesTraces,
  XAxis as TraceXAxis
} from './traces';
import { IMetricPoints, IMetricSeries, seriesKey } from './types';
import { axisScale, commonUnit, IAxisScale } from './units';

/** At most this many redraws a second. */
const REDRAWS_PER_SECOND = 10;

export namespace MetricsChart {
  export type XAxis = TraceXAxis;

  export interface IOptions {
    /** The series shown at first. */
    series?: IMetricSeries[];
    /** Step (default) or wall time. */
    xAxis?: XAxis;
    /** EMA weight in [0, 1); 0.6 by default, as in TensorBoard. */
    smoothing?: number;
    /** At most this many points per drawn trace (2,000). */
    maxPoints?: number;
    /** The chart a metric goes on (default: its name up to the first "/"). */
    group?: (name: string) => string;
    /** Stem of the downloaded files' names ("metrics"). */
    filename?: string;
    /** Height of each group's chart in pixels (260). */
    height?: number;
    /** Loads plotly.js (default: a lazy import). */
    plotly?: () => Promise<IPlotly>;
    /** Time source of the redraw throttle. */
    clock?: IClock;
    /** The texts of the controls. */
    trans?: TranslationBundle;
    /**
     * Read units from the metrics' names (`_bytes`: MiB/GiB, `_percent`: %)
     * and show them on the y axes: the runner's system metrics.
     */
    units?: boolean;
  }
}

/** A series, its colour, and the smoothing computed for it so far. */
interface IEntry {
  name: string;
  series: IMetricSeries;
  ema: Ema | null;
  color: string;
}

/** One group's chart: its header and its plot. */
class ChartGroup extends Panel {
  constructor(group: string, plot: PlotlyPlot, header: RenderWidget) {
    super();
    this.addClass('nbq-MetricsChart-group');
    this.node.dataset.group = group;
    this.plot = plot;
    this.addWidget(header);
    this.addWidget(plot);
  }

  readonly plot: PlotlyPlot;
}

export class MetricsChart extends Panel {
  constructor(options: MetricsChart.IOptions = {}) {
    super();
    this.addClass('nbq-MetricsChart');
    this._xAxis = options.xAxis ?? 'step';
    this._smoothing = clampSmoothing(options.smoothing ?? DEFAULT_SMOOTHING);
    this._maxPoints = options.maxPoints ?? MAX_POINTS;
    this._group = options.group ?? groupOf;
    this._filename = options.filename ?? 'metrics';
    this._height = options.height ?? 260;
    this._loadPlotly = options.plotly ?? loadPlotly;
    this._trans = options.trans ?? nbqueueBundle();
    this._units = options.units ?? false;
    this._throttle = new Throttle(
      () => this._draw(),
      1000 / REDRAWS_PER_SECOND,
      options.clock ?? browserClock
    );

    this._toolbar = new RenderWidget('nbq-MetricsChart-toolbar', () =>
      React.createElement(ChartToolbar, {
        xAxis: this._xAxis,
        smoothing: this._smoothing,
        onXAxis: value => (this.xAxis = value),
        onSmoothing: value => (this.smoothing = value),
        onCsv: () => this.downloadCsv(),
        trans: this._trans
      })
    );
    this.addWidget(this._toolbar);
    this._groupsPanel.addClass('nbq-MetricsChart-groups');
    this.addWidget(this._groupsPanel);
    if (typeof ResizeObserver !== 'undefined') {
      this._resizeObserver = new ResizeObserver(() => this._resizePlots());
      this._resizeObserver.observe(this._groupsPanel.node);
    }
    if (options.series) {
      void this.setSeries(options.series);
    }
  }

  /** The full data of every series, in the order they were added. */
  get series(): readonly IMetricSeries[] {
    return [...this._entries.values()].map(entry => entry.series);
  }

  /** The groups shown, one chart each, in order. */
  get groups(): string[] {
    return [...this._groupMembers().keys()];
  }

  get xAxis(): MetricsChart.XAxis {
    return this._xAxis;
  }

  set xAxis(value: MetricsChart.XAxis) {
    if (value === this._xAxis) {
      return;
    }
    this._xAxis = value;
    this._toolbar.update();
    this._invalidateAll();
  }

  get smoothing(): number {
    return this._smoothing;
  }

  set smoothing(value: number) {
    const weight = clampSmoothing(value);
    if (weight === this._smoothing) {
      return;
    }
    this._smoothing = weight;
    this._toolbar.update();
    for (const entry of this._entries.values()) {
      entry.ema = null;
    }
    this._invalidateAll();
  }

  /**
   * Show exactly these series (copied): the ones not given go away. Resolves
   * once they are drawn.
   */
  setSeries(series: readonly IMetricSeries[]): Promise<void> {
    for (const key of [...this._entries.keys()]) {
      this._remove(key);
    }
    for (const s of series) {
      this._add(s);
    }
    return this._schedule();
  }

  /**
   * Show exactly these series, as `setSeries`, but a series that only gained
   * points since the last call is extended instead of replaced: what a live
   * notebook output (updated with its whole data each time) needs.
   */
  updateSeries(series: readonly IMetricSeries[]): Promise<void> {
    const keep = new Set<string>();
    for (const s of series) {
      const key = seriesKey(s);
      keep.add(key);
      const entry = this._entries.get(key);
      if (entry && extendsSeries(entry.series, s)) {
        const from = entry.series.values.length;
        if (s.values.length > from || s.label !== entry.series.label) {
          entry.series.label = s.label;
          this._append(entry, pointsFrom(s, from));
        }
      } else {
        this._remove(key);
        this._add(s);
      }
    }
    for (const key of [...this._entries.keys()]) {
      if (!keep.has(key)) {
        this._remove(key);
      }
    }
    return this._schedule();
  }

  /** Add points to series (a series not shown yet is created). */
  extend(points: readonly IMetricPoints[]): Promise<void> {
    for (const p of points) {
      const entry = this._entries.get(seriesKey(p));
      if (entry) {
        this._append(entry, p);
      } else {
        this._add({ ...p });
      }
    }
    return this._schedule();
  }

  /** The full data as CSV, in the sidecar's metrics CSV format. */
  toCsv(): string {
    return metricsCsv(seriesCsvPoints(this.series));
  }

  /** Save the full data as `<filename>.csv`. */
  downloadCsv(): void {
    downloadText(`${this._filename}.csv`, this.toCsv(), 'text/csv');
  }

  /** Save one group's chart as `<filename>-<group>.png`. */
  async downloadPng(group: string): Promise<void> {
    await this._views
      .get(group)
      ?.plot.downloadPng(pngName(this._filename, group));
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._throttle.dispose();
    this._resizeObserver?.disconnect();
    if (this._resizeFrame) {
      cancelAnimationFrame(this._resizeFrame);
    }
    this._views.clear();
    super.dispose();
  }

  private _add(series: IMetricSeries): void {
    const key = seriesKey(series);
    let index = this._colorIndex.get(key);
    if (index === undefined) {
      index = this._colorIndex.size;
      this._colorIndex.set(key, index);
    }
    this._entries.set(key, {
      name: series.name,
      series: copySeries(series),
      ema: null,
      color: colorAt(index)
    });
    this._dirty.add(this._group(series.name));
  }

  private _append(entry: IEntry, points: IMetricPoints): void {
    appendPoints(entry.series, points);
    entry.ema?.extend(points.values);
    this._dirty.add(this._group(entry.name));
  }

  private _remove(key: string): void {
    const entry = this._entries.get(key);
    if (entry) {
      this._entries.delete(key);
      this._dirty.add(this._group(entry.name));
    }
  }

  private _invalidateAll(): void {
    for (const group of this._groupMembers().keys()) {
      this._dirty.add(group);
    }
    void this._schedule();
  }

  private _schedule(): Promise<void> {
    return this._throttle.schedule().catch(error => {
      console.error('nbqueue: could not draw the metrics chart', error);
    });
  }

  private _plotly(): Promise<IPlotly> {
    this._plotlyPromise ??= this._loadPlotly();
    return this._plotlyPromise;
  }

  private _groupMembers(): Map<string, IEntry[]> {
    return groupByPrefix([...this._entries.values()], this._group);
  }

  /** Redraw the groups whose series changed. */
  private async _draw(): Promise<void> {
    if (this._dirty.size === 0 || this.isDisposed) {
      return;
    }
    await this._plotly();
    if (this.isDisposed) {
      return;
    }
    const dirty = [...this._dirty];
    this._dirty.clear();
    const groups = this._groupMembers();
    const style = getComputedStyle(this.node);
    const fontColor =
      style.getPropertyValue('--jp-ui-font-color1').trim() || '#444';
    const gridColor =
      style.getPropertyValue('--jp-border-color2').trim() || '#e0e0e0';
    const xTitle =
      this._xAxis === 'step' ? this._trans.__('step') : this._trans.__('time');

    for (const group of dirty) {
      const members = groups.get(group);
      const view = this._views.get(group);
      if (!members) {
        view?.dispose();
        this._views.delete(group);
        continue;
      }
      const target = view ?? this._createView(group);
      const scale = this._scaleOf(members);
      const traces = members.flatMap(entry => this._traces(entry, scale));
      const layout = groupLayout({
        group,
        xAxis: this._xAxis,
        xTitle,
        lastStep: lastStep(members.map(entry => entry.series)),
        height: this._height,
        fontColor,
        gridColor,
        scale
      });
      const config = groupConfig(`${this._filename}-${group}`);
      await target.plot.react(traces, layout, config);
      if (this.isDisposed) {
        return;
      }
      const points = members.reduce(
        (sum, entry) => sum + entry.series.values.length,
        0
      );
      target.node.dataset.points = String(points);
      target.node.dataset.series = String(members.length);
    }
    // Groups in the order their first series was added.
    let index = 0;
    for (const group of groups.keys()) {
      const view = this._views.get(group);
      if (view) {
        if (this._groupsPanel.widgets[index] !== view) {
          this._groupsPanel.insertWidget(index, view);
        }
        index += 1;
      }
    }
    this._draws += 1;
    this.node.dataset.draws = String(this._draws);
  }

  /** The y axis' unit of a group, when units are read and all agree. */
  private _scaleOf(members: IEntry[]): IAxisScale | null {
    const unit = this._units
      ? commonUnit(members.map(entry => entry.name))
      : null;
    if (!unit) {
      return null;
    }
    let max = -Infinity;
    for (const entry of members) {
      for (const value of entry.series.values) {
        if (value !== null && value > max) {
          max = value;
        }
      }
    }
    return axisScale(unit, max);
  }

  private _traces(entry: IEntry, scale: IAxisScale | null): PlotlyObject[] {
    let smoothed: readonly (number | null)[] | null = null;
    if (this._smoothing > 0) {
      if (!entry.ema) {
        entry.ema = new Ema(this._smoothing);
        entry.ema.extend(entry.series.values);
      }
      smoothed = entry.ema.values;
    }
    return seriesTraces(entry.series, {
      xAxis: this._xAxis,
      color: entry.color,
      maxPoints: this._maxPoints,
      smoothed,
      scale
    });
  }

  private _createView(group: string): ChartGroup {
    const header = new RenderWidget('nbq-MetricsChart-groupHeader', () =>
      React.createElement(GroupHeader, {
        group,
        onPng: () => void this.downloadPng(group),
        trans: this._trans
      })
    );
    const view = new ChartGroup(
      group,
      new PlotlyPlot(() => this._plotly()),
      header
    );
    this._groupsPanel.addWidget(view);
    this._views.set(group, view);
    return view;
  }

  private _resizePlots(): void {
    if (this._resizeFrame || !this._plotlyPromise) {
      return;
    }
    this._resizeFrame = requestAnimationFrame(() => {
      this._resizeFrame = 0;
      const width = this._groupsPanel.node.clientWidth;
      if (width === this._lastWidth || width === 0 || this.isDisposed) {
        return;
      }
      this._lastWidth = width;
      for (const view of this._views.values()) {
        void view.plot.resize();
      }
    });
  }

  private _entries = new Map<string, IEntry>();
  private _colorIndex = new Map<string, number>();
  private _views = new Map<string, ChartGroup>();
  private _dirty = new Set<string>();
  private _draws = 0;
  private _xAxis: MetricsChart.XAxis;
  private _smoothing: number;
  private _maxPoints: number;
  private _group: (name: string) => string;
  private _filename: string;
  private _height: number;
  private _units: boolean;
  private _trans: TranslationBundle;
  private _loadPlotly: () => Promise<IPlotly>;
  private _plotlyPromise: Promise<IPlotly> | null = null;
  private _throttle: Throttle;
  private _toolbar: RenderWidget;
  private _groupsPanel = new Panel();
  private _resizeObserver: ResizeObserver | null = null;
  private _resizeFrame = 0;
  private _lastWidth = -1;
}
