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
import type { JobEstimate } from '../queue/eta';
import { QueueInfo, QueueView } from './queueView';
import { WaitingReason, explainQueue } from '../queue/waiting';
import type { QueueRow, Store } from '../store/store';
import type { ResultFile } from '../results/table';
import { JobProgress } from './progress';
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

/** Every queued job's position, ETA and why it waits, computed together from one read of the queue. */
export interface FullQueueInfo extends QueueInfo {
  rows: QueueRow[];
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
  /** The queue kept indexed in memory: what one job's position, ETA and waiting are read from. */
  readonly queue: QueueView;
  /** Which code cell each running job is at. */
  readonly progress: JobProgress;

  constructor(private readonly options: JobQueriesOptions) {
    this.queue = new QueueView(options);
    this.progress = new JobProgress((id, type) =>
      options.store.latestEvent(id, type)
    );
  }

  /** A job ended: a success joins its profile's history; its progress is let go. */
  jobEnded(job: JobRecord): void {
    this.progress.forget(job.id);
    this.queue.jobEnded(job);
  }

  private get store(): Store {
    return this.options.store;
  }

  /**
   * Positions, ETAs and waiting reasons of every queued job (or of one profile's: a queue belongs to one
   * profile), in one pass over the queue: what the throttled queue publish sends.
   */
  queueInfo(profile?: string): FullQueueInfo {
    const { config } = this.options;
    const rows = this.store.listQueue(profile);
    const active = this.store.listJobs({ states: [...ACTIVE_STATES] });
    const state = capacityState(config, active);
    // Held jobs keep their place in the store but have no position until released.
    const queued = rows.map(r => ({
      ...toQueued(r, config.priorities),
      held: r.held === 1
    }));
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
    // The ETAs come from the queue view's estimates (kept per pool, made again when stale).
    const view = this.queue.info();
    return {
      rows,
      position: id => explained.positions.get(id) ?? null,
      eta: id => view.eta(id),
      estimate: id => view.estimate(id),
      waiting: id => explained.waiting.get(id)
    };
  }

  /** A job's start and end estimate: queued (not held) and admitted jobs only. */
  private estimate(job: JobRecord, q?: QueueInfo): JobEstimate | null {
    if (job.state === 'queued')
      return job.held ? null : (q?.estimate(job.id) ?? null);
    if (!ACTIVE_STATES.has(job.state)) return null;
    return this.queue.admittedEstimate(job) ?? null;
  }

  /** The job as clients see it; `info` saves reading the queue again for many jobs. */
  view(job: JobRecord, info?: QueueInfo): JobView {
    const queued = job.state === 'queued';
    const q = queued ? (info ?? this.queue.info()) : undefined;
    const eta = q?.eta(job.id);
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
      position: q?.position(job.id) ?? null,
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
      waiting: queued ? (q?.waiting(job.id) ?? null) : null,
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
    const info = this.queue.info();
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
    const running = countBy(this.queue.capacity().jobs, j => j.profile);
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
    const queued = countBy(this.store.listQueue(), j => j.queue);
    const running = countBy(this.queue.capacity().jobs, j => j.queue);
    return this.options.config.queues.map(q => ({
      ...q,
      queued: queued[q.name] ?? 0,
      running: running[q.name] ?? 0
    }));
  }

  /** Queued jobs of `owner`, held ones included (the per-user queued limit). */
  queuedBy(owner: string): number {
    return this.queue.queue.queuedBy(owner);
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
