/**
 * Shapes of the sidecar's REST API, as documented in docs/protocol.md.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { PartialJSONValue } from '@lumino/coreutils';

import type { ICapturedEnvironment } from '../submit/environment';

/** A priority class of the sidecar's configuration (`GET /api/info`: `priorities`). */
export type Priority = string;

/** `GET <jupyter base>/nbqueue/connection` of the Jupyter server extension. */
export interface IConnection {
  url: string;
  token: string;
}

export interface IProfile {
  name: string;
  description: string;
  cpus: number;
  gpus: number;
  /** Kubernetes quantity, e.g. `16Gi`. */
  memory: string;
  capacity: number;
  running: number;
  queued: number;
  free: number;
}

export type JobState =
  'queued' | 'starting' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINAL_STATES: readonly JobState[] = [
  'succeeded',
  'failed',
  'cancelled'
];

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

export type ParameterValue = PartialJSONValue;

export interface IJobSubmit {
  notebook: nbformat.INotebookContent;
  profile: string;
  name?: string;
  queue?: string;
  priority?: Priority;
  parameters?: Record<string, ParameterValue>;
  notebook_path?: string;
  cwd?: string;
  kernel?: { name: string; python: string };
  /** The kernel's environment, for runners that restore it. */
  environment?: ICapturedEnvironment;
  /** Id of the uploaded bundle of the notebook's folder (working files). */
  input_bundle?: string;
}

export interface IJob {
  id: string;
  name: string;
  owner: string;
  profile: string;
  queue: string;
  priority: Priority;
  parameters: Record<string, ParameterValue>;
  notebook_path: string | null;
  state: JobState;
  /** Why a job failed or was cancelled, for a person. */
  reason: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** 1-based place in its queue while queued, else null. */
  position: number | null;
  last_seq: number;
  has_result: boolean;
  /** Held jobs stay queued but are not admitted until released. */
  held?: boolean;
  /** The user asked to cancel; the runner is stopping. */
  cancel_requested?: boolean;
  /** Estimated seconds until a queued job starts; null when unknown. */
  eta_seconds?: number | null;
  /** How the ETA was estimated, or why it is unknown. */
  eta_basis?: string | null;
}

/** `GET /api/info`. */
export interface IInfo {
  version: string;
  backend: string;
  user: string;
  admin?: boolean;
  /** The sidecar's priority classes, lowest first, and those this caller may choose. */
  priorities: IPriorities;
  limits: { max_notebook_bytes: number; max_request_bytes?: number };
}

export interface IPriorities {
  classes: string[];
  allowed: string[];
  default: string;
}

/** `GET /api/queues`. */
export interface IQueue {
  name: string;
  profile: string;
  queued: number;
  running: number;
  capacity?: number;
}

/** One page of `GET /api/jobs`. */
export interface IJobsPage {
  jobs: IJob[];
  /** The next page's cursor; null on the last page. */
  next_cursor?: number | null;
}

export interface IListJobsOptions {
  /** Everyone's jobs (admins only). */
  all?: boolean;
  states?: string[];
  queue?: string;
  limit?: number;
  cursor?: number;
}

/** Where `POST /api/jobs/:id/reorder` puts a job. */
export type ReorderTarget = { to: 'front' | 'back' } | { before: string };

/** One point of `GET /api/jobs/:id/metrics`. */
export type MetricKind = 'user' | 'system';

export interface IMetricRow {
  seq: number;
  name: string;
  step: number;
  /** null stands for NaN or an infinity. */
  value: number | null;
  /** Epoch milliseconds. */
  time: number;
  kind: MetricKind;
}

/** Body of every 4xx/5xx answer. */
export interface IErrorBody {
  error: { code: string; message: string };
}

/** The answer to the socket's `subscribe`. */
export interface ISubscribeAck {
  ok: boolean;
  job?: IJob;
  error?: { code: string; message: string };
}

/** `POST /api/files/bundles`. */
export interface IBundleUpload {
  id: string;
  bytes: number;
  total_bytes: number;
  files: number;
}
