/**
 * The Metrics view of one job, or of several jobs overlaid for comparison:
 * the stored points (`GET /api/jobs/:id/metrics`), then live `metric` events
 * from the job's socket.io room. The user's metrics and the runner's system
 * metrics (CPU, memory, GPUs) get a section each.
 */
import { Panel, Widget } from '@lumino/widgets';

import type { LiveFollower } from '../live/follower';
import { MetricsChart } from '../metrics/chart';
import type { NbqueueService } from '../service/client';
import { describe } from '../service/errors';
import type { IEventsMessage } from '../service/events';
import { IJob, IMetricRow, isFinal } from '../service/model';
import { MetricKind, metricRowsOf, pointsOf } from './metricsPoints';

export namespace MetricsView {
  export interface IOptions {
    service: NbqueueService;
    follower: LiveFollower;
    /** One job: its metrics; several: overlaid, each series named by job. */
    jobs: IJob[];
    /** For tests: a plotly stand-in and a clock for the charts. */
    chart?: Pick<MetricsChart.IOptions, 'plotly' | 'clock'>;
  }
}

interface ISource {
  job: IJob;
  /** The highest seq of a metric shown. */
  seen: number;
  loaded: boolean;
  /** Live events that came before the stored ones were read. */
  early: IEventsMessage['events'];
  subscribed: boolean;
}

export class MetricsView extends Panel {
  constructor(options: MetricsView.IOptions) {
    super();
    this._service = options.service;
    this._follower = options.follower;
    this._compare = options.jobs.length > 1;
    this.addClass('nbq-MetricsView');
    this.node.dataset.jobs = options.jobs.map(job => job.id).join(',');

    const header = document.createElement('div');
    header.className = 'nbq-MetricsView-header';
    header.textContent = this._compare
      ? `Comparing ${options.jobs.map(job => job.name).join(', ')}`
      : `${options.jobs[0].name} (${options.jobs[0].id})`;
    this._status = document.createElement('div');
    this._status.className = 'nbq-MetricsView-status';
    const top = new Widget();
    top.node.append(header, this._status);
    this.addWidget(top);

    const filename = this._compare
      ? 'metrics-comparison'
      : `${options.jobs[0].id}-metrics`;
    this._charts = {
      user: this._section('user', 'Metrics', filename, options.chart),
      system: this._section(
        'system',
        'System',
        `${filename}-system`,
        options.chart
      )
    };
    for (const job of options.jobs) {
      this._sources.set(job.id, {
        job,
        seen: 0,
        loaded: false,
        early: [],
        subscribed: false
      });
    }
    this._service.eventsReceived.connect(this._onEvents, this);
    void this._load();
  }

  /** Resolves once the stored points of every job are shown. */
  get ready(): Promise<void> {
    return this._ready;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._service.eventsReceived.disconnect(this._onEvents, this);
    for (const source of this._sources.values()) {
      // The socket's room is shared: leave it only if no notebook follows the job.
      if (source.subscribed && this._follower.lastSeq(source.job.id) === null) {
        this._service.unsubscribe(source.job.id);
      }
    }
    super.dispose();
  }

  private _section(
    kind: MetricKind,
    title: string,
    filename: string,
    chartOptions: MetricsView.IOptions['chart'] = {}
  ): { node: HTMLElement; empty: HTMLElement; chart: MetricsChart } {
    // Children of this panel, not attached by hand: the view is built before
    // it is in the page, and Lumino attaches only to a host in the document.
    const section = new Panel();
    section.addClass('nbq-MetricsView-section');
    section.addClass(`nbq-MetricsView-${kind}`);
    const heading = document.createElement('h3');
    heading.textContent = title;
    const empty = document.createElement('div');
    empty.className = 'nbq-MetricsView-empty';
    empty.textContent =
      kind === 'user'
        ? 'No metrics logged yet (nbqueue.log_metric in the notebook).'
        : 'No system metrics sampled yet.';
    const head = new Widget();
    head.node.append(heading, empty);
    section.addWidget(head);
    const chart = new MetricsChart({ ...chartOptions, filename, height: 220 });
    section.addWidget(chart);
    this.addWidget(section);
    return { node: section.node, empty, chart };
  }

  private _load(): Promise<void> {
    this._ready = Promise.all(
      [...this._sources.values()].map(source => this._loadSource(source))
    ).then(() => {
      this._status.textContent = '';
    });
    return this._ready;
  }

  private async _loadSource(source: ISource): Promise<void> {
    const id = source.job.id;
    try {
      // Everything up to `last_seq` is in the stored points read after it;
      // the subscription replays what came later.
      const job = await this._service.getJob(id);
      source.job = job;
      const { metrics } = await this._service.getMetrics(id);
      if (this.isDisposed) {
        return;
      }
      this._show(source, metrics);
      source.loaded = true;
      this._show(source, metricRowsOf(source.early, source.seen));
      source.early = [];
      if (!isFinal(job.state)) {
        source.subscribed = true;
        await this._service.subscribe(id, job.last_seq);
      }
    } catch (error) {
      this._status.textContent = `Could not read the metrics of job ${id}: ${describe(error)}`;
    }
  }

  private _onEvents(_: NbqueueService, message: IEventsMessage): void {
    const source = this._sources.get(message.job_id);
    if (!source) {
      return;
    }
    if (!source.loaded) {
      source.early.push(...message.events);
      return;
    }
    this._show(source, metricRowsOf(message.events, source.seen));
  }

  private _show(source: ISource, rows: IMetricRow[]): void {
    const fresh = rows.filter(row => row.seq > source.seen);
    if (!fresh.length) {
      return;
    }
    source.seen = fresh[fresh.length - 1].seq;
    const named = this._compare
      ? { id: source.job.id, name: source.job.name }
      : undefined;
    for (const kind of ['user', 'system'] as const) {
      const ofKind = fresh.filter(row => row.kind === kind);
      if (ofKind.length) {
        const section = this._charts[kind];
        section.empty.hidden = true;
        void section.chart.extend(pointsOf(ofKind, named));
      }
    }
  }

  private _service: NbqueueService;
  private _follower: LiveFollower;
  private _compare: boolean;
  private _status: HTMLElement;
  private _charts: Record<
    MetricKind,
    { node: HTMLElement; empty: HTMLElement; chart: MetricsChart }
  >;
  private _sources = new Map<string, ISource>();
  private _ready: Promise<void> = Promise.resolve();
}
