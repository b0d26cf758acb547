/**
 * The queue kept in order between requests: every queued job indexed by its queue and by its
 * pool, and in each by priority level and owner, so that a job's position, its place in its
 * pool's admission order, what is ahead of it and the scheduler's picks are read without
 * ordering the queue. Pure, like the scheduler: no I/O, no clock.
 *
 * Why owners and not one sorted list: within a priority level the admission order
 * (scheduler.ts) merges the owners' jobs by fair share. An owner's t-th earliest job at a level
 * goes with share s + t, where s is the owner's running jobs plus their jobs at higher levels of
 * the same queue, and the level goes by (share, position key, id). A job's share changes when
 * its owner's jobs elsewhere come and go, so no key is fixed; but the jobs ahead of a job with
 * share S are, for each other owner, the first clamp(S - s, 0, n) of theirs, and one more if
 * their job at share S is earlier: an order statistic counted per owner, never per job.
 *
 * Costs (n queued jobs, u owners with jobs at a level, r levels): a position O(log n + r·u); an
 * insert at the back of an owner's jobs O(1), elsewhere O(the owner's jobs at that level); the
 * first k jobs of a pool's order (the scheduler's picks) O(r·u + k log u).
 */
import {
  Heap,
  QueuedJob,
  SchedulerInput,
  decideAdmissions,
  earlier
} from './scheduler';
import type { QueuePlace } from './waiting';

/** One priority level of a queue or pool: each owner's ready jobs, earliest first. */
interface Level {
  owners: Map<string, QueuedJob[]>;
  size: number;
}

/** The ready (not held) jobs of one queue or pool, by level. */
interface Group {
  levels: Map<number, Level>;
  /** The levels' ranks, highest first. */
  ranks: number[];
  size: number;
  /** A pool's jobs per queue (pools only). */
  queues?: Map<string, number>;
  /** What standings read, kept until the group changes or is read with other running counts. */
  cache?: GroupCache;
}

/** Per level: each owner's share before their first job there; and the group's first job. */
interface GroupCache {
  running: Record<string, number>;
  shares: Map<number, Map<string, number>>;
  first?: QueuedJob;
}

/** Index of `job` in `list` (sorted by `earlier`), or where it would go. */
function search(list: QueuedJob[], job: QueuedJob): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (earlier(list[mid], job)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const queueOf = (job: QueuedJob): string => `q:${job.queue ?? job.pool}`;
const poolOf = (job: QueuedJob): string => `p:${job.pool}`;

export class QueueIndex {
  private readonly jobs = new Map<string, QueuedJob>();
  private readonly groups = new Map<string, Group>();
  /** Queued jobs per owner, held ones included (the per-user queued limit). */
  private readonly byOwner = new Map<string, number>();

  get size(): number {
    return this.jobs.size;
  }

  get(id: string): QueuedJob | undefined {
    return this.jobs.get(id);
  }

  /** Every queued job, held ones included, in no particular order. */
  all(): QueuedJob[] {
    return [...this.jobs.values()];
  }

  /** Queued jobs of `owner`, held ones included. */
  queuedBy(owner: string): number {
    return this.byOwner.get(owner) ?? 0;
  }

  /** Ready (not held) jobs in `pool`. */
  poolSize(pool: string): number {
    return this.groups.get(`p:${pool}`)?.size ?? 0;
  }

  /** Adds the job, or replaces the one with its id (a change of priority, hold, queue, key). */
  upsert(job: QueuedJob): void {
    this.remove(job.id);
    const copy = { ...job };
    this.jobs.set(copy.id, copy);
    this.byOwner.set(copy.owner, this.queuedBy(copy.owner) + 1);
    if (copy.held) return;
    this.place(queueOf(copy), copy);
    const pool = this.place(poolOf(copy), copy);
    pool.queues ??= new Map();
    pool.queues.set(queueOf(copy), (pool.queues.get(queueOf(copy)) ?? 0) + 1);
  }

  /** Takes the job out (it started, ended or left the queue); false if it was not in it. */
  remove(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    this.jobs.delete(id);
    const left = this.queuedBy(job.owner) - 1;
    if (left) this.byOwner.set(job.owner, left);
    else this.byOwner.delete(job.owner);
    if (!job.held) {
      this.unplace(queueOf(job), job);
      const pool = this.unplace(poolOf(job), job);
      const left = (pool.queues?.get(queueOf(job)) ?? 1) - 1;
      if (left) pool.queues?.set(queueOf(job), left);
      else pool.queues?.delete(queueOf(job));
    }
    return true;
  }

  /** 1-based position of a ready job in its queue; null when held or not queued. */
  position(id: string, running: Record<string, number>): number | null {
    const standing = this.standing(id, 'queue', running);
    return standing ? standing.ahead + 1 : null;
  }

  /** Where a ready job stands in its queue's or its pool's order; undefined when held or absent. */
  standing(
    id: string,
    kind: 'queue' | 'pool',
    running: Record<string, number>
  ): QueuePlace | undefined {
    const job = this.jobs.get(id);
    if (!job || job.held) return undefined;
    const group = this.groups.get(
      kind === 'queue' ? queueOf(job) : poolOf(job)
    );
    return group && standingIn(group, job, running);
  }

  /**
   * Whether the ready job's pool holds exactly its queue's jobs (a pool served by one queue):
   * then its place in its pool's order is its place in its queue's.
   */
  poolIsQueue(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job || job.held) return false;
    const pool = this.groups.get(poolOf(job));
    const queue = this.groups.get(queueOf(job));
    return (
      !!pool && !!queue && pool.queues?.size === 1 && pool.size === queue.size
    );
  }

  /** A queue's or a pool's admission order, produced lazily (see admissionOrder). */
  order(
    kind: 'queue' | 'pool',
    name: string,
    running: Record<string, number>
  ): Generator<QueuedJob> {
    return orderOf(
      this.groups.get(`${kind === 'queue' ? 'q' : 'p'}:${name}`),
      running
    );
  }

  /**
   * What decideAdmissions decides on these jobs: without queue or per-user limits, each pool's
   * first free-slots jobs of its order (read from the index, pools by name); with them, the
   * scheduler itself on the queued jobs. (Property-tested against decideAdmissions.)
   */
  decide(input: Omit<SchedulerInput, 'queued'>): string[] {
    if (
      input.maxRunningPerUser !== undefined ||
      Object.keys(input.queues ?? {}).length
    )
      return decideAdmissions({ ...input, queued: this.all() });
    const ids: string[] = [];
    for (const pool of Object.keys(input.pools).sort()) {
      let free = input.pools[pool].capacity - input.pools[pool].running;
      if (free <= 0) continue;
      for (const job of this.order('pool', pool, input.runningByUser)) {
        ids.push(job.id);
        if (--free === 0) break;
      }
    }
    return ids;
  }

  private place(key: string, job: QueuedJob): Group {
    let group = this.groups.get(key);
    if (!group) {
      group = { levels: new Map(), ranks: [], size: 0 };
      this.groups.set(key, group);
    }
    let level = group.levels.get(job.priorityRank);
    if (!level) {
      level = { owners: new Map(), size: 0 };
      group.levels.set(job.priorityRank, level);
      group.ranks.push(job.priorityRank);
      group.ranks.sort((a, b) => b - a);
    }
    const list = level.owners.get(job.owner);
    if (!list) level.owners.set(job.owner, [job]);
    else if (!list.length || earlier(list[list.length - 1], job))
      list.push(job);
    else list.splice(search(list, job), 0, job);
    level.size += 1;
    group.size += 1;
    group.cache = undefined;
    return group;
  }

  private unplace(key: string, job: QueuedJob): Group {
    const group = this.groups.get(key) as Group;
    const level = group.levels.get(job.priorityRank) as Level;
    const list = level.owners.get(job.owner) as QueuedJob[];
    list.splice(search(list, job), 1);
    if (!list.length) level.owners.delete(job.owner);
    level.size -= 1;
    group.size -= 1;
    group.cache = undefined;
    if (!level.size) {
      group.levels.delete(job.priorityRank);
      group.ranks.splice(group.ranks.indexOf(job.priorityRank), 1);
    }
    if (!group.size) this.groups.delete(key);
    return group;
  }
}

/** The group's cache for these running counts (the same object until a job starts or ends). */
function cacheOf(group: Group, running: Record<string, number>): GroupCache {
  if (group.cache?.running !== running)
    group.cache = { running, shares: new Map() };
  return group.cache;
}

/** Each owner's share at the level of `rank`: running jobs plus jobs at the levels above. */
function sharesAt(
  group: Group,
  rank: number,
  running: Record<string, number>
): Map<string, number> {
  const cache = cacheOf(group, running);
  let shares = cache.shares.get(rank);
  if (!shares) {
    const higher = new Map<string, number>();
    for (const r of group.ranks) {
      if (r === rank) break;
      for (const [owner, list] of (group.levels.get(r) as Level).owners)
        higher.set(owner, (higher.get(owner) ?? 0) + list.length);
    }
    shares = new Map();
    for (const owner of (group.levels.get(rank) as Level).owners.keys())
      shares.set(owner, (running[owner] ?? 0) + (higher.get(owner) ?? 0));
    cache.shares.set(rank, shares);
  }
  return shares;
}

/** The job's standing in `group`: counted per owner at its level (see the file comment). */
function standingIn(
  group: Group,
  job: QueuedJob,
  running: Record<string, number>
): QueuePlace {
  const aheadByRank = new Map<number, number>();
  let ahead = 0;
  for (const rank of group.ranks) {
    if (rank === job.priorityRank) break;
    const size = (group.levels.get(rank) as Level).size;
    ahead += size;
    aheadByRank.set(rank, size);
  }
  const shares = sharesAt(group, job.priorityRank, running);
  const level = group.levels.get(job.priorityRank) as Level;
  const mine = level.owners.get(job.owner) as QueuedJob[];
  const index = search(mine, job);
  const at = (shares.get(job.owner) as number) + index;
  let same = index;
  let before: QueuedJob | undefined;
  for (const [owner, list] of level.owners) {
    if (owner === job.owner) continue;
    const c = at - (shares.get(owner) as number);
    if (c < 0) continue;
    let k = Math.min(c, list.length);
    if (c < list.length && earlier(list[c], job)) k += 1;
    same += k;
    // The owner's jobs ahead are their k earliest: the latest of them is the k-th.
    if (k > 0 && (!before || list[k - 1].positionKey > before.positionKey))
      before = list[k - 1];
  }
  ahead += same;
  if (same) aheadByRank.set(job.priorityRank, same);
  return { ahead, aheadByRank, before, first: firstOf(group, running) };
}

/** The first job of the group's order: at the highest level, the least share, the earliest. */
function firstOf(group: Group, running: Record<string, number>): QueuedJob {
  const cache = cacheOf(group, running);
  if (cache.first) return cache.first;
  const level = group.levels.get(group.ranks[0]) as Level;
  let best: QueuedJob | undefined;
  let bestShare = Infinity;
  for (const [owner, list] of level.owners) {
    const share = running[owner] ?? 0;
    if (
      !best ||
      share < bestShare ||
      (share === bestShare && earlier(list[0], best))
    ) {
      best = list[0];
      bestShare = share;
    }
  }
  cache.first = best as QueuedJob;
  return cache.first;
}

interface Cursor {
  list: QueuedJob[];
  next: number;
  share: number;
}

/** The group's admission order, level by level, each a merge of its owners' jobs by share. */
function* orderOf(
  group: Group | undefined,
  running: Record<string, number>
): Generator<QueuedJob> {
  if (!group) return;
  const higher = new Map<string, number>();
  for (const rank of [...group.ranks]) {
    const level = group.levels.get(rank) as Level;
    const cursors: Cursor[] = [];
    for (const [owner, list] of level.owners)
      cursors.push({
        list,
        next: 0,
        share: (running[owner] ?? 0) + (higher.get(owner) ?? 0)
      });
    const heap = new Heap<Cursor>(
      (a, b) =>
        a.share !== b.share
          ? a.share < b.share
          : earlier(a.list[a.next], b.list[b.next]),
      cursors
    );
    while (heap.size) {
      const c = heap.pop() as Cursor;
      yield c.list[c.next];
      c.next += 1;
      c.share += 1;
      if (c.next < c.list.length) heap.push(c);
    }
    for (const [owner, list] of level.owners)
      higher.set(owner, (higher.get(owner) ?? 0) + list.length);
  }
}
