import type { Config } from '../config/schema';
import { Eta, estimateStarts } from '../queue/eta';
import { QueueIndex } from '../queue/queueIndex';
import {
  QueuePlace,
  Waiting,
  WaitingReason,
  heldWaiting,
  waitingAt
} from '../queue/waiting';
import type { QueueRow, Store } from '../store/store';
import { CapacityState, capacityState, toQueued } from './schedulerInput';
import { ACTIVE_STATES, JobRecord } from './types';

/** A queued job's position, ETA and why it waits, read one job at a time. */
export interface QueueInfo {
  position(id: string): number | null;
  eta(id: string): Eta | undefined;
  waiting(id: string): Waiting | undefined;
}

export interface QueueViewOptions {
  config: Config;
  store: Store;
  now: () => Date;
  cluster?: (jobId: string) => WaitingReason | undefined;
}

/** A pool's ETAs are estimated again at most this often (ms), or after any start or end. */
const ETA_REFRESH_MS = 1000;

interface Active {
  changes: number;
  jobs: JobRecord[];
  state: CapacityState;
}

interface EtaSequence {
  changes: number;
  at: number;
  /** The ETA of the pool's i-th job in admission order. */
  etas: Eta[];
}

/**
 * The queue as requests read it: the in-memory index (queue/queueIndex.ts) kept in step with
 * the store's queued rows, and what it is read against, cached until a job starts, ends or
 * changes: the running jobs, and each pool's ETAs by place in its order (the estimate,
 * queue/eta.ts, gives the i-th job of a pool the same ETA whichever job it is). A submit's
 * answer and a page of the jobs list cost O(log n + levels × owners) a job, not a pass over
 * the queue.
 */
export class QueueView {
  private index: QueueIndex | undefined;
  private active: Active | undefined;
  private readonly etas = new Map<string, EtaSequence>();

  constructor(private readonly options: QueueViewOptions) {
    options.store.watchQueue((id, row) => {
      if (!this.index) return;
      if (row) this.index.upsert(this.toJob(row));
      else this.index.remove(id);
    });
  }

  /** The queued jobs, indexed (read from the store the first time). */
  get queue(): QueueIndex {
    if (!this.index) {
      const index = new QueueIndex();
      for (const row of this.options.store.listQueue())
        index.upsert(this.toJob(row));
      this.index = index;
    }
    return this.index;
  }

  /** The active jobs and the capacity they take, read again only after a job changed. */
  capacity(): { jobs: JobRecord[]; state: CapacityState } {
    const { store, config } = this.options;
    if (this.active?.changes !== store.changes) {
      const jobs = store.listJobs({ states: [...ACTIVE_STATES] });
      this.active = {
        changes: store.changes,
        jobs,
        state: capacityState(config, jobs)
      };
    }
    return this.active;
  }

  /** Position, ETA and waiting of queued jobs, each computed when asked for. */
  info(): QueueInfo {
    const queue = this.queue;
    const { state } = this.capacity();
    const running = state.runningByUser;
    const input = {
      ...state,
      queued: [],
      priorities: this.options.config.priorities,
      gpusPerJob: Object.fromEntries(
        this.options.config.profiles.map(p => [p.name, p.gpus])
      ),
      cluster: this.options.cluster
    };
    // A job's place in its queue, once per job (its position and its waiting read it).
    const places = new Map<string, QueuePlace | undefined>();
    const place = (id: string) => {
      if (!places.has(id)) places.set(id, queue.standing(id, 'queue', running));
      return places.get(id);
    };
    return {
      position: id => {
        const at = place(id);
        return at ? at.ahead + 1 : null;
      },
      eta: id => {
        const job = queue.get(id);
        const at = queue.poolIsQueue(id)
          ? place(id)
          : queue.standing(id, 'pool', running);
        if (!job || !at) return undefined;
        return this.etaAt(job.pool, at.ahead);
      },
      waiting: id => {
        const job = queue.get(id);
        if (!job) return undefined;
        if (job.held) return heldWaiting();
        const place = queue.standing(id, 'queue', running);
        return place && waitingAt(input, job, job.queue ?? job.pool, place);
      }
    };
  }

  /** The ETA of the pool's job at `place` (0-based) in its admission order. */
  private etaAt(pool: string, place: number): Eta | undefined {
    const { store, config, now } = this.options;
    const profile = config.profiles.find(p => p.name === pool);
    if (!profile) return undefined;
    const at = now().getTime();
    let cached = this.etas.get(pool);
    if (
      !cached ||
      cached.changes !== store.changes ||
      at - cached.at > ETA_REFRESH_MS ||
      cached.etas.length <= place
    ) {
      // Room for the pool's queue to grow a little before the next estimate.
      const length = Math.max(place + 1, this.queue.poolSize(pool)) + 256;
      const running = this.capacity().jobs.filter(j => j.profile === pool);
      const estimates = estimateStarts(pool, {
        capacity: profile.capacity,
        runningElapsed: running.map(j =>
          j.started_at ? (at - Date.parse(j.started_at)) / 1000 : 0
        ),
        order: Array.from({ length }, (_, i) => String(i)),
        history: store.recentDurations(pool)
      });
      cached = { changes: store.changes, at, etas: [...estimates.values()] };
      this.etas.set(pool, cached);
    }
    return cached.etas[place];
  }

  private toJob(row: QueueRow) {
    return {
      ...toQueued(row, this.options.config.priorities),
      held: row.held === 1
    };
  }
}
