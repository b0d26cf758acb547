/**
 * `MetricsChart`: the metrics of a notebook output, a job, or several jobs
 * side by side, drawn with plotly.js as one chart per metric group, with an
 * x axis toggle (step or wall time), EMA smoothing, and PNG and CSV downloads.
 *
 * Points can be added while the chart is shown (`updateSeries`, `extend`); redraws
 * are coalesced to at most ten a second, and each trace is downsampled to at
 * most `maxPoints` points while the full data stays for the CSV.
 */
import { Widget } from '@lumino/widgets';

import { toCsv } from './csv';
import { DEFAULT_SMOOTHING, Ema } from './ema';
import { groupOf } from './group';
import { downsample, MAX_POINTS, take } from './lttb';
import { IPlotly, loadPlotly } from './plotly';
import { browserClock, IClock, Throttle } from './throttle';
import { IMetricPoints, IMetricSeries, seriesKey, seriesLabel } from './types';

/** At most this many redraws a second. */
const REDRAWS_PER_SECOND = 10;

/** Trace colours, in the order series first appear (plotly's defaults). */
const COLORS = [
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

export namespace MetricsChart {
  export type XAxis = 'step' | 'time';

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
  }
}

/** A series and the smoothing computed for it so far. */
interface IEntry {
  series: IMetricSeries;
  ema: Ema | null;
  color: string;
}

/** One group's chart in the DOM. */
interface IGroupView {
  node: HTMLElement;
  plot: HTMLElement;
  drawn: boolean;
}

export class MetricsChart extends Widget {
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
    this._throttle = new Throttle(
      () => this._draw(),
      1000 / REDRAWS_PER_SECOND,
      options.clock ?? browserClock
    );

    this.node.appendChild(this._buildToolbar());
    this._groupsNode = document.createElement('div');
    this._groupsNode.className = 'nbq-MetricsChart-groups';
    this.node.appendChild(this._groupsNode);
    if (typeof ResizeObserver !== 'undefined') {
      this._resizeObserver = new ResizeObserver(() => this._resizePlots());
      this._resizeObserver.observe(this._groupsNode);
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
    this._xAxisSelect.value = value;
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
    this._smoothingInput.value = String(weight);
    this._smoothingValue.textContent = weight.toFixed(2);
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
          this._append(entry, {
            name: s.name,
            steps: s.steps.slice(from),
            values: s.values.slice(from),
            times: s.times.slice(from)
          });
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

  /** The full data as CSV (`name,step,value,time`, plus `job` when set). */
  toCsv(): string {
    return toCsv(this.series);
  }

  /** Save the full data as `<filename>.csv`. */
  downloadCsv(): void {
    const blob = new Blob([this.toCsv()], { type: 'text/csv' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${this._filename}.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }

  /** Save one group's chart as `<filename>-<group>.png`. */
  async downloadPng(group: string): Promise<void> {
    const view = this._views.get(group);
    if (!view || !view.drawn) {
      return;
    }
    const plotly = await this._plotly();
    await plotly.downloadImage(view.plot, {
      format: 'png',
      filename: `${this._filename}-${group.replace(/[^\w.-]+/g, '_')}`
    });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._throttle.dispose();
    this._resizeObserver?.disconnect();
    for (const view of this._views.values()) {
      this._purge(view);
    }
    this._views.clear();
    super.dispose();
  }

  private _add(series: IMetricSeries): void {
    const key = seriesKey(series);
    const n = series.values.length;
    const times =
      series.times.length === n ? series.times.slice() : new Array(n).fill(NaN);
    this._entries.set(key, {
      series: {
        ...series,
        steps: series.steps.slice(),
        values: series.values.slice(),
        times
      },
      ema: null,
      color: this._colorOf(key)
    });
    this._dirty.add(this._group(series.name));
  }

  private _append(entry: IEntry, points: IMetricPoints): void {
    const { series } = entry;
    const n = points.values.length;
    for (let i = 0; i < n; i++) {
      series.steps.push(points.steps[i]);
      series.values.push(points.values[i]);
      series.times.push(points.times[i] ?? NaN);
    }
    entry.ema?.extend(points.values);
    this._dirty.add(this._group(series.name));
  }

  private _remove(key: string): void {
    const entry = this._entries.get(key);
    if (entry) {
      this._entries.delete(key);
      this._dirty.add(this._group(entry.series.name));
    }
  }

  private _colorOf(key: string): string {
    let index = this._colorIndex.get(key);
    if (index === undefined) {
      index = this._colorIndex.size;
      this._colorIndex.set(key, index);
    }
    return COLORS[index % COLORS.length];
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
    const groups = new Map<string, IEntry[]>();
    for (const entry of this._entries.values()) {
      const group = this._group(entry.series.name);
      const members = groups.get(group);
      if (members) {
        members.push(entry);
      } else {
        groups.set(group, [entry]);
      }
    }
    return groups;
  }

  /** Redraw the groups whose series changed. */
  private async _draw(): Promise<void> {
    if (this._dirty.size === 0 || this.isDisposed) {
      return;
    }
    const plotly = await this._plotly();
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

    for (const group of dirty) {
      const members = groups.get(group);
      const view = this._views.get(group);
      if (!members) {
        if (view) {
          this._purge(view, plotly);
          view.node.remove();
          this._views.delete(group);
        }
        continue;
      }
      const target = view ?? this._createView(group);
      const traces = members.flatMap(entry => this._traces(entry));
      const layout = {
        height: this._height,
        autosize: true,
        margin: { l: 55, r: 15, t: 10, b: 40 },
        hovermode: 'x unified',
        showlegend: true,
        legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
        font: { color: fontColor, size: 11 },
        xaxis: {
          title: { text: this._xAxis === 'step' ? 'step' : 'time' },
          type: this._xAxis === 'step' ? 'linear' : 'date',
          // Steps are whole numbers: no 0.2, 0.4 ticks on a short run.
          ...(this._xAxis === 'step' && lastStep(members) <= 10
            ? { dtick: 1 }
            : {}),
          gridcolor: gridColor,
          zeroline: false
        },
        yaxis: { gridcolor: gridColor, zeroline: false, automargin: true },
        // Keep zoom and hidden traces across live updates.
        uirevision: `${group}:${this._xAxis}`
      };
      const config = {
        responsive: false,
        displaylogo: false,
        modeBarButtonsToRemove: ['lasso2d', 'select2d'],
        toImageButtonOptions: { filename: `${this._filename}-${group}` }
      };
      await plotly.react(target.plot, traces, layout, config);
      if (this.isDisposed) {
        return;
      }
      target.drawn = true;
      const points = members.reduce(
        (sum, entry) => sum + entry.series.values.length,
        0
      );
      target.node.dataset.points = String(points);
      target.node.dataset.series = String(members.length);
    }
    // Groups in the order their first series was added.
    let previous: HTMLElement | null = null;
    for (const group of groups.keys()) {
      const node = this._views.get(group)?.node;
      if (node) {
        const expected: ChildNode | null = previous
          ? previous.nextSibling
          : this._groupsNode.firstChild;
        if (expected !== node) {
          this._groupsNode.insertBefore(node, expected);
        }
        previous = node;
      }
    }
    this._draws += 1;
    this.node.dataset.draws = String(this._draws);
  }

  /** The plotly traces of one series: raw (faint when smoothed) and smoothed. */
  private _traces(entry: IEntry): object[] {
    const { series, color } = entry;
    const label = escapeText(seriesLabel(series));
    const xs = this._xAxis === 'step' ? series.steps : series.times;
    const x = (indices: number[]) =>
      this._xAxis === 'step'
        ? take(xs, indices)
        : take(xs, indices).map(t => new Date(t));
    const trace = (
      values: readonly (number | null)[],
      name: string,
      extra: object
    ) => {
      const indices = downsample(series.steps, values, this._maxPoints);
      return {
        type: 'scatter',
        mode: indices.length <= 50 ? 'lines+markers' : 'lines',
        x: x(indices),
        y: take(values, indices),
        name,
        legendgroup: seriesKey(series),
        connectgaps: false,
        hovertemplate: '%{y:.6g}',
        marker: { size: 4, color },
        ...extra
      };
    };
    if (this._smoothing === 0) {
      return [trace(series.values, label, { line: { color, width: 1.5 } })];
    }
    if (!entry.ema) {
      entry.ema = new Ema(this._smoothing);
      entry.ema.extend(series.values);
    }
    return [
      trace(series.values, `${label} (raw)`, {
        line: { color, width: 1 },
        opacity: 0.3,
        showlegend: false
      }),
      trace(entry.ema.values, label, { line: { color, width: 2 } })
    ];
  }

  private _createView(group: string): IGroupView {
    const node = document.createElement('div');
    node.className = 'nbq-MetricsChart-group';
    node.dataset.group = group;
    const header = document.createElement('div');
    header.className = 'nbq-MetricsChart-groupHeader';
    const title = document.createElement('span');
    title.className = 'nbq-MetricsChart-groupTitle';
    title.textContent = group;
    const png = button('PNG', `Download the ${group} chart as PNG`, () => {
      void this.downloadPng(group);
    });
    png.classList.add('nbq-MetricsChart-png');
    header.append(title, png);
    const plot = document.createElement('div');
    plot.className = 'nbq-MetricsChart-plot';
    node.append(header, plot);
    this._groupsNode.appendChild(node);
    const view = { node, plot, drawn: false };
    this._views.set(group, view);
    return view;
  }

  private _purge(view: IGroupView, plotly?: IPlotly): void {
    if (view.drawn) {
      if (plotly) {
        plotly.purge(view.plot);
      } else {
        void this._plotlyPromise?.then(p => p.purge(view.plot));
      }
    }
  }

  private _resizePlots(): void {
    if (this._resizeFrame || !this._plotlyPromise) {
      return;
    }
    this._resizeFrame = requestAnimationFrame(() => {
      this._resizeFrame = 0;
      const width = this._groupsNode.clientWidth;
      if (width === this._lastWidth || width === 0) {
        return;
      }
      this._lastWidth = width;
      void this._plotlyPromise?.then(plotly => {
        for (const view of this._views.values()) {
          if (view.drawn && !this.isDisposed) {
            void plotly.Plots.resize(view.plot);
          }
        }
      });
    });
  }

  private _buildToolbar(): HTMLElement {
    const toolbar = document.createElement('div');
    toolbar.className = 'nbq-MetricsChart-toolbar';

    const axisLabel = document.createElement('label');
    axisLabel.textContent = 'x axis ';
    this._xAxisSelect = document.createElement('select');
    this._xAxisSelect.name = 'x-axis';
    for (const [value, text] of [
      ['step', 'step'],
      ['time', 'wall time']
    ]) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = text;
      this._xAxisSelect.appendChild(option);
    }
    this._xAxisSelect.value = this._xAxis;
    this._xAxisSelect.addEventListener('change', () => {
      this.xAxis = this._xAxisSelect.value as MetricsChart.XAxis;
    });
    axisLabel.appendChild(this._xAxisSelect);

    const smoothingLabel = document.createElement('label');
    smoothingLabel.textContent = 'smoothing ';
    this._smoothingInput = document.createElement('input');
    this._smoothingInput.type = 'range';
    this._smoothingInput.name = 'smoothing';
    this._smoothingInput.min = '0';
    this._smoothingInput.max = '0.99';
    this._smoothingInput.step = '0.01';
    this._smoothingInput.value = String(this._smoothing);
    this._smoothingValue = document.createElement('span');
    this._smoothingValue.className = 'nbq-MetricsChart-smoothingValue';
    this._smoothingValue.textContent = this._smoothing.toFixed(2);
    this._smoothingInput.addEventListener('input', () => {
      this.smoothing = Number(this._smoothingInput.value);
    });
    smoothingLabel.append(this._smoothingInput, this._smoothingValue);

    const csv = button('CSV', 'Download all points as CSV', () =>
      this.downloadCsv()
    );
    csv.classList.add('nbq-MetricsChart-csv');

    toolbar.append(axisLabel, smoothingLabel, csv);
    return toolbar;
  }

  private _entries = new Map<string, IEntry>();
  private _colorIndex = new Map<string, number>();
  private _views = new Map<string, IGroupView>();
  private _dirty = new Set<string>();
  private _draws = 0;
  private _xAxis: MetricsChart.XAxis;
  private _smoothing: number;
  private _maxPoints: number;
  private _group: (name: string) => string;
  private _filename: string;
  private _height: number;
  private _loadPlotly: () => Promise<IPlotly>;
  private _plotlyPromise: Promise<IPlotly> | null = null;
  private _throttle: Throttle;
  private _groupsNode: HTMLElement;
  private _resizeObserver: ResizeObserver | null = null;
  private _resizeFrame = 0;
  private _lastWidth = -1;
  private _xAxisSelect!: HTMLSelectElement;
  private _smoothingInput!: HTMLInputElement;
  private _smoothingValue!: HTMLElement;
}

/** The largest step of the entries' series (0 when they are empty). */
function lastStep(entries: IEntry[]): number {
  let max = 0;
  for (const { series } of entries) {
    const last = series.steps[series.steps.length - 1];
    if (Number.isFinite(last)) {
      max = Math.max(max, last);
    }
  }
  return max;
}

/** Whether `next` is `current` with points added at the end. */
function extendsSeries(current: IMetricSeries, next: IMetricSeries): boolean {
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

function clampSmoothing(value: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 0.99) : 0;
}

/** Plotly reads a few HTML tags in texts; a metric name is plain text. */
function escapeText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function button(
  text: string,
  title: string,
  onClick: () => void
): HTMLButtonElement {
  const node = document.createElement('button');
  node.type = 'button';
  node.className = 'jp-mod-styled jp-mod-reject nbq-MetricsChart-button';
  node.textContent = text;
  node.title = title;
  node.addEventListener('click', onClick);
  return node;
}
