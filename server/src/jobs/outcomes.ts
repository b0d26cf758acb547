import type { BackendObserver } from '../backends/backend';
import type { Store } from '../store/store';
import type { JobLifecycle } from './lifecycle';
import type { JobPublisher } from './publisher';
import type { JobRestarts } from './restarts';
import { FINAL_STATES, RestartCause } from './types';

export interface BackendOutcomesOptions {
  store: Store;
  publisher: JobPublisher;
  lifecycle: JobLifecycle;
  restarts: JobRestarts;
}

/**
 * The runner's report of its kernel killed by SIGKILL (runner-image's kernel_died_reason): what
 * a kernel sees of an out-of-memory kill, so the backend's OOMKilled says why.
 */
const KERNEL_KILLED = /^The kernel died\b.*\(exit code (-9|137)\)/;

/**
 * What the backend reports about the runners it runs (a handle, an exit, an OOM kill, a note
 * for the owner, a runner taken away, freed cluster capacity), turned into job changes.
 */
export class BackendOutcomes implements BackendObserver {
  constructor(private readonly options: BackendOutcomesOptions) {}

  private get store(): Store {
    return this.options.store;
  }

  handle(jobId: string, ref: Record<string, unknown>): void {
    this.store.updateJob(jobId, { backend_ref: ref });
  }

  exited(jobId: string, reason: string): void {
    const job = this.store.getJob(jobId);
    if (!job || FINAL_STATES.has(job.state)) return;
    if (job.cancel_requested)
      this.options.lifecycle.end(
        jobId,
        'cancelled',
        'Cancelled by the user; the runner was stopped.'
      );
    else this.options.lifecycle.end(jobId, 'failed', reason);
  }

  outOfMemory(jobId: string, reason: string): void {
    const job = this.store.getJob(jobId);
    if (!job || !FINAL_STATES.has(job.state)) return this.exited(jobId, reason);
    if (job.state === 'failed' && KERNEL_KILLED.test(job.reason ?? '')) {
      this.store.updateJob(jobId, { reason });
      this.options.publisher.jobChanged(jobId);
    }
  }

  note(jobId: string, reason: string | null): void {
    const job = this.store.getJob(jobId);
    if (!job || FINAL_STATES.has(job.state) || job.reason === reason) return;
    this.store.updateJob(jobId, { reason });
    this.options.publisher.jobChanged(jobId);
  }

  /** The job's runner was taken away through no fault of the job: it runs again, or fails. */
  restart(jobId: string, cause: RestartCause, reason: string): void {
    this.options.restarts.restart(jobId, cause, reason);
  }

  /** The cluster has room again (a pod or node went away): queued jobs may fit now. */
  capacityFreed(): void {
    this.options.lifecycle.mayAdmit();
  }
}
