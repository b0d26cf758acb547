/**
 * What the plugins of this extension share: identifiers, settings, and the
 * interfaces behind the `INbqueue` token. Interfaces only (no concrete class
 * is imported here), so that a plugin depends on what it uses, not on how it
 * is built, and no module imports back into the one that imports it.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { ServerConnection } from '@jupyterlab/services';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';

import type { IEventsMessage, JobEvent } from './service/events';
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
  Priority,
  ReorderTarget
} from './service/model';
import type {
  IPipeline,
  IPipelineSubmit,
  IRunNow,
  ISchedule,
  ISchedulePreview,
  IScheduleSubmit
} from './service/scheduleModel';

export type { Priority };

/** The id of the settings plugin; matches `schema/plugin.json`. */
export const PLUGIN_ID = 'nbqueue-labextension:plugin';

export namespace CommandIDs {
  export const submit = 'nbqueue:submit';
  export const openJobsPanel = 'nbqueue:open-jobs-panel';
  export const openJobsTable = 'nbqueue:open-jobs-table';
  export const rerunJob = 'nbqueue:job-rerun';
  export const setJobPriority = 'nbqueue:job-set-priority';
  export const moveJob = 'nbqueue:job-move';
}

/** `/api/schedules`: the user's schedules (admins: `all` for everyone's). */
export interface ISchedulesApi {
  list(options?: { all?: boolean }): Promise<ISchedule[]>;
  get(id: string): Promise<ISchedule>;
  create(submit: IScheduleSubmit): Promise<ISchedule>;
  remove(id: string): Promise<void>;
  pause(id: string): Promise<ISchedule>;
  resume(id: string): Promise<ISchedule>;
  runNow(id: string): Promise<IRunNow>;
  /** The human description and next firings of a cron expression. */
  preview(cron: string, timezone: string): Promise<ISchedulePreview>;
}

/** `/api/pipelines`: the user's pipelines (admins: `all` for everyone's). */
export interface IPipelinesApi {
  list(options?: { all?: boolean }): Promise<IPipeline[]>;
  get(id: string): Promise<IPipeline>;
  submit(submit: IPipelineSubmit): Promise<IPipeline>;
  cancel(id: string): Promise<IPipeline>;
  rerun(id: string): Promise<IPipeline>;
}

/**
 * The client of the nbqueue sidecar: its REST API (docs/protocol.md) and its
 * socket.io stream of job changes and events.
 */
export interface INbqueueService {
  /** Settings of the Jupyter server (its nbqueue extension serves files too). */
  readonly serverSettings: ServerConnection.ISettings;
  /** Every change of a job of this user, from the socket. */
  readonly jobChanged: ISignal<INbqueueService, IJob>;
  /** Every change of a pipeline of this user, from the socket. */
  readonly pipelineChanged: ISignal<INbqueueService, IPipeline>;
  /** Batches of events of subscribed jobs, from the socket. */
  readonly eventsReceived: ISignal<INbqueueService, IEventsMessage>;
  /** Emitted on every (re)connection of the socket: time to re-subscribe. */
  readonly connected: ISignal<INbqueueService, void>;
  /** Emitted when the socket cannot connect, with a sentence for a person. */
  readonly connectionFailed: ISignal<INbqueueService, Error>;

  readonly schedules: ISchedulesApi;
  readonly pipelines: IPipelinesApi;

  /** The sidecar's URL and token (from the Jupyter server extension). */
  connection(): Promise<IConnection>;
  getInfo(): Promise<IInfo>;
  getProfiles(): Promise<IProfile[]>;
  getQueues(): Promise<IQueue[]>;
  /** What the caller's jobs take in the sidecar's store. */
  getUsage(): Promise<IUsage>;
  /** The user's own mail and webhook notifications when their jobs end. */
  getNotifications(): Promise<INotifications>;
  setNotifications(settings: INotificationsSet): Promise<INotifications>;
  submitJob(submit: IJobSubmit): Promise<IJob>;
  listJobs(states?: string[]): Promise<IJob[]>;
  /** One page of jobs, newest first. */
  listJobsPage(options?: IListJobsOptions): Promise<IJobsPage>;
  getJob(id: string): Promise<IJob>;
  cancelJob(id: string): Promise<IJob>;
  holdJob(id: string): Promise<IJob>;
  releaseJob(id: string): Promise<IJob>;
  /** A new queued job with the same spec, on `profile` if given. */
  rerunJob(id: string, profile?: string): Promise<IJob>;
  moveJob(id: string, queue: string): Promise<IJob>;
  setPriority(id: string, priority: string): Promise<IJob>;
  reorderJob(id: string, target: ReorderTarget): Promise<IJob>;
  /** The runner's log, as text. */
  getLog(id: string): Promise<string>;
  /** Logged metrics with `seq > since`, oldest first. */
  getMetrics(
    id: string,
    options?: { since?: number; kind?: MetricKind }
  ): Promise<{ metrics: IMetricRow[]; cursor: number }>;
  getEvents(
    id: string,
    after: number
  ): Promise<{ events: JobEvent[]; last_seq: number }>;
  getResult(id: string): Promise<nbformat.INotebookContent>;
  /** Uploads a job's working files (.tar.gz) from the browser. */
  uploadInputBundle(archive: Blob): Promise<IBundleUpload>;
  /** A finished job's output files (.tar.gz). */
  getOutputFiles(id: string): Promise<Blob>;
  /** Join a job's event stream; events with `seq > after` arrive through `eventsReceived`. */
  subscribe(jobId: string, after: number): Promise<ISubscribeAck>;
  unsubscribe(jobId: string): void;
  /** The socket, opened on first use. */
  socket(): Promise<{ readonly connected: boolean }>;
}

/** Streams jobs' outputs into open notebooks. */
export interface ILiveFollower {
  /** The seq last applied for a followed job, or null if not followed. */
  lastSeq(jobId: string): number | null;
  /** Stream a job's outputs into this panel's cells. */
  follow(job: IJob, panel: NotebookPanel): Promise<void>;
  /** Follow again the active jobs this notebook was following before a reload. */
  resume(panel: NotebookPanel): Promise<void>;
}

/** Tells the user when a job submitted from this page ends. */
export interface IJobNotifier {
  /** Notify when this job ends. */
  watch(job: IJob): void;
  /** Save the job's executed notebook next to the original and open it. */
  openResult(job: IJob): Promise<void>;
}

/**
 * What the main plugin shares with the other plugins of this extension: one
 * sidecar client, and the live follower and end-of-job notifier built on it.
 */
export interface INbqueue {
  readonly service: INbqueueService;
  readonly follower: ILiveFollower;
  readonly notifier: IJobNotifier;
}

export const INbqueue = new Token<INbqueue>(
  'nbqueue-labextension:INbqueue',
  'The nbqueue sidecar client, live follower and job notifier.'
);

/** The user settings of `schema/plugin.json`. */
export interface ISettings {
  defaultProfile: string;
  defaultPriority: Priority;
  streamOutputs: boolean;
  /** Empty: ask the Jupyter server extension. */
  sidecarUrl: string;
  /** A desktop notification when a job ends while this page is hidden. */
  desktopNotifications: boolean;
  /** Sent to the sidecar when changed here (the CLI's `nbqueue notify` sets the same). */
  notifyEmail: string;
  notifyWebhook: string;
  notifyOn: Array<'succeeded' | 'failed' | 'cancelled'>;
}

export const DEFAULT_SETTINGS: ISettings = {
  defaultProfile: 'cpu',
  defaultPriority: 'normal',
  streamOutputs: true,
  sidecarUrl: '',
  desktopNotifications: true,
  notifyEmail: '',
  notifyWebhook: '',
  notifyOn: ['succeeded', 'failed', 'cancelled']
};
