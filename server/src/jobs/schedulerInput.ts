import type { Config } from '../config/schema';
import type { PoolState, QueuedJob } from '../queue/scheduler';
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

/** What the pools and queues hold now: the part of the scheduler's input the active jobs give. */
export interface CapacityState {
  pools: Record<string, PoolState>;
  queues: Record<string, PoolState>;
  runningByUser: Record<string, number>;
  /** Running jobs per profile, per owner (who holds a full pool). */
  runningByPoolOwner: Record<string, Record<string, number>>;
  maxRunningPerUser: number | undefined;
}

export function capacityState(
  config: Config,
  active: Array<Pick<JobRecord, 'profile' | 'queue' | 'owner'>>
): CapacityState {
  const running = countBy(active, j => j.profile);
  const runningInQueue = countBy(active, j => j.queue);
  const runningByPoolOwner: Record<string, Record<string, number>> = {};
  for (const j of active) {
    const pool = (runningByPoolOwner[j.profile] ??= {});
    pool[j.owner] = (pool[j.owner] ?? 0) + 1;
  }
  return {
    pools: Object.fromEntries(
      config.profiles.map(p => [
        p.name,
        { capacity: p.capacity, running: running[p.name] ?? 0 }
      ])
    ),
    queues: Object.fromEntries(
      config.queues
        .filter(q => q.capacity !== undefined)
        .map(q => [
          q.name,
          {
            capacity: q.capacity as number,
            running: runningInQueue[q.name] ?? 0
          }
        ])
    ),
    runningByUser: countBy(active, j => j.owner),
    runningByPoolOwner,
    maxRunningPerUser: config.limits.max_running_per_user
  };
}
