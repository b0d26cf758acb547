/**
 * Admission: a pure function of the queue state. No I/O, no clock, no globals.
 *
 * Order of admission within a pool of capacity: priority class first (higher first), then
 * fair share between users at the same priority (the user with the fewest running jobs goes
 * next), then position in the queue (smaller first). A job is admitted only when its pool and
 * its queue have a free slot and its owner is under the per-user running limit, so nothing is
 * ever handed to a backend to wait there. Held jobs are never admitted and have no position.
 */

export interface QueuedJob {
  id: string;
  owner: string;
  /** The capacity pool the job draws on (its profile). */
  pool: string;
  /** Index into the priority classes; higher goes first. */
  priorityRank: number;
  positionKey: number;
  /** The queue it waits in (defaults to the pool). */
  queue?: string;
  /** Held by its owner: keeps its place in the store, but is not admitted nor counted. */
  held?: boolean;
}

export interface PoolState {
  capacity: number;
  running: number;
}

export interface SchedulerInput {
  queued: QueuedJob[];
  pools: Record<string, PoolState>;
  /** Queues with a capacity of their own (others are bounded by their pool only). */
  queues?: Record<string, PoolState>;
  /** Running jobs per user (over all pools), for fair share and the per-user limit. */
  runningByUser: Record<string, number>;
  /** Most jobs one user may run at once; absent: no limit. */
  maxRunningPerUser?: number;
}

/** A binary min-heap; small and local so the scheduler stays dependency-free. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m])) m = l;
        if (r < a.length && this.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

const byPosition = (a: QueuedJob, b: QueuedJob): number =>
  a.positionKey - b.positionKey || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Orders one pool's (or queue's) jobs as they would be admitted if capacity were unlimited:
 * each pick raises its owner's share, as an admission would. Held jobs are left out.
 * O(n log n).
 */
export function admissionOrder(
  jobs: QueuedJob[],
  runningByUser: Record<string, number>
): QueuedJob[] {
  const share = new Map(Object.entries(runningByUser));
  const levels = new Map<number, Map<string, QueuedJob[]>>();
  for (const job of jobs) {
    if (job.held) continue;
    const users =
      levels.get(job.priorityRank) ?? new Map<string, QueuedJob[]>();
    const list = users.get(job.owner) ?? [];
    list.push(job);
    users.set(job.owner, list);
    levels.set(job.priorityRank, users);
  }
  const order: QueuedJob[] = [];
  for (const rank of [...levels.keys()].sort((a, b) => b - a)) {
    type Head = {
      owner: string;
      list: QueuedJob[];
      next: number;
      share: number;
    };
    const heap = new Heap<Head>((a, b) => {
      if (a.share !== b.share) return a.share < b.share;
      return byPosition(a.list[a.next], b.list[b.next]) < 0;
    });
    for (const [owner, list] of levels.get(rank) as Map<string, QueuedJob[]>) {
      list.sort(byPosition);
      heap.push({ owner, list, next: 0, share: share.get(owner) ?? 0 });
    }
    while (heap.size) {
      const head = heap.pop() as Head;
      order.push(head.list[head.next]);
      head.next += 1;
      head.share += 1;
      share.set(head.owner, head.share);
      if (head.next < head.list.length) heap.push(head);
    }
  }
  return order;
}

/** The jobs to start now, in the order to start them. */
export function decideAdmissions(input: SchedulerInput): string[] {
  const byPool = new Map<string, QueuedJob[]>();
  for (const job of input.queued) {
    if (job.held) continue;
    const list = byPool.get(job.pool) ?? [];
    list.push(job);
    byPool.set(job.pool, list);
  }
  // Pools are decided independently from the same shares, so a job's queue position
  // (queuePositions) says whether it would be admitted now when no other limit applies.
  const admitted: string[] = [];
  const queueFree = new Map(
    Object.entries(input.queues ?? {}).map(([name, q]) => [
      name,
      Math.max(0, q.capacity - q.running)
    ])
  );
  const userRunning = new Map(Object.entries(input.runningByUser));
  const limit = input.maxRunningPerUser ?? Infinity;
  for (const [pool, jobs] of [...byPool.entries()].sort(([a], [b]) =>
    a < b ? -1 : 1
  )) {
    const state = input.pools[pool];
    if (!state) continue;
    let free = Math.max(0, state.capacity - state.running);
    if (!free) continue;
    for (const job of admissionOrder(jobs, input.runningByUser)) {
      if (!free) break;
      const queue = job.queue ?? pool;
      const qFree = queueFree.get(queue);
      if (qFree === 0) continue;
      if ((userRunning.get(job.owner) ?? 0) >= limit) continue;
      admitted.push(job.id);
      free -= 1;
      if (qFree !== undefined) queueFree.set(queue, qFree - 1);
      userRunning.set(job.owner, (userRunning.get(job.owner) ?? 0) + 1);
    }
  }
  return admitted;
}

/** 1-based positions of queued jobs within their queue, in admission order. */
export function queuePositions(
  queued: QueuedJob[],
  runningByUser: Record<string, number>
): Map<string, number> {
  const byQueue = new Map<string, QueuedJob[]>();
  for (const job of queued) {
    if (job.held) continue;
    const key = job.queue ?? job.pool;
    const list = byQueue.get(key) ?? [];
    list.push(job);
    byQueue.set(key, list);
  }
  const positions = new Map<string, number>();
  for (const jobs of byQueue.values()) {
    admissionOrder(jobs, runningByUser).forEach((job, i) =>
      positions.set(job.id, i + 1)
    );
  }
  return positions;
}
