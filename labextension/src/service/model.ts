/**
 * Shapes of the sidecar's REST API, as documented in docs/protocol.md.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { PartialJSONValue } from '@lumino/coreutils';

import type { Priority } from '../tokens';

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
}

/** Body of every 4xx/5xx answer. */
export interface IErrorBody {
  error: { code: string; message: string };
}
