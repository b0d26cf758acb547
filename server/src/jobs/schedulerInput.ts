import type { QueuedJob } from '../queue/scheduler';
import type { JobRecord } from './types';

/** A stored job as the pure scheduler sees it: its pool is its profile, its class a rank. */
export function toQueued(
  job: Pick<
    JobRecord,
    'id' | 'owner' | 'profile' | 'queue' | 'priority' | 'position_key'
  >,
  priorities: readonly string[]
): QueuedJob {
  return {
    id: job.id,
    owner: job.owner,
    pool: job.profile,
    queue: job.queue,
    priorityRank: priorities.indexOf(job.priority),
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
