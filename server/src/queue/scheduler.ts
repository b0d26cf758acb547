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
export class Heap<T> {
  /** Takes `items` over and orders them in O(n) (Floyd), cheaper than n pushes or a sort. */
  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly items: T[] = []
  ) {
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
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
      this.down(0);
    }
    return top;
  }
  private down(i: number): void {
    const a = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.less(a[l], a[m])) m = l;
      if (r < a.length && this.less(a[r], a[m])) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
}

/** Earlier in the queue: the smaller position key, then the smaller id. */
export const earlier = (a: QueuedJob, b: QueuedJob): boolean =>
  a.positionKey !== b.positionKey ? a.positionKey < b.positionKey : a.id < b.id;

interface UserQueue {
  owner: string;
  share: number;
  jobs: Heap<QueuedJob>;
}

/**
 * The admission order of a set of jobs, produced lazily: priority levels from the highest; in a
 * level, the user with the least share goes next (ties: whose next job is earlier), taking
 * their earliest job. Grouping is O(n); each level's heaps are built (O(n)) only when reached,
 * and each job taken costs O(log n): a decision that admits k jobs costs O(n + k log n), and the
 * whole order O(n log n).
 */
class AdmissionOrder {
  /** Each priority level's jobs, lowest rank first, so the highest is popped from the end. */
  private readonly levels: QueuedJob[][];
  private readonly share: Map<string, number>;
  private users: Heap<UserQueue> | undefined;

  /** `share`: running jobs per user; raised in place as jobs are taken. */
  constructor(jobs: QueuedJob[], share: Map<string, number>) {
    this.share = share;
    const byRank = new Map<number, QueuedJob[]>();
    for (const job of jobs) {
      if (job.held) continue;
      const level = byRank.get(job.priorityRank);
      if (level) level.push(job);
      else byRank.set(job.priorityRank, [job]);
    }
    this.levels = [...byRank.keys()]
      .sort((a, b) => a - b)
      .map(rank => byRank.get(rank) as QueuedJob[]);
  }

  /**
   * The next job in order, or undefined when none is left. `admit` says whether it is taken:
   * only a taken job raises its owner's share (one that cannot start now, for a limit the
   * caller knows, does not).
   */
  next(admit: (job: QueuedJob) => boolean = () => true): QueuedJob | undefined {
    while (!this.users?.size) {
      const level = this.levels.pop();
      if (!level) return undefined;
      const byOwner = new Map<string, QueuedJob[]>();
      for (const job of level) {
        const list = byOwner.get(job.owner);
        if (list) list.push(job);
        else byOwner.set(job.owner, [job]);
      }
      const heads: UserQueue[] = [];
      for (const [owner, list] of byOwner)
        heads.push({
          owner,
          share: this.share.get(owner) ?? 0,
          jobs: new Heap(earlier, list)
        });
      this.users = new Heap(
        (a, b) =>
          a.share !== b.share
            ? a.share < b.share
            : earlier(a.jobs.peek() as QueuedJob, b.jobs.peek() as QueuedJob),
        heads
      );
    }
    const user = this.users.pop() as UserQueue;
    const job = user.jobs.pop() as QueuedJob;
    if (admit(job)) {
      user.share += 1;
      this.share.set(user.owner, user.share);
    }
    if (user.jobs.size) this.users.push(user);
    return job;
  }
}

/**
 * Orders one pool's (or queue's) jobs as they would be admitted if capacity were unlimited:
 * each pick raises its owner's share, as an admission would. Held jobs are left out.
 * O(n log n).
 */
export function admissionOrder(
  jobs: QueuedJob[],
  runningByUser: Record<string, number>
): QueuedJob[] {
  const order: QueuedJob[] = [];
  const lazy = new AdmissionOrder(jobs, new Map(Object.entries(runningByUser)));
  for (let job = lazy.next(); job; job = lazy.next()) order.push(job);
  return order;
}

/**
 * The jobs to start now, in the order to start them. Pools are decided independently, each
 * walking its admission order only as far as its free slots reach: O(n + k log n) for k
 * admissions (10,000 queued jobs: well under a millisecond, see docs/benchmarks.md).
 */
export function decideAdmissions(input: SchedulerInput): string[] {
  return firstChoices(input) ?? orderedAdmissions(input);
}

/**
 * The common case, decided in one pass without ordering anything: at most one free slot in
 * each pool (a job just ended) and no queue or per-user limit that could refuse a pick. Each
 * pool's pick is then the first job of its admission order: highest priority, then the owner
 * with the least share, then the earliest. Returns null when the case does not apply.
 * (Property-tested against `orderedAdmissions`.)
 */
export function firstChoices(input: SchedulerInput): string[] | null {
  if (input.maxRunningPerUser !== undefined) return null;
  if (Object.values(input.queues ?? {}).length) return null;
  // One map lookup per job (this loop is the whole cost): the pool's pick so far.
  const picks = new Map<string, { job: QueuedJob | null; share: number }>();
  for (const [name, p] of Object.entries(input.pools)) {
    const n = p.capacity - p.running;
    if (n > 1) return null;
    if (n === 1) picks.set(name, { job: null, share: 0 });
  }
  if (!picks.size) return [];
  const running = input.runningByUser;
  for (const job of input.queued) {
    if (job.held) continue;
    const pick = picks.get(job.pool);
    if (!pick) continue;
    const current = pick.job;
    if (current && job.priorityRank < current.priorityRank) continue;
    const share = running[job.owner] ?? 0;
    if (
      !current ||
      job.priorityRank > current.priorityRank ||
      share < pick.share ||
      (share === pick.share && earlier(job, current))
    ) {
      pick.job = job;
      pick.share = share;
    }
  }
  const ids: string[] = [];
  for (const pool of [...picks.keys()].sort()) {
    const job = (picks.get(pool) as { job: QueuedJob | null }).job;
    if (job) ids.push(job.id);
  }
  return ids;
}

/** Any case: each pool's admission order, walked only as far as its free slots reach. */
export function orderedAdmissions(input: SchedulerInput): string[] {
  const queueFree = new Map(
    Object.entries(input.queues ?? {}).map(([name, q]) => [
      name,
      Math.max(0, q.capacity - q.running)
    ])
  );
  const userRunning = new Map(Object.entries(input.runningByUser));
  const limit = input.maxRunningPerUser ?? Infinity;
  const poolFree = new Map(
    Object.entries(input.pools).map(([name, p]) => [
      name,
      Math.max(0, p.capacity - p.running)
    ])
  );
  // Nothing can start while every pool is full: the common case of a long queue, decided
  // without reading it.
  if (![...poolFree.values()].some(free => free > 0)) return [];
  // Only jobs that could start now are ordered: not held, in a pool and queue with a free
  // slot, owned by someone under the running limit. A first pass keeps only each pool's
  // highest priority level, which nearly always fills the free slots; lower levels are
  // gathered only when it does not.
  // The per-job checks skip the lookups that cannot refuse (this loop is most of the cost).
  const queueLimits = queueFree.size > 0;
  const userLimit = limit !== Infinity;
  const candidate = (job: QueuedJob): boolean =>
    !job.held &&
    !!poolFree.get(job.pool) &&
    (!queueLimits || queueFree.get(job.queue ?? job.pool) !== 0) &&
    (!userLimit || (userRunning.get(job.owner) ?? 0) < limit);
  // Each pool with a free slot, and the highest level of its candidates so far: one map
  // lookup per job, the other checks only for jobs that could join that level.
  const levels = new Map<string, { rank: number; jobs: QueuedJob[] }>();
  for (const [name, n] of poolFree)
    if (n > 0) levels.set(name, { rank: -Infinity, jobs: [] });
  for (const job of input.queued) {
    if (job.held) continue;
    const level = levels.get(job.pool);
    if (!level || job.priorityRank < level.rank || !candidate(job)) continue;
    if (job.priorityRank > level.rank) {
      level.rank = job.priorityRank;
      level.jobs = [job];
    } else level.jobs.push(job);
  }
  const top = new Map([...levels].filter(([, level]) => level.jobs.length > 0));
  const admitted: string[] = [];
  for (const pool of [...top.keys()].sort()) {
    const level = top.get(pool) as { rank: number; jobs: QueuedJob[] };
    let free = poolFree.get(pool) as number;
    const share = new Map(Object.entries(input.runningByUser));
    // Within this pass a queue may fill up or a user reach the limit: such jobs are passed
    // over without raising their owner's share.
    const admit = (job: QueuedJob): boolean => {
      const queue = job.queue ?? pool;
      const qFree = queueFree.get(queue);
      if (qFree === 0) return false;
      const running = userRunning.get(job.owner) ?? 0;
      if (running >= limit) return false;
      admitted.push(job.id);
      free -= 1;
      if (qFree !== undefined) queueFree.set(queue, qFree - 1);
      userRunning.set(job.owner, running + 1);
      return true;
    };
    const first = new AdmissionOrder(level.jobs, share);
    while (free > 0 && first.next(admit));
    if (free > 0) {
      const rest = new AdmissionOrder(
        input.queued.filter(
          j => j.pool === pool && j.priorityRank < level.rank && candidate(j)
        ),
        share
      );
      while (free > 0 && rest.next(admit));
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
