/**
 * One client for the nbqueue sidecar: the REST API and the socket.io stream.
 *
 * The sidecar's address and token come from the Jupyter server extension
 * (`GET <jupyter base>/nbqueue/connection`); the sidecar itself is then called
 * directly, with a bearer token (it answers CORS, it uses no cookies).
 *
 * Under JupyterHub, where nbqueue runs as a hub service, the extension answers
 * `{"mode": "hub", "url": "/services/<name>"}`: the service is on the page's
 * own origin and takes JupyterLab's hub token (PageConfig `token`).
 */
import { PageConfig } from '@jupyterlab/coreutils';
import type * as nbformat from '@jupyterlab/nbformat';
import { ServerConnection } from '@jupyterlab/services';
import type { ITranslator } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import { io, ManagerOptions, Socket, SocketOptions } from 'socket.io-client';

import type { INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { fetchConnection, readJson } from './connection';
import { codeOf, describe, messageOf, NbqueueError } from './errors';
import type { IEventsMessage, JobEvent } from './events';
import type {
  IBundleUpload,
  IConnection,
  IInfo,
  IJob,
  IJobsPage,
  IJobSubmit,
  IListJobsOptions,
  IMetricRow,
  IProfile,
  IQueue,
  INotifications,
  INotificationsSet,
  IUsage,
  ISubscribeAck,
  MetricKind,
  ReorderTarget
} from './model';
import { PipelinesClient } from './pipelines';
import type { IPipeline } from './scheduleModel';
import { SchedulesClient } from './schedules';

export type SocketFactory = (
  url: string,
  options: Partial<ManagerOptions & SocketOptions>
) => Socket;

export namespace NbqueueService {
  export interface IOptions {
    /** Settings of the Jupyter server that serves the connection endpoint. */
    serverSettings?: ServerConnection.ISettings;
    /** The sidecar URL override of the user settings; empty for none. */
    sidecarUrl?: () => string;
    /** For tests; defaults to socket.io-client's `io`. */
    socketFactory?: SocketFactory;
    /** Translates the error sentences shown to the user. */
    translator?: ITranslator | null;
  }
}

export class NbqueueService implements INbqueueService {
  constructor(options: NbqueueService.IOptions = {}) {
    this._trans = nbqueueBundle(options.translator);
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._sidecarUrl = options.sidecarUrl ?? (() => '');
    this._socketFactory = options.socketFactory ?? io;
  }

  /** Settings of the Jupyter server (its nbqueue extension serves files too). */
  get serverSettings(): ServerConnection.ISettings {
    return this._serverSettings;
  }

  /** Every change of a job of this user, from the socket. */
  get jobChanged(): ISignal<this, IJob> {
    return this._jobChanged;
  }

  /** Every change of a pipeline of this user, from the socket. */
  get pipelineChanged(): ISignal<this, IPipeline> {
    return this._pipelineChanged;
  }

  /** `/api/schedules`. */
  readonly schedules = new SchedulesClient((path, init) =>
    this._request(path, init)
  );

  /** `/api/pipelines`. */
  readonly pipelines = new PipelinesClient((path, init) =>
    this._request(path, init)
  );

  /** Batches of events of subscribed jobs, from the socket. */
  get eventsReceived(): ISignal<this, IEventsMessage> {
    return this._eventsReceived;
  }

  /** Emitted on every (re)connection of the socket: time to re-subscribe. */
  get connected(): ISignal<this, void> {
    return this._connected;
  }

  /** Emitted when the socket cannot connect, with a sentence for a person. */
  get connectionFailed(): ISignal<this, NbqueueError> {
    return this._connectionFailed;
  }

  /**
   * The sidecar's URL and token, asked once from the Jupyter server extension
   * (asked again after a failure).
   */
  connection(): Promise<IConnection> {
    if (!this._connection) {
      this._connection = fetchConnection(
        this._serverSettings,
        this._sidecarUrl,
        this._trans
      ).catch(error => {
        this._connection = null;
        throw error;
      });
    }
    return this._connection;
  }

  async getProfiles(): Promise<IProfile[]> {
    const body = await this._request<{ profiles: IProfile[] }>('api/profiles');
    return body.profiles;
  }

  submitJob(submit: IJobSubmit): Promise<IJob> {
    return this._request<IJob>('api/jobs', {
      method: 'POST',
      body: JSON.stringify(submit)
    });
  }

  async listJobs(states?: string[]): Promise<IJob[]> {
    const query = states ? `?state=${states.join(',')}` : '';
    const body = await this._request<{ jobs: IJob[] }>(`api/jobs${query}`);
    return body.jobs;
  }

  getInfo(): Promise<IInfo> {
    return this._request<IInfo>('api/info');
  }

  async getQueues(): Promise<IQueue[]> {
    const body = await this._request<{ queues: IQueue[] }>('api/queues');
    return body.queues;
  }

  getUsage(): Promise<IUsage> {
    return this._request<IUsage>('api/usage');
  }

  getNotifications(): Promise<INotifications> {
    return this._request<INotifications>('api/notifications');
  }

  setNotifications(settings: INotificationsSet): Promise<INotifications> {
    return this._request<INotifications>('api/notifications', {
      method: 'PUT',
      body: JSON.stringify(settings)
    });
  }

  /** One page of jobs, newest first. */
  listJobsPage(options: IListJobsOptions = {}): Promise<IJobsPage> {
    const query = new URLSearchParams();
    if (options.all) {
      query.set('all', '1');
    }
    if (options.states?.length) {
      query.set('state', options.states.join(','));
    }
    if (options.queue) {
      query.set('queue', options.queue);
    }
    if (options.limit !== undefined) {
      query.set('limit', String(options.limit));
    }
    if (options.cursor !== undefined) {
      query.set('cursor', String(options.cursor));
    }
    const text = query.toString();
    return this._request<IJobsPage>(`api/jobs${text ? `?${text}` : ''}`);
  }

  holdJob(id: string): Promise<IJob> {
    return this._jobAction(id, 'hold');
  }

  releaseJob(id: string): Promise<IJob> {
    return this._jobAction(id, 'release');
  }

  /** A new queued job with the same spec, on `profile` if given. */
  rerunJob(id: string, profile?: string): Promise<IJob> {
    return this._jobAction(id, 'rerun', profile ? { profile } : {});
  }

  moveJob(id: string, queue: string): Promise<IJob> {
    return this._jobAction(id, 'move', { queue });
  }

  setPriority(id: string, priority: string): Promise<IJob> {
    return this._jobAction(id, 'priority', { priority });
  }

  reorderJob(id: string, target: ReorderTarget): Promise<IJob> {
    return this._jobAction(id, 'reorder', target);
  }

  /** The runner's log, as text. */
  async getLog(id: string): Promise<string> {
    const response = await this._fetch(
      `api/jobs/${encodeURIComponent(id)}/log`
    );
    return response.text();
  }

  /** Logged metrics with `seq > since`, oldest first. */
  getMetrics(
    id: string,
    options: { since?: number; kind?: MetricKind } = {}
  ): Promise<{ metrics: IMetricRow[]; cursor: number }> {
    const query = new URLSearchParams({ since: String(options.since ?? 0) });
    if (options.kind) {
      query.set('kind', options.kind);
    }
    return this._request(
      `api/jobs/${encodeURIComponent(id)}/metrics?${query.toString()}`
    );
  }

  /**
   * Uploads a job's working files (a .tar.gz the Jupyter server built) from
   * the browser: hub mode, where the Jupyter server holds no sidecar token.
   */
  uploadInputBundle(archive: Blob): Promise<IBundleUpload> {
    return this._request('api/files/bundles', {
      method: 'POST',
      headers: { 'Content-Type': 'application/gzip' },
      body: archive
    });
  }

  /** A finished job's output files (.tar.gz), for the Jupyter server to unpack. */
  async getOutputFiles(id: string): Promise<Blob> {
    const response = await this._fetch(
      `api/jobs/${encodeURIComponent(id)}/files/output`
    );
    return response.blob();
  }

  getJob(id: string): Promise<IJob> {
    return this._request<IJob>(`api/jobs/${encodeURIComponent(id)}`);
  }

  cancelJob(id: string): Promise<IJob> {
    return this._request<IJob>(`api/jobs/${encodeURIComponent(id)}/cancel`, {
      method: 'POST'
    });
  }

  getEvents(
    id: string,
    after: number
  ): Promise<{ events: JobEvent[]; last_seq: number }> {
    return this._request(
      `api/jobs/${encodeURIComponent(id)}/events?after=${after}`
    );
  }

  getResult(id: string): Promise<nbformat.INotebookContent> {
    return this._request(`api/jobs/${encodeURIComponent(id)}/result`);
  }

  /**
   * Join a job's event stream; events with `seq > after` arrive through
   * `eventsReceived`.
   */
  async subscribe(jobId: string, after: number): Promise<ISubscribeAck> {
    const socket = await this.socket();
    const ack = (await socket
      .timeout(SUBSCRIBE_TIMEOUT_MS)
      .emitWithAck('subscribe', {
        job_id: jobId,
        after
      })) as ISubscribeAck;
    if (!ack?.ok) {
      throw new NbqueueError(
        ack?.error?.code ?? 'subscribe_failed',
        ack?.error?.message ?? this._trans.__('Could not follow job %1.', jobId)
      );
    }
    return ack;
  }

  unsubscribe(jobId: string): void {
    this._socket?.emit('unsubscribe', { job_id: jobId });
  }

  /** The socket, opened on first use; socket.io reconnects it by itself. */
  async socket(): Promise<Socket> {
    if (this._socket) {
      return this._socket;
    }
    const { url, token } = await this.connection();
    if (this._socket) {
      return this._socket;
    }
    // A sidecar under a path (a hub service: /services/nbqueue) answers
    // socket.io below it; socket.io would take the path for a namespace.
    const target = new URL(url, window.location.href);
    const socket = this._socketFactory(target.origin, {
      path: `${target.pathname.replace(/\/+$/, '')}/socket.io`,
      auth: { token },
      transports: ['websocket', 'polling']
    });
    socket.on('connect', () => {
      this._reportedFailure = false;
      this._connected.emit();
    });
    socket.on('connect_error', (error: Error) => {
      // Report once per outage, not at every retry of socket.io.
      if (this._reportedFailure) {
        return;
      }
      this._reportedFailure = true;
      const unauthorized = error.message === 'unauthorized';
      const trans = this._trans;
      this._connectionFailed.emit(
        new NbqueueError(
          unauthorized ? 'unauthorized' : 'unreachable',
          unauthorized
            ? PageConfig.getOption('hubPrefix')
              ? trans.__(
                  "The nbqueue service at %1 refused JupyterLab's hub token. Your hub admin allows it with c.Spawner.oauth_client_allowed_scopes (see nbqueue's docs/jupyterhub.md); then restart your server.",
                  url
                )
              : trans.__(
                  'The nbqueue sidecar at %1 refused the token. Restart JupyterLab after restarting the sidecar so the token is read again.',
                  url
                )
            : trans.__(
                'Lost the live connection to the nbqueue sidecar at %1 (%2); retrying. Check that the sidecar is running.',
                url,
                error.message
              )
        )
      );
    });
    socket.on('job', (job: IJob) => this._jobChanged.emit(job));
    socket.on('pipeline', (pipeline: IPipeline) =>
      this._pipelineChanged.emit(pipeline)
    );
    socket.on('events', (message: IEventsMessage) =>
      this._eventsReceived.emit(message)
    );
    this._socket = socket;
    return socket;
  }

  dispose(): void {
    this._socket?.disconnect();
    this._socket = null;
    Signal.clearData(this);
  }

  private _jobAction(
    id: string,
    action: string,
    body?: Record<string, unknown>
  ): Promise<IJob> {
    return this._request<IJob>(`api/jobs/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  }

  private async _request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this._fetch(path, init);
    return (await readJson(response)) as T;
  }

  /** One call to the sidecar with the token; an error answer throws its sentence. */
  private async _fetch(
    path: string,
    init: RequestInit = {}
  ): Promise<Response> {
    const { url, token } = await this.connection();
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    if (init.body !== undefined && !headers.has('Content-Type')) {
      headers.set('Content-Type', 'application/json');
    }
    let response: Response;
    try {
      response = await fetch(`${url}/${path}`, { ...init, headers });
    } catch (error) {
      throw new NbqueueError(
        'unreachable',
        this._trans.__(
          'Cannot reach the nbqueue sidecar at %1 (%2). Check that the sidecar is running, or set its URL in Settings → nbqueue.',
          url,
          describe(error)
        )
      );
    }
    if (!response.ok) {
      const body = await readJson(response);
      throw new NbqueueError(
        codeOf(body) ?? 'http_error',
        messageOf(body) ??
          this._trans.__(
            'The nbqueue sidecar answered %1 %2 to %3 /%4.',
            response.status,
            response.statusText,
            init.method ?? 'GET',
            path
          ),
        response.status
      );
    }
    return response;
  }

  private _trans: TranslationBundle;
  private _serverSettings: ServerConnection.ISettings;
  private _sidecarUrl: () => string;
  private _socketFactory: SocketFactory;
  private _connection: Promise<IConnection> | null = null;
  private _socket: Socket | null = null;
  private _reportedFailure = false;
  private _jobChanged = new Signal<this, IJob>(this);
  private _pipelineChanged = new Signal<this, IPipeline>(this);
  private _eventsReceived = new Signal<this, IEventsMessage>(this);
  private _connected = new Signal<this, void>(this);
  private _connectionFailed = new Signal<this, NbqueueError>(this);
}

const SUBSCRIBE_TIMEOUT_MS = 30000;
