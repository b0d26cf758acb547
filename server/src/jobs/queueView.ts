import { type Config, isShaped, shapeUnit } from '../config/schema';
import { DurationHistory, Eta, JobEstimate, estimatePool } from '../queue/eta';
import { StartCalibration } from '../queue/estimate/calibration';
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
import { StartTracker } from './startTracker';
import { ACTIVE_STATES, JobRecord } from './types';

/** A queued job's position, ETA and why it waits, read one job at a time. */
export interface QueueInfo {
  position(id: string): number | null;
  eta(id: string): Eta | undefined;
  /** Start and end ranges of a ready queued job. */
  estimate(id: string): JobEstimate | undefined;
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

interface PoolEstimates {
  changes: number;
  at: number;
  /** The pool's queued and admitted jobs' estimates (queue/estimate/pool.ts), calibrated. */
  byId: Map<string, JobEstimate>;
  /** The estimate of the pool's i-th ready job in admission order: what a job submitted since
   * (not yet estimated) is given, by its place. */
  byPlace: JobEstimate[];
}

/**
 * The queue as requests read it: the in-memory index (queue/queueIndex.ts) kept in step with
 * the store's queued rows, and what it is read against, cached until a job starts, ends or
 * changes: the running jobs, and each pool's estimates (queue/estimate/pool.ts, calibrated by
 * the starts seen, jobs/startTracker.ts), by job and by place in the pool's order, made again
 * at most every ETA_REFRESH_MS or after a start, an end or a change. A submit's
 * answer and a page of the jobs list cost O(log n + levels × owners) a job, not a pass over
 * the queue.
 */
export class QueueView {
  private index: QueueIndex | undefined;
  private active: Active | undefined;
  private readonly estimates = new Map<string, PoolEstimates>();
  /** The profiles' recent run durations, loaded once each, kept as jobs succeed. */
  readonly history: DurationHistory;
  /** Predicted starts against real ones: widens the ranges until they cover. */
  private readonly starts: StartTracker;

  constructor(private readonly options: QueueViewOptions) {
    const { store, config } = options;
    this.history = new DurationHistory(
      (profile, limit) => store.recentRuns(profile, limit),
      {
        window: config.eta?.history_jobs ?? 200,
        minUserJobs: config.eta?.min_user_jobs ?? 20
      }
    );
    this.starts = new StartTracker(
      new StartCalibration({
        window: config.eta?.history_jobs ?? 200,
        minScores: config.eta?.min_user_jobs ?? 20,
        coverage: config.eta?.coverage ?? 0.9
      })
    );
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
      gpuUnits: Object.fromEntries(
        this.options.config.profiles
          .filter(isShaped)
          .map(p => [p.name, shapeUnit(p)])
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
        const estimate = this.queuedEstimate(id, place);
        return (
          estimate && {
            seconds: estimate.start?.seconds ?? null,
            basis: estimate.basis
          }
        );
      },
      estimate: id => this.queuedEstimate(id, place),
      waiting: id => {
        const job = queue.get(id);
        if (!job) return undefined;
        if (job.held) return heldWaiting();
        const at = place(id);
        return at && waitingAt(input, job, job.queue ?? job.pool, at);
      }
    };
  }

  /** A ready queued job's estimate: its own, or (submitted since the last estimate) the one
   * of its place in its pool's order. */
  private queuedEstimate(
    id: string,
    place: (id: string) => QueuePlace | undefined
  ): JobEstimate | undefined {
    const queue = this.queue;
    const job = queue.get(id);
    if (!job || job.held) return undefined;
    const pool = this.poolEstimates(job.pool);
    const own = pool?.byId.get(id);
    if (own || !pool) return own;
    const at = queue.poolIsQueue(id)
      ? place(id)
      : queue.standing(id, 'pool', this.capacity().state.runningByUser);
    return at && pool.byPlace[Math.min(at.ahead, pool.byPlace.length - 1)];
  }

  /** An admitted (starting or running) job's end estimate. */
  admittedEstimate(job: JobRecord): JobEstimate | undefined {
    return this.poolEstimates(job.profile)?.byId.get(job.id);
  }

  /** A job ended: a success joins its profile's history. */
  jobEnded(job: JobRecord): void {
    if (job.state === 'succeeded' && job.started_at && job.finished_at)
      this.history.record(job.profile, {
        owner: job.owner,
        seconds:
          (Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000
      });
  }

  /** The pool's estimates, made again when stale. */
  private poolEstimates(pool: string): PoolEstimates | undefined {
    const { store, config, now } = this.options;
    const profile = config.profiles.find(p => p.name === pool);
    if (!profile) return undefined;
    const at = now().getTime();
    const cached = this.estimates.get(pool);
    if (
      cached &&
      cached.changes === store.changes &&
      at - cached.at <= ETA_REFRESH_MS
    )
      return cached;
    const { jobs, state } = this.capacity();
    const order = [
      ...this.queue.order('pool', pool, state.runningByUser)
    ].filter(j => !j.held);
    const running = jobs
      .filter(j => j.profile === pool)
      .map(j => ({
        id: j.id,
        owner: j.owner,
        elapsed: j.started_at ? (at - Date.parse(j.started_at)) / 1000 : 0
      }));
    const byId = new Map<string, JobEstimate>();
    const raw = estimatePool({
      profile: pool,
      capacity: profile.capacity,
      running,
      queued: order.map(j => ({ id: j.id, owner: j.owner })),
      history: this.history.view(pool)
    });
    for (const [id, estimate] of raw)
      byId.set(
        id,
        estimate.start
          ? {
              ...estimate,
              start: this.starts.predict(pool, id, estimate.start, at)
            }
          : estimate
      );
    this.starts.settle(pool, new Set(order.map(j => j.id)), id =>
      store.getJob(id)
    );
    const fresh = {
      changes: store.changes,
      at,
      byId,
      byPlace: order.map(j => byId.get(j.id) as JobEstimate)
    };
    this.estimates.set(pool, fresh);
    return fresh;
  }

  private toJob(row: QueueRow) {
    return {
      ...toQueued(row, this.options.config.priorities),
      held: row.held === 1
    };
  }
}
