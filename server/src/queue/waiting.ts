/**
 * Why a queued job waits: a pure function of the same state the scheduler decides on (no I/O,
 * no clock). Each queued job gets its reasons in order of what blocks most, and a one-sentence
 * summary of them, shown in the Jobs panel, `nbqueue jobs` and the REST API (docs/protocol.md).
 */
import { PoolState, QueuedJob, admissionOrder } from './scheduler';

export const WAITING_CODES = [
  'held',
  'user_limit',
  'queue_full',
  'pool_full',
  'no_node_fits',
  'cluster_full',
  'behind',
  'fair_share',
  'next'
] as const;
export type WaitingCode = (typeof WAITING_CODES)[number];

export interface WaitingReason {
  code: WaitingCode;
  message: string;
  /** Jobs (or GPUs, where the pool's profile has GPUs) in use, and the most there can be. */
  in_use?: number;
  capacity?: number;
  /** Jobs ahead of this one in its queue. */
  ahead?: number;
  /** The user whose job goes before this one (fair share). */
  user?: string;
}

export interface Waiting {
  summary: string;
  reasons: WaitingReason[];
}

export interface WaitingInput {
  /** Every queued job, held ones included. */
  queued: QueuedJob[];
  pools: Record<string, PoolState>;
  queues?: Record<string, PoolState>;
  runningByUser: Record<string, number>;
  maxRunningPerUser?: number;
  /** Running jobs per pool, per owner: who holds a full pool. */
  runningByPoolOwner: Record<string, Record<string, number>>;
  /** Priority class names, by rank (index 0 is the lowest). */
  priorities: readonly string[];
  /** GPUs one job of the pool takes (0 or absent: the pool counts jobs). */
  gpusPerJob?: Record<string, number>;
  /** What the pool's GPU units are called where not GPUs (a MIG slice: nvidia.com/mig-1g.10gb). */
  gpuUnits?: Record<string, string>;
  /** What the backend says keeps a job off the cluster (Kubernetes: no node has room). */
  cluster?: (jobId: string) => WaitingReason | undefined;
}

export interface QueueExplained {
  /** 1-based positions of the jobs that are not held, within their queue, in admission order. */
  positions: Map<string, number>;
  waiting: Map<string, Waiting>;
}

const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n} ${n === 1 ? one : many}`;

/** "alice 8, bob 8" (the three holding most, then how many others). */
function holders(byOwner: Record<string, number>, per: number): string {
  const list = Object.entries(byOwner)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = list.slice(0, 3).map(([owner, n]) => `${owner} ${n * per}`);
  if (list.length > 3) shown.push(`${list.length - 3} others`);
  return shown.join(', ');
}

function summarize(reasons: WaitingReason[]): string {
  const text = reasons
    .slice(0, 2)
    .map(r => r.message)
    .join('; ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** The job that went before others at its priority by fair share: the latest submitted so far. */
interface Latest {
  best?: QueuedJob;
  /** The latest of another owner than `best`'s. */
  other?: QueuedJob;
}

function noteLatest(latest: Latest, job: QueuedJob): void {
  const { best, other } = latest;
  if (!best || job.positionKey > best.positionKey) {
    // `other` stays the latest of another owner than the new best's.
    if (best && best.owner !== job.owner) latest.other = best;
    latest.best = job;
  } else if (
    job.owner !== best.owner &&
    (!other || job.positionKey > other.positionKey)
  )
    latest.other = job;
}

/**
 * Positions and waiting reasons of every queued job, from one admission order per queue:
 * O(n log n) over the queue, as the positions alone are.
 */
export function explainQueue(input: WaitingInput): QueueExplained {
  const positions = new Map<string, number>();
  const waiting = new Map<string, Waiting>();
  const byQueue = new Map<string, QueuedJob[]>();
  for (const job of input.queued) {
    if (job.held) {
      waiting.set(job.id, heldWaiting());
      continue;
    }
    const key = job.queue ?? job.pool;
    const list = byQueue.get(key);
    if (list) list.push(job);
    else byQueue.set(key, [job]);
  }
  for (const [queue, jobs] of byQueue) {
    const order = admissionOrder(jobs, input.runningByUser);
    const aheadByRank = new Map<number, number>();
    const latestByRank = new Map<number, Latest>();
    order.forEach((job, i) => {
      positions.set(job.id, i + 1);
      const latest = latestByRank.get(job.priorityRank);
      const before =
        latest?.best && latest.best.owner !== job.owner
          ? latest.best
          : latest?.other;
      waiting.set(
        job.id,
        waitingAt(input, job, queue, {
          ahead: i,
          aheadByRank,
          before,
          first: order[0]
        })
      );
      aheadByRank.set(
        job.priorityRank,
        (aheadByRank.get(job.priorityRank) ?? 0) + 1
      );
      const slot = latestByRank.get(job.priorityRank) ?? {};
      noteLatest(slot, job);
      latestByRank.set(job.priorityRank, slot);
    });
  }
  return { positions, waiting };
}

/** Why a held job waits. */
export function heldWaiting(): Waiting {
  const message = 'held: it starts only after it is released';
  return {
    summary: summarize([{ code: 'held', message }]),
    reasons: [{ code: 'held', message }]
  };
}

/** Where a ready job stands in its queue's admission order (queue/queueIndex.ts reads it too). */
export interface QueuePlace {
  /** Jobs ahead of it. */
  ahead: number;
  /** Jobs ahead of it, by priority rank. */
  aheadByRank: Map<number, number>;
  /** Of the jobs ahead at its priority, the latest submitted of another owner. */
  before: QueuedJob | undefined;
  /** The first job of the queue's order. */
  first: QueuedJob;
}

/** Why one ready job waits, from where it stands in its queue. */
export function waitingAt(
  input: WaitingInput,
  job: QueuedJob,
  queue: string,
  place: QueuePlace
): Waiting {
  const reasons = blockers(input, job, queue);
  if (place.ahead > 0)
    reasons.push(behind(input, place.ahead, place.aheadByRank));
  const { before } = place;
  if (before && before.positionKey > job.positionKey)
    reasons.push({
      code: 'fair_share',
      user: before.owner,
      message: `${before.owner} goes ${before.id === place.first.id ? 'next' : 'before you'}: fewer running jobs at the same priority`
    });
  if (!reasons.length) reasons.push({ code: 'next', message: 'next to start' });
  return { summary: summarize(reasons), reasons };
}

/** What keeps the job from starting even at the head of its queue, most blocking first. */
function blockers(
  input: WaitingInput,
  job: QueuedJob,
  queue: string
): WaitingReason[] {
  const out: WaitingReason[] = [];
  const limit = input.maxRunningPerUser;
  const mine = input.runningByUser[job.owner] ?? 0;
  if (limit !== undefined && mine >= limit)
    out.push({
      code: 'user_limit',
      in_use: mine,
      capacity: limit,
      message: `you have ${mine} of ${plural(limit, 'running job')} allowed per user`
    });
  const q = input.queues?.[queue];
  if (q && q.running >= q.capacity)
    out.push({
      code: 'queue_full',
      in_use: q.running,
      capacity: q.capacity,
      message: `queue ${queue}: ${q.running} of ${plural(q.capacity, 'job')} running`
    });
  const pool = input.pools[job.pool];
  if (pool && pool.running >= pool.capacity) {
    const gpus = input.gpusPerJob?.[job.pool] ?? 0;
    const per = gpus > 0 ? gpus : 1;
    const unit =
      gpus > 0 ? (input.gpuUnits?.[job.pool] ?? 'GPUs') : 'job slots';
    const who = holders(input.runningByPoolOwner[job.pool] ?? {}, per);
    out.push({
      code: 'pool_full',
      in_use: pool.running * per,
      capacity: pool.capacity * per,
      message: `pool ${job.pool}: ${pool.running * per} of ${pool.capacity * per} ${unit} in use${who ? `: ${who}` : ''}`
    });
  }
  const cluster = input.cluster?.(job.id);
  if (cluster) out.push(cluster);
  return out;
}

/** "3 jobs ahead of you: 1 urgent, 2 high" (by priority class, highest first). */
function behind(
  input: WaitingInput,
  ahead: number,
  aheadByRank: Map<number, number>
): WaitingReason {
  const ranks = [...aheadByRank.entries()].sort((a, b) => b[0] - a[0]);
  const parts = ranks.map(
    ([rank, n]) => `${n} ${input.priorities[rank] ?? `priority ${rank}`}`
  );
  return {
    code: 'behind',
    ahead,
    message: `${plural(ahead, 'job')} ahead in the queue: ${parts.join(', ')}`
  };
}
