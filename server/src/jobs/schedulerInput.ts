import type { QueuedJob } from '../queue/scheduler';
import type { JobRecord } from './types';

/**
 * A queued job's rank for the scheduler: its priority class's index, or, for a job restarted
 * after its runner was taken away (attempt above 1), one above every class: it already had its
 * turn, so it goes before every job waiting in its queue.
 */
export function admissionRank(
  job: Pick<JobRecord, 'priority' | 'attempt'>,
  priorities: readonly string[]
): number {
  return job.attempt > 1 ? priorities.length : priorities.indexOf(job.priority);
}

/** A stored job as the pure scheduler sees it: its pool is its profile, its class a rank. */
export function toQueued(
  job: Pick<
    JobRecord,
    | 'id'
    | 'owner'
    | 'profile'
    | 'queue'
    | 'priority'
    | 'position_key'
    | 'attempt'
  >,
  priorities: readonly string[]
): QueuedJob {
  return {
    id: job.id,
    owner: job.owner,
    pool: job.profile,
    queue: job.queue,
    priorityRank: admissionRank(job, priorities),
    positionKey: job.position_key
  };
}

/** How many of `jobs` share each `key` (running jobs by owner, by profile, by queue). */
export function countBy<T>(
  jobs: T[],
  key: (j: T) => string
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const j of jobs) out[key(j)] = (out[key(j)] ?? 0) + 1;
  return out;
}
