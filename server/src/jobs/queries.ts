import type { Identity } from '../auth/auth';
import {
  type Config,
  type Profile,
  gpuShape,
  isShaped,
  shapeUnit
} from '../config/schema';
import { ApiError, notFound } from '../errors';
import type { MetricQuery, MetricRow } from '../metrics/store';
import { DurationHistory, Eta, JobEstimate, estimatePool } from '../queue/eta';
import { admissionOrder } from '../queue/scheduler';
import { Waiting, WaitingReason, explainQueue } from '../queue/waiting';
import type { QueueRow, Store } from '../store/store';
import type { ResultFile } from '../results/table';
import { StartCalibration } from '../queue/estimate/calibration';
import { JobProgress } from './progress';
import { StartTracker } from './startTracker';
import { maxAttempts } from './restarts';
import { capacityState, countBy, toQueued } from './schedulerInput';
import {
  ACTIVE_STATES,
  FINAL_STATES,
  JobEvent,
  JobRecord,
  JobState,
  JobView
} from './types';

/**
 * Every queued job's position, ETA and why it waits, computed together from one read of the
 * queue.
 */
export interface QueueInfo {
  rows: QueueRow[];
  positions: Map<string, number>;
  etas: Map<string, Eta>;
  /** Start and end ranges of the queued jobs and the end ranges of the admitted ones. */
  estimates: Map<string, JobEstimate>;
  waiting: Map<string, Waiting>;
}

export interface JobQueriesOptions {
  config: Config;
  store: Store;
  now: () => Date;
  /** What the backend says keeps a queued job off the cluster (Kubernetes), if anything. */
  cluster?: (jobId: string) => WaitingReason | undefined;
  /** Units of a profile's GPU resource free on its nodes; null where the backend cannot know. */
  gpuFree?: (profile: Profile) => number | null;
}

export interface ListFilter {
  states?: JobState[];
  all?: boolean;
  queue?: string;
  limit?: number;
  cursor?: number;
}

/**
 * The read side: jobs as their owners (and admins) see them, with their place in the queue and
 * when they should start; profiles and queues with what runs and waits on them. Changes nothing.
 */
export class JobQueries {
  /** The profiles' recent run durations, loaded once each, kept as jobs succeed. */
  readonly history: DurationHistory;
  /** Which code cell each running job is at. */
  readonly progress: JobProgress;
  /** Predicted starts against real ones: widens the ranges until they cover. */
  private readonly starts: StartTracker;

  constructor(private readonly options: JobQueriesOptions) {
    const { store, config } = options;
    this.history = new DurationHistory(
      (profile, limit) => store.recentRuns(profile, limit),
      {
        window: config.eta?.history_jobs ?? 200,
        minUserJobs: config.eta?.min_user_jobs ?? 20
      }
    );
    this.progress = new JobProgress((id, type) => store.latestEvent(id, type));
    this.starts = new StartTracker(
      new StartCalibration({
        window: config.eta?.history_jobs ?? 200,
        minScores: config.eta?.min_user_jobs ?? 20,
        coverage: config.eta?.coverage ?? 0.9
      })
    );
  }

  /** A job ended: a success joins its profile's history; its progress is let go. */
  jobEnded(job: JobRecord): void {
    this.progress.forget(job.id);
    if (job.state === 'succeeded' && job.started_at && job.finished_at)
      this.history.record(job.profile, {
        owner: job.owner,
        seconds:
          (Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000
      });
  }

  private get store(): Store {
    return this.options.store;
  }

  /**
   * Positions, ETAs and waiting reasons of every queued job (or of one profile's: a queue belongs to one
   * profile, so that is enough for one job's view).
   */
  queueInfo(profile?: string): QueueInfo {
    const { config } = this.options;
    const rows = this.store.listQueue(profile);
    const active = this.store.listJobs({ states: [...ACTIVE_STATES] });
    const state = capacityState(config, active);
    const { runningByUser } = state;
    // Held jobs keep their place in the store but have no position until released.
    const queued = rows.map(r => ({
      ...toQueued(r, config.priorities),
      held: r.held === 1
    }));
    const ready = queued.filter(j => !j.held);
    const explained = explainQueue({
      ...state,
      queued,
      priorities: config.priorities,
      gpusPerJob: Object.fromEntries(
        config.profiles.map(p => [p.name, p.gpus])
      ),
      gpuUnits: Object.fromEntries(
        config.profiles.filter(isShaped).map(p => [p.name, shapeUnit(p)])
      ),
      cluster: this.options.cluster
    });
    const etas = new Map<string, Eta>();
    const nowMs = this.options.now().getTime();
    const estimates = new Map<string, JobEstimate>();
    for (const pool of config.profiles) {
      if (profile !== undefined && pool.name !== profile) continue;
      const inPool = ready.filter(j => j.pool === pool.name);
      const running = active.filter(j => j.profile === pool.name);
      if (!inPool.length && !running.length) continue;
      const queuedIds = new Set(inPool.map(j => j.id));
      const estimated = estimatePool({
        profile: pool.name,
        capacity: pool.capacity,
        running: this.elapsed(running),
        queued: admissionOrder(inPool, runningByUser),
        history: this.history.view(pool.name)
      });
      for (const [id, raw] of estimated) {
        const estimate = raw.start
          ? {
              ...raw,
              start: this.starts.predict(pool.name, id, raw.start, nowMs)
            }
          : raw;
        estimates.set(id, estimate);
        if (queuedIds.has(id))
          etas.set(id, {
            seconds: estimate.start?.seconds ?? null,
            basis: estimate.basis
          });
      }
    }
    this.starts.settle(profile, new Set(ready.map(j => j.id)), id =>
      this.store.getJob(id)
    );
    return {
      rows,
      positions: explained.positions,
      etas,
      estimates,
      waiting: explained.waiting
    };
  }

  private elapsed(
    jobs: JobRecord[]
  ): { id: string; owner: string; elapsed: number }[] {
    const nowMs = this.options.now().getTime();
    return jobs.map(j => ({
      id: j.id,
      owner: j.owner,
      elapsed: j.started_at ? (nowMs - Date.parse(j.started_at)) / 1000 : 0
    }));
  }

  /** The end estimate of an admitted job, from its pool's admitted jobs alone. */
  private runningEstimate(job: JobRecord): JobEstimate | undefined {
    const profile = this.options.config.profiles.find(
      p => p.name === job.profile
    );
    if (!profile) return undefined;
    const running = this.store
      .listJobs({ states: [...ACTIVE_STATES] })
      .filter(j => j.profile === job.profile);
    return estimatePool({
      profile: job.profile,
      capacity: profile.capacity,
      running: this.elapsed(running),
      queued: [],
      history: this.history.view(job.profile)
    }).get(job.id);
  }

  /** A job's start and end estimate: queued (not held) and admitted jobs only. */
  private estimate(job: JobRecord, q?: QueueInfo): JobEstimate | null {
    if (job.state === 'queued')
      return job.held ? null : (q?.estimates.get(job.id) ?? null);
    if (!ACTIVE_STATES.has(job.state)) return null;
    return q?.estimates.get(job.id) ?? this.runningEstimate(job) ?? null;
  }

  /** The job as clients see it; `info` saves reading the queue again for many jobs. */
  view(job: JobRecord, info?: QueueInfo): JobView {
    const queued = job.state === 'queued';
    const q = queued ? (info ?? this.queueInfo(job.profile)) : info;
    const eta = queued ? q?.etas.get(job.id) : undefined;
    const running = job.state === 'running';
    if (!running) this.progress.forget(job.id);
    return {
      id: job.id,
      name: job.name,
      owner: job.owner,
      profile: job.profile,
      queue: job.queue,
      priority: job.priority,
      parameters: job.spec.parameters,
      notebook_path: job.spec.notebook_path,
      state: job.state,
      reason: job.reason,
      created_at: job.created_at,
      started_at: job.started_at,
      finished_at: job.finished_at,
      position: q?.positions.get(job.id) ?? null,
      last_seq: job.last_seq,
      has_result: job.has_result,
      cancel_requested: job.cancel_requested,
      held: job.held,
      eta_seconds: queued ? (job.held ? null : (eta?.seconds ?? null)) : null,
      eta_basis: queued
        ? job.held
          ? 'held: starts only after it is released'
          : (eta?.basis ?? null)
        : null,
      eta: this.estimate(job, q),
      progress: running ? this.progress.get(job.id) : null,
      pipeline_id: job.spec.pipeline?.id ?? null,
      pipeline_step: job.spec.pipeline?.step ?? null,
      waiting: queued ? (q?.waiting.get(job.id) ?? null) : null,
      schedule_id: job.spec.schedule_id ?? null,
      scheduled_for: job.spec.scheduled_for ?? null,
      attempt: job.attempt,
      max_attempts: Math.max(
        job.attempt,
        maxAttempts(this.options.config, job.profile)
      ),
      restarts: job.restarts
    };
  }

  /** The view of a job known to exist (one just written). */
  fresh(id: string): JobView {
    return this.view(this.store.getJob(id) as JobRecord);
  }

  /** A job the identity may see; anyone else's answers 404, never its contents. */
  getRecord(who: Identity, id: string): JobRecord {
    const job = this.store.getJob(id);
    if (!job || (job.owner !== who.user && !who.admin)) {
      throw notFound(
        'unknown_job',
        `There is no job '${id}'. List your jobs with GET /api/jobs or \`nbqueue jobs\`.`
      );
    }
    return job;
  }

  get(who: Identity, id: string): JobView {
    return this.view(this.getRecord(who, id));
  }

  list(
    who: Identity,
    filter: ListFilter = {}
  ): { jobs: JobView[]; next_cursor: number | null } {
    if (filter.all && !who.admin) {
      throw new ApiError(
        403,
        'forbidden',
        "Only admins may list everyone's jobs; leave out all=1 to see your own."
      );
    }
    const info = this.queueInfo();
    const limit = filter.limit ?? 1000;
    const offset = filter.cursor ?? 0;
    const jobs = this.store.listJobs({
      owner: filter.all ? undefined : who.user,
      states: filter.states,
      queue: filter.queue,
      limit: limit + 1,
      offset
    });
    const more = jobs.length > limit;
    return {
      jobs: jobs.slice(0, limit).map(j => this.view(j, info)),
      next_cursor: more ? offset + limit : null
    };
  }

  events(
    who: Identity,
    id: string,
    after: number,
    limit: number
  ): { events: JobEvent[]; last_seq: number } {
    const job = this.getRecord(who, id);
    return {
      events: this.store.listEvents(id, after, limit, job.last_seq),
      last_seq: job.last_seq
    };
  }

  /** A job's metric points after the `since` cursor, up to its gap-free mark. */
  metrics(who: Identity, id: string, query: MetricQuery): MetricRow[] {
    const job = this.getRecord(who, id);
    return this.store.metrics.list(id, { ...query, upTo: job.last_seq });
  }

  /**
   * Where the job's executed notebook is: a file in the job's area (uploaded), or the text an
   * older runner sent inline with its finish.
   */
  result(
    who: Identity,
    id: string
  ):
    | { file: ResultFile; text?: undefined }
    | { text: string; file?: undefined } {
    const job = this.getRecord(who, id);
    const file = this.store.results.get(id);
    if (file) return { file };
    const result = this.store.getResult(id);
    if (!result) {
      throw notFound(
        'result_not_ready',
        FINAL_STATES.has(job.state)
          ? `Job '${id}' ended ${job.state} without a result notebook.`
          : `Job '${id}' is ${job.state}; its result is available once it ends.`
      );
    }
    return { text: result };
  }

  profiles(): Array<Record<string, unknown>> {
    const running = countBy(
      this.store.listJobs({ states: [...ACTIVE_STATES] }),
      j => j.profile
    );
    const queued = countBy(this.store.listQueue(), j => j.profile);
    return this.options.config.profiles.map(p => {
      const gpu = gpuShape(p);
      // Only what the contract's Profile says: placement (node selectors, tolerations) and
      // the raw config stay the operator's.
      return {
        name: p.name,
        description: p.description,
        cpus: p.cpus,
        gpus: p.gpus,
        memory: p.memory,
        capacity: p.capacity,
        ...(p.idle_gpu ? { idle_gpu: p.idle_gpu } : {}),
        running: running[p.name] ?? 0,
        queued: queued[p.name] ?? 0,
        free: Math.max(0, p.capacity - (running[p.name] ?? 0)),
        gpu_type: gpu.type,
        gpu_resource: gpu.resource,
        gpu_free: this.options.gpuFree?.(p) ?? null
      };
    });
  }

  queues(): Array<Record<string, unknown>> {
    const active = this.store.listJobs({
      states: ['queued', 'starting', 'running']
    });
    return this.options.config.queues.map(q => ({
      ...q,
      queued: active.filter(j => j.queue === q.name && j.state === 'queued')
        .length,
      running: active.filter(j => j.queue === q.name && j.state !== 'queued')
        .length
    }));
  }

  /** The priority classes `who` may choose, lowest first: above `high` only admins may. */
  allowedPriorities(who: Identity): string[] {
    const classes = this.options.config.priorities;
    if (who.admin) return [...classes];
    const userMax = classes.includes('high')
      ? classes.indexOf('high')
      : classes.length - 1;
    return classes.slice(0, userMax + 1);
  }
}
