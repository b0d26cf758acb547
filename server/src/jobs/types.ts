import type { z } from 'zod/v4';
import type {
  CapturedEnvironment,
  jobSchema,
  RESTART_CAUSES
} from '../api/contract/schemas';

// The state list is part of the REST contract: defined once there.
export {
  ACTIVE_STATES,
  FINAL_STATES,
  JOB_STATES,
  type JobState
} from '../api/contract/states';
import type { JobState } from '../api/contract/states';

export type Notebook = {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Array<Record<string, unknown>>;
};

export interface KernelInfo {
  name?: string;
  /** The interpreter of the kernel the notebook was using. */
  python?: string;
}

/** What the submitter asked for; stored with the job and given to the runner. */
export interface JobSpec {
  parameters: Record<string, unknown>;
  notebook_path: string | null;
  cwd: string | null;
  kernel: KernelInfo;
  /** The kernel's captured environment (absent for jobs submitted without one). */
  environment?: CapturedEnvironment | null;
  /** The uploaded bundle of the notebook's directory (POST /api/files/bundles), if any. */
  input_bundle?: string;
  /** The submitter's limit on the run time, in seconds (else the profile's). */
  deadline_seconds?: number;
  /** The pipeline and step this job runs (server/src/pipelines), if any. */
  pipeline?: { id: string; step: string };
  /** The schedule that submitted it, and for which firing time (server/src/schedules). */
  schedule_id?: string;
  scheduled_for?: string;
}

/** A job as stored (the notebook and the token hash live in their own columns). */
export interface JobRecord {
  id: string;
  owner: string;
  name: string;
  profile: string;
  queue: string;
  priority: string;
  state: JobState;
  reason: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Order within a queue: smaller goes first at equal priority and share. */
  position_key: number;
  spec: JobSpec;
  cancel_requested: boolean;
  /** Held jobs stay queued but are not admitted until released. */
  held: boolean;
  /** Backend-specific handle (for local: the runner's pid and log file). */
  backend_ref: Record<string, unknown> | null;
  last_seq: number;
  has_result: boolean;
  /** Which run of the job this is, from 1: a restart (jobs/restarts.ts) adds one. */
  attempt: number;
  /** The earlier attempts, each ended by a restart, oldest first. */
  restarts: RestartRecord[];
}

/**
 * Why a job's pod was taken away through no fault of the job: a node preempted (spot, a
 * higher-priority pod, a node shutting down), an eviction (drain, node pressure), its node
 * lost, or the pod deleted outside nbqueue.
 */
export type RestartCause = (typeof RESTART_CAUSES)[number];

/** One earlier attempt of a job, ended by a restart. */
export interface RestartRecord {
  attempt: number;
  started_at: string | null;
  ended_at: string;
  cause: RestartCause;
  /** What the backend said of it, for a person. */
  reason: string;
}

/** A job as the API shows it: the contract's Job (api/contract/schemas.ts), written once there. */
export type JobView = z.output<ReturnType<typeof jobSchema>>;

export interface JobEvent {
  seq: number;
  time: number;
  type: string;
  [key: string]: unknown;
}
