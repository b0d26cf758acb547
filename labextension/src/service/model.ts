/**
 * Shapes of the sidecar's REST API (docs/protocol.md): the types generated
 * from its OpenAPI document (`api` of @nbqueue/common, common/src/api.ts:
 * `npm run generate:api -w server`), named as this extension uses them. Only
 * what the document does not describe is written here: the Jupyter server
 * extension's answer, the socket's acknowledgement, and the client's own
 * options.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { PartialJSONValue } from '@lumino/coreutils';

import { api } from '@nbqueue/common';
import type { ICapturedEnvironment } from '../submit/environment';

type Schemas = api.components['schemas'];
type operations = api.operations;

/** The JSON body of an operation's answer with this status. */
type Answer<
  Operation extends keyof operations,
  Status extends keyof operations[Operation]['responses']
> = operations[Operation]['responses'][Status] extends {
  content: { 'application/json': infer Body };
}
  ? Body
  : never;

/** A priority class of the sidecar's configuration (`GET /api/info`: `priorities`). */
export type Priority = string;

/** `GET <jupyter base>/nbqueue/connection` of the Jupyter server extension. */
export interface IConnection {
  url: string;
  token: string;
}

/** `GET /api/profiles`: a resource profile, its capacity and its use. */
export type IProfile = Schemas['Profile'];

export type IJob = Schemas['Job'];

export type JobState = IJob['state'];

/** Every state of a job, in the order of its life. */
export const JOB_STATES: readonly JobState[] = api.jobStateValues;

/** The states a job ends in: those its runner may finish it in. */
export const FINAL_STATES: readonly JobState[] = api.finalStateValues;

/** The states of a job that has not ended: queued, starting, running. */
export const ACTIVE_STATES: readonly JobState[] = JOB_STATES.filter(
  state => !FINAL_STATES.includes(state)
);

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

export type ParameterValue = PartialJSONValue;

/**
 * `POST /api/jobs`: the document's body, with the notebook, parameters and
 * environment as this extension builds them.
 */
export type IJobSubmit = Omit<
  Schemas['JobSubmit'],
  'notebook' | 'parameters' | 'environment'
> & {
  notebook: nbformat.INotebookContent;
  parameters?: Record<string, ParameterValue>;
  /** The kernel's environment, for runners that restore it. */
  environment?: ICapturedEnvironment;
};

/** `GET /api/info`. */
export type IInfo = Schemas['Info'];

/** The sidecar's priority classes, lowest first, and those this caller may choose. */
export type IPriorities = IInfo['priorities'];

/** `GET /api/usage`: what the caller's jobs take (admins: every user's too). */
export type IUsage = Answer<'getUsage', 200>;
/** The user's own mail and webhook notifications (GET/PUT /api/notifications). */
export type INotifications = Answer<'getNotifications', 200>;
export type INotificationsSet = Pick<
  INotifications,
  'email' | 'webhook' | 'on'
>;

/** `GET /api/queues`. */
export type IQueue = Schemas['Queue'];

/** One page of `GET /api/jobs`; `next_cursor` is null on the last page. */
export type IJobsPage = Schemas['JobPage'];

export interface IListJobsOptions {
  /** Everyone's jobs (admins only). */
  all?: boolean;
  states?: string[];
  queue?: string;
  limit?: number;
  cursor?: number;
}

/** Where `POST /api/jobs/:id/reorder` puts a job. */
export type ReorderTarget = NonNullable<
  operations['reorderJob']['requestBody']
>['content']['application/json'];

/** One point of `GET /api/jobs/:id/metrics`. */
export type IMetricRow = Schemas['Metric'];

/** `user` for the notebook's metrics, `system` for the runner's samples. */
export type MetricKind = IMetricRow['kind'];

export const METRIC_KINDS: readonly MetricKind[] = api.metricKindValues;

/** Body of every 4xx/5xx answer. */
export type IErrorBody = Schemas['Error'];

/** `POST /api/files/bundles`. */
export type IBundleUpload = Answer<'uploadBundle', 201>;

/** The answer to the socket's `subscribe`. */
export interface ISubscribeAck {
  ok: boolean;
  job?: IJob;
  error?: { code: string; message: string };
}
