/**
 * Restarts: a job whose runner was taken away through no fault of its own (a preempted or lost
 * node, an eviction, a deleted pod) runs again under the same id, first in its queue, up to
 * its profile's max_restarts; after that it fails saying why and what to do.
 */
import type { Config } from '../config/schema';
import type { Store } from '../store/store';
import type { JobLifecycle } from './lifecycle';
import type { JobPublisher } from './publisher';
import { FINAL_STATES, JobRecord, RestartCause } from './types';

/** How each cause reads after "restarted after" and "ended by". */
export const CAUSE_TEXT: Record<RestartCause, string> = {
  preemption: 'node preemption',
  eviction: 'eviction',
  node_lost: 'node loss',
  pod_deleted: 'pod deletion'
};

/**
 * How many times a job of `profile` may run in all: 1 + its profile's kubernetes.max_restarts
 * (default backend.kubernetes.requeue_on_eviction) on Kubernetes; 1 on the local backend,
 * which never restarts a job.
 */
export function maxAttempts(config: Config, profile: string): number {
  if (config.backend.type !== 'kubernetes') return 1;
  const own = config.profiles.find(p => p.name === profile)?.kubernetes;
  return (
    1 + (own?.max_restarts ?? config.backend.kubernetes.requeue_on_eviction)
  );
}

export interface JobRestartsOptions {
  config: Config;
  store: Store;
  publisher: JobPublisher;
  lifecycle: JobLifecycle;
  now: () => Date;
}

export class JobRestarts {
  constructor(private readonly options: JobRestartsOptions) {}

  /**
   * The job's runner was taken away (`cause`; `reason` says how, for a person). It runs again
   * if attempts are left; else it fails. Nothing happens to a job that has ended.
   */
  restart(jobId: string, cause: RestartCause, reason: string): void {
    const { store, config, publisher, lifecycle } = this.options;
    const job = store.getJob(jobId);
    if (!job || FINAL_STATES.has(job.state)) return;
    if (job.cancel_requested) {
      lifecycle.end(
        jobId,
        'cancelled',
        'Cancelled by the user; the runner was stopped.'
      );
      return;
    }
    const max = maxAttempts(config, job.profile);
    if (job.attempt >= max) {
      lifecycle.end(jobId, 'failed', exhausted(job, cause, reason, max));
      return;
    }
    const next = job.attempt + 1;
    const says = `Attempt ${next} of ${max}, restarted after ${CAUSE_TEXT[cause]}. ${reason}`;
    const now = this.options.now();
    const marker = store.restartJob(jobId, {
      ended: {
        attempt: job.attempt,
        started_at: job.started_at,
        ended_at: now.toISOString(),
        cause,
        reason
      },
      reason: says,
      marker: {
        time: now.getTime(),
        type: 'attempt',
        attempt: next,
        max_attempts: max,
        cause,
        reason: says
      }
    });
    if (!marker) return;
    publisher.eventsAppended(store.getJob(jobId) as JobRecord, [marker]);
    publisher.jobChanged(jobId);
    publisher.queueChanged();
    lifecycle.mayAdmit();
  }
}

/** Why a job taken away on its last allowed attempt failed, and what to do. */
function exhausted(
  job: JobRecord,
  cause: RestartCause,
  reason: string,
  max: number
): string {
  return `${reason} Attempt ${job.attempt} of ${max} ended by ${CAUSE_TEXT[cause]}, the last one allowed (max_restarts ${max - 1} for profile '${job.profile}'): re-run it${max === 1 ? ', or ask an operator to allow restarts' : ', or choose a profile whose nodes are not preempted or drained as often'}.`;
}
