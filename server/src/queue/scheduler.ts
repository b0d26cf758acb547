/**
 * Admission: a pure function of the queue state. No I/O, no clock, no globals.
 *
 * Order of admission within a pool of capacity: priority class first (higher first), then
 * fair share between users at the same priority (the user with the fewest running jobs goes
 * next), then position in the queue (smaller first). A job is admitted only when its pool
 * has a free slot, so nothing is ever handed to a backend to wait there.
 */

export interface QueuedJob {
  id: string;
  owner: string;
  /** The capacity pool the job draws on (its profile). */
  pool: string;
  /** Index into the priority classes; higher goes first. */
  priorityRank: number;
  positionKey: number;
}

export interface PoolState {
  capacity: number;
  running: number;
}

export interface SchedulerInput {
  queued: QueuedJob[];
  pools: Record<string, PoolState>;
  /** Running jobs per user (over all pools), for fair share. */
  runningByUser: Record<string, number>;
}

function better(
  a: QueuedJob,
  b: QueuedJob,
  share: Map<string, number>
): boolean {
  if (a.priorityRank !== b.priorityRank) return a.priorityRank > b.priorityRank;
  const sa = share.get(a.owner) ?? 0;
  const sb = share.get(b.owner) ?? 0;
  if (sa !== sb) return sa < sb;
  if (a.positionKey !== b.positionKey) return a.positionKey < b.positionKey;
  return a.id < b.id;
}

/**
 * Orders one pool's queued jobs as they would be admitted if capacity were unlimited:
 * each pick raises its owner's share, as an admission would.
 */
export function admissionOrder(
  jobs: QueuedJob[],
  runningByUser: Record<string, number>
): QueuedJob[] {
  const share = new Map(Object.entries(runningByUser));
  const left = [...jobs];
  const order: QueuedJob[] = [];
  while (left.length) {
    let best = 0;
    for (let i = 1; i < left.length; i++)
      if (better(left[i], left[best], share)) best = i;
    const [job] = left.splice(best, 1);
    order.push(job);
    share.set(job.owner, (share.get(job.owner) ?? 0) + 1);
  }
  return order;
}

/** The jobs to start now, in the order to start them. */
export function decideAdmissions(input: SchedulerInput): string[] {
  const byPool = new Map<string, QueuedJob[]>();
  for (const job of input.queued) {
    const list = byPool.get(job.pool) ?? [];
    list.push(job);
    byPool.set(job.pool, list);
  }
  // Pools are decided independently from the same shares, so a job's queue position
  // (queuePositions) says exactly whether it would be admitted now.
  const admitted: string[] = [];
  for (const [pool, jobs] of [...byPool.entries()].sort(([a], [b]) =>
    a < b ? -1 : 1
  )) {
    const state = input.pools[pool];
    if (!state) continue;
    const free = Math.max(0, state.capacity - state.running);
    if (!free) continue;
    for (const job of admissionOrder(jobs, input.runningByUser).slice(0, free))
      admitted.push(job.id);
  }
  return admitted;
}

/** 1-based positions of queued jobs within their queue, in admission order. */
export function queuePositions(
  queued: (QueuedJob & { queue: string })[],
  runningByUser: Record<string, number>
): Map<string, number> {
  const byQueue = new Map<string, QueuedJob[]>();
  for (const job of queued) {
    const list = byQueue.get(job.queue) ?? [];
    list.push(job);
    byQueue.set(job.queue, list);
  }
  const positions = new Map<string, number>();
  for (const jobs of byQueue.values()) {
    admissionOrder(jobs, runningByUser).forEach((job, i) =>
      positions.set(job.id, i + 1)
    );
  }
  return positions;
}
