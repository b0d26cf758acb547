import type { JobRecord, JobSpec, RestartCause } from '../jobs/types';
import type { Profile } from '../config/schema';
import type { WaitingReason } from '../queue/waiting';

/** What a backend tells the job service about a job it runs. */
export interface BackendObserver {
  /** The backend's handle for the job changed (for example the runner's pid): store it. */
  handle(jobId: string, ref: Record<string, unknown>): void;
  /**
   * The job's runner is gone. If the runner already reported a result this is a no-op;
   * otherwise the job fails with `reason`.
   */
  exited(jobId: string, reason: string): void;
  /**
   * The job's container was killed for lack of memory (OOMKilled). The runner may have
   * reported the end first, as its kernel's death by SIGKILL (all a kernel sees of an OOM
   * kill): then `reason`, which says why, replaces that report's. Otherwise as `exited`.
   */
  outOfMemory?(jobId: string, reason: string): void;
  /** Something holds the job up that its owner should see (null: nothing any more). */
  note?(jobId: string, reason: string | null): void;
  /**
   * The job's runner was taken away through no fault of the job (`cause`; `reason` says how):
   * the job service runs it again under the same id, first in its queue, while its profile's
   * max_restarts allows, else fails it. The backend must not start the next attempt's runner
   * before this one's is gone.
   */
  restart?(jobId: string, cause: RestartCause, reason: string): void;
}

export interface LaunchRequest {
  job: JobRecord;
  /** The per-job secret the runner authenticates with. */
  token: string;
  /** Base URL the runner reaches the sidecar at. */
  sidecarUrl: string;
}

/**
 * An execution backend: where runners run. Nothing else in the server knows which one it is.
 */
export interface Backend {
  readonly name: string;
  /**
   * Whether the job would find room now (the cluster's free capacity). The job service starts
   * only jobs that fit, in the scheduler's order; without it, the profile capacity is the limit.
   */
  fits?(job: JobRecord): boolean;
  /**
   * Units of the profile's GPU resource (its gpu.resource) free on the nodes of its shape now;
   * absent or null where the backend cannot know (local: capacity is in job slots).
   */
  gpuFree?(profile: Profile): number | null;
  /** Why a job `fits` last refused found no room (Kubernetes: the pool's nodes), if it did not. */
  waitingReason?(jobId: string): WaitingReason | undefined;
  /**
   * Refuses, with an ApiError (400), a job this backend will not run for `owner` as asked (the
   * local backend with several users: a `cwd` or kernel Python outside the owner's home).
   */
  check?(owner: string, spec: JobSpec): void;
  /** Starts the job's runner. Rejects with a person-readable Error if it cannot start. */
  submit(request: LaunchRequest): Promise<void>;
  /** Asks the runner to stop (gracefully, then by force after the grace period). */
  cancel(job: JobRecord): Promise<void>;
  /**
   * After a sidecar restart: take the job back under observation if its runner still exists
   * (true), or report that it does not (false).
   */
  readopt(job: JobRecord): Promise<boolean>;
  /**
   * After `readopt` found no runner of a job that was starting: whether none was ever started
   * (the previous sidecar stopped part way through `submit`), removing what that start left
   * behind; the job is then queued again with its id. False when a runner may have run.
   */
  neverStarted?(job: JobRecord): Promise<boolean>;
  /** The runner's log (the last part of it when long), or null when there is none. */
  logs(job: JobRecord): Promise<string | null>;
  /** After every active job was offered to `readopt`: clean up what nobody re-adopted. */
  afterReadopt?(): Promise<void>;
  /** Stops observing (not the runners: they survive a sidecar restart). */
  close(): Promise<void>;
}
