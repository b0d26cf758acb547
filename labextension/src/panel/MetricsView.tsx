/**
 * The Metrics view of one job, or of several jobs overlaid for comparison:
 * the stored points (`GET /api/jobs/:id/metrics`), then live `metric` events
 * from the job's socket.io room. The user's metrics and the runner's system
 * metrics (CPU, memory, GPUs) get a section each: a heading (React) over a
 * `MetricsChart`.
 */
import { VDomModel, VDomRenderer } from '@jupyterlab/apputils';
import { Panel } from '@lumino/widgets';
import * as React from 'react';

import { MetricsChart } from '../metrics/chart';
import { systemGroupOf } from '../metrics/units';
import { describe } from '../service/errors';
import type { IEventsMessage } from '../service/events';
import { IJob, IMetricRow, isFinal } from '../service/model';
import type { ILiveFollower, INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { MetricKind, metricRowsOf, pointsOf } from './metricsPoints';

export namespace MetricsView {
  export interface IOptions {
    service: Pick<
      INbqueueService,
      'eventsReceived' | 'getJob' | 'getMetrics' | 'subscribe' | 'unsubscribe'
    >;
    follower: Pick<ILiveFollower, 'lastSeq'>;
    /** One job: its metrics; several: overlaid, each series named by job. */
    jobs: IJob[];
    /** For tests: a plotly stand-in and a clock for the charts. */
    chart?: Pick<MetricsChart.IOptions, 'plotly' | 'clock'>;
    trans?: TranslationBundle;
  }
}

/** What the view's texts show: the header, a failure, the empty sections. */
class MetricsViewModel extends VDomModel {
  constructor(readonly title: string) {
    super();
  }

  get status(): string {
    return this._status;
  }

  set status(value: string) {
    this._status = value;
    this.stateChanged.emit();
  }

  /** Whether a section has no point yet. */
  isEmpty(kind: MetricKind): boolean {
    return !this._filled.has(kind);
  }

  fill(kind: MetricKind): void {
    if (!this._filled.has(kind)) {
      this._filled.add(kind);
      this.stateChanged.emit();
    }
  }

  private _status = '';
  private _filled = new Set<MetricKind>();
}

/** The header line and the failure under it. */
class MetricsViewHeader extends VDomRenderer<MetricsViewModel> {
  protected render(): React.ReactElement {
    return (
      <>
        <div className="nbq-MetricsView-header">{this.model.title}</div>
        <div className="nbq-MetricsView-status">{this.model.status}</div>
      </>
    );
  }
}

/** A section's heading, and what it says while it has no point. */
class SectionHeading extends VDomRenderer<MetricsViewModel> {
  constructor(
    model: MetricsViewModel,
    private readonly _kind: MetricKind,
    private readonly _trans: TranslationBundle
  ) {
    super(model);
  }

  protected render(): React.ReactElement {
    const trans = this._trans;
    const user = this._kind === 'user';
    return (
      <>
        <h3>{user ? trans.__('Metrics') : trans.__('System')}</h3>
        <div
          className="nbq-MetricsView-empty"
          hidden={!this.model.isEmpty(this._kind)}
        >
          {user
            ? trans.__(
                'No metrics logged yet (nbqueue.log_metric in the notebook).'
              )
            : trans.__('No system metrics sampled yet.')}
        </div>
      </>
    );
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
    this._trans = options.trans ?? nbqueueBundle();
    this._compare = options.jobs.length > 1;
    this.addClass('nbq-MetricsView');
    this.node.dataset.jobs = options.jobs.map(job => job.id).join(',');

    const first = options.jobs[0];
    this._model = new MetricsViewModel(
      this._compare
        ? this._trans.__(
            'Comparing %1',
            options.jobs.map(job => job.name).join(', ')
          )
        : `${first.name} (${first.id})`
    );
    // Children of this panel, not attached by hand: the view is built before
    // it is in the page, and Lumino attaches only to a host in the document.
    this.addWidget(new MetricsViewHeader(this._model));
    const filename = this._compare
      ? 'metrics-comparison'
      : `${first.id}-metrics`;
    this._charts = {
      user: this._section('user', filename, options.chart),
      system: this._section('system', `${filename}-system`, options.chart)
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
    this._model.dispose();
    super.dispose();
  }

  private _section(
    kind: MetricKind,
    filename: string,
    chartOptions: MetricsView.IOptions['chart'] = {}
  ): MetricsChart {
    const section = new Panel();
    section.addClass('nbq-MetricsView-section');
    section.addClass(`nbq-MetricsView-${kind}`);
    section.addWidget(new SectionHeading(this._model, kind, this._trans));
    // The runner's samples are over time, in MiB/GiB and %; one chart per
    // unit. The user's metrics stay on their steps, as logged.
    const system = kind === 'system';
    const chart = new MetricsChart({
      ...chartOptions,
      filename,
      height: 220,
      trans: this._trans,
      ...(system
        ? { xAxis: 'time' as const, units: true, group: systemGroupOf }
        : {})
    });
    section.addWidget(chart);
    this.addWidget(section);
    return chart;
  }

  private _load(): Promise<void> {
    this._ready = Promise.all(
      [...this._sources.values()].map(source => this._loadSource(source))
    ).then(() => undefined);
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
      if (!this.isDisposed) {
        this._model.status = this._trans.__(
          'Could not read the metrics of job %1: %2',
          id,
          describe(error)
        );
      }
    }
  }

  private _onEvents(_: unknown, message: IEventsMessage): void {
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
        this._model.fill(kind);
        void this._charts[kind].extend(pointsOf(ofKind, named));
      }
    }
  }

  private _service: MetricsView.IOptions['service'];
  private _follower: Pick<ILiveFollower, 'lastSeq'>;
  private _trans: TranslationBundle;
  private _compare: boolean;
  private _model: MetricsViewModel;
  private _charts: Record<MetricKind, MetricsChart>;
  private _sources = new Map<string, ISource>();
  private _ready: Promise<void> = Promise.resolve();
}
