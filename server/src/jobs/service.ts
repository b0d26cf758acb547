import { randomBytes } from 'crypto';
import type { Backend, BackendObserver } from '../backends/backend';
import type { Config } from '../config/schema';
import { ApiError, badRequest, notFound } from '../errors';
import { eventProblem } from '../events/validate';
import {
  admissionOrder,
  decideAdmissions,
  queuePositions,
  QueuedJob
} from '../queue/scheduler';
import { Eta, estimateStarts } from '../queue/eta';
import {
  Placed,
  ReorderTarget,
  reorderGroup,
  reorderKeys
} from '../queue/reorder';
import type { MetricQuery, MetricRow } from '../metrics/store';
import type { QueueRow, Store } from '../store/store';

interface QueueInfo {
  rows: QueueRow[];
  positions: Map<string, number>;
  etas: Map<string, Eta>;
}
import { hashToken, newToken, sameSecret } from '../auth/token';
import type { Identity } from '../auth/auth';
import {
  ACTIVE_STATES,
  FINAL_STATES,
  JobEvent,
  JobRecord,
  JobState,
  JobView,
  Notebook
} from './types';
import { validateSubmission } from './validate';
import { jobNotebook, resultNotebook } from '../notebook';
import { runnerEnvironment } from './environment';

/** Who hears about changes: the live (socket.io) layer. */
export interface JobListener {
  jobChanged(job: JobView): void;
  eventsAppended(job: JobRecord, events: JobEvent[]): void;
}

export interface JobServiceOptions {
  config: Config;
  store: Store;
  /** URL runners use to reach the sidecar. */
  sidecarUrl: () => string;
  now?: () => Date;
}

const MAX_EVENTS_PER_POST = 5000;
/** The largest events POST body (the runner sends batches of at most 1 MB). */
export const EVENTS_BODY_BYTES = 1024 * 1024;
/** The largest single event: it must fit an events POST alone, with room for the envelope. */
export const MAX_EVENT_BYTES = EVENTS_BODY_BYTES - 16 * 1024;
/** Queue positions and ETAs are sent at most this often (ms). */
const PUBLISH_QUEUE_MS = 100;
/**
 * The runner's report of its kernel killed by SIGKILL (runner-image's kernel_died_reason): what
 * a kernel sees of an out-of-memory kill, so the backend's OOMKilled says why.
 */
const KERNEL_KILLED = /^The kernel died\b.*\(exit code (-9|137)\)/;

/**
 * The life of a job: submit, admit, run, stream, finish, cancel. Holds no state of its own
 * beyond the store, so a restart picks up where it was.
 */
export class JobService implements BackendObserver {
  private backend!: Backend;
  private listener: JobListener | undefined;
  private scheduling = false;
  private scheduleAgain = false;

  constructor(private readonly options: JobServiceOptions) {}

  attach(backend: Backend, listener?: JobListener): void {
    this.backend = backend;
    this.listener = listener;
  }

  setListener(listener: JobListener): void {
    this.listener = listener;
  }

  private get store(): Store {
    return this.options.store;
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  // ---- views -------------------------------------------------------------------------

  /**
   * Positions and ETAs of every queued job (or of one profile's: a queue belongs to one
   * profile, so that is enough for one job's view), computed together from one read.
   */
  private queueInfo(profile?: string): QueueInfo {
    const rows = this.store.listQueue(profile);
    const active = this.store.listJobs({ states: [...ACTIVE_STATES] });
    const runningByUser = this.countBy(active, j => j.owner);
    // Held jobs keep their place in the store but have no position until released.
    const waiting = rows.filter(r => !r.held).map(r => this.toQueued(r));
    const positions = queuePositions(waiting, runningByUser);
    const etas = new Map<string, Eta>();
    const nowMs = Date.parse(this.now());
    for (const profile of this.options.config.profiles) {
      const inPool = waiting.filter(j => j.pool === profile.name);
      if (!inPool.length) continue;
      const running = active.filter(j => j.profile === profile.name);
      const estimates = estimateStarts(profile.name, {
        capacity: profile.capacity,
        runningElapsed: running.map(j =>
          j.started_at ? (nowMs - Date.parse(j.started_at)) / 1000 : 0
        ),
        order: admissionOrder(inPool, runningByUser).map(j => j.id),
        history: this.store.recentDurations(profile.name)
      });
      for (const [id, eta] of estimates) etas.set(id, eta);
    }
    return { rows, positions, etas };
  }

  private view(job: JobRecord, info?: QueueInfo): JobView {
    const queued = job.state === 'queued';
    const q = queued ? (info ?? this.queueInfo(job.profile)) : undefined;
    const eta = q?.etas.get(job.id);
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
        : null
    };
  }

  /** A job the identity may see; anyone else's answers 404, never its contents. */
  private visible(who: Identity, id: string): JobRecord {
    const job = this.store.getJob(id);
    if (!job || (job.owner !== who.user && !who.admin)) {
      throw notFound(
        'unknown_job',
        `There is no job '${id}'. List your jobs with GET /api/jobs or \`nbqueue jobs\`.`
      );
    }
    return job;
  }

  list(
    who: Identity,
    filter: {
      states?: JobState[];
      all?: boolean;
      queue?: string;
      limit?: number;
      cursor?: number;
    } = {}
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

  get(who: Identity, id: string): JobView {
    return this.view(this.visible(who, id));
  }

  getRecord(who: Identity, id: string): JobRecord {
    return this.visible(who, id);
  }

  events(
    who: Identity,
    id: string,
    after: number,
    limit: number
  ): { events: JobEvent[]; last_seq: number } {
    const job = this.visible(who, id);
    return {
      events: this.store.listEvents(id, after, limit, job.last_seq),
      last_seq: job.last_seq
    };
  }

  /** A job's metric points after the `since` cursor, up to its gap-free mark. */
  metrics(who: Identity, id: string, query: MetricQuery): MetricRow[] {
    const job = this.visible(who, id);
    return this.store.metrics.list(id, { ...query, upTo: job.last_seq });
  }

  result(who: Identity, id: string): string {
    const job = this.visible(who, id);
    const result = this.store.getResult(id);
    if (!result) {
      throw notFound(
        'result_not_ready',
        FINAL_STATES.has(job.state)
          ? `Job '${id}' ended ${job.state} without a result notebook.`
          : `Job '${id}' is ${job.state}; its result is available once it ends.`
      );
    }
    return result;
  }

  profiles(): Array<Record<string, unknown>> {
    const running = this.runningByProfile();
    const queued = this.countBy(this.store.listQueue(), j => j.profile);
    return this.options.config.profiles.map(p => ({
      ...p,
      running: running[p.name] ?? 0,
      queued: queued[p.name] ?? 0,
      free: Math.max(0, p.capacity - (running[p.name] ?? 0))
    }));
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

  // ---- user actions ------------------------------------------------------------------

  submit(who: Identity, body: unknown): JobView {
    const sub = validateSubmission(
      body,
      this.options.config,
      this.options.now?.()
    );
    this.checkPriorityAllowed(who, sub.priority);
    this.checkQueuedLimit(who);
    this.backend.check?.(who.user, sub.spec);
    const id = this.insert(
      who,
      sub.name,
      sub.profile,
      sub.queue,
      sub.priority,
      sub.spec,
      sub.notebook
    );
    return this.freshView(id);
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

  /** Classes above `high` (by default `urgent`) are the admins' own, on every route. */
  private checkPriorityAllowed(who: Identity, priority: string): void {
    const allowed = this.allowedPriorities(who);
    if (!allowed.includes(priority)) {
      throw new ApiError(
        403,
        'forbidden',
        `Only admins may set priority '${priority}'; you may choose up to '${allowed[allowed.length - 1]}'.`
      );
    }
  }

  private checkQueuedLimit(who: Identity): void {
    const max = this.options.config.limits.max_queued_per_user;
    if (max === undefined) return;
    const mine = this.store.listJobs({
      owner: who.user,
      states: ['queued']
    }).length;
    if (mine >= max) {
      throw new ApiError(
        429,
        'over_limit',
        `You already have ${mine} jobs waiting, the most allowed per user (${max}). Cancel one or wait for some to start.`
      );
    }
  }

  private insert(
    who: Identity,
    name: string,
    profile: string,
    queue: string,
    priority: string,
    spec: JobRecord['spec'],
    notebook: Notebook
  ): string {
    const job: JobRecord = {
      id: `j-${randomBytes(5).toString('hex')}`,
      owner: who.user,
      name,
      profile,
      queue,
      priority,
      state: 'queued',
      reason: null,
      created_at: this.now(),
      started_at: null,
      finished_at: null,
      position_key: this.store.nextPositionKey(),
      spec,
      cancel_requested: false,
      held: false,
      backend_ref: null,
      last_seq: 0,
      has_result: false
    };
    this.store.insertJob(job, notebook);
    this.publishQueue();
    // Every other queued job was already refused by the last pass, and a new queued job does
    // not change their chances: only the new one can start, and only if its pool has room.
    if (this.poolHasRoom(profile)) void this.schedule();
    return job.id;
  }

  async cancel(who: Identity, id: string): Promise<JobView> {
    const job = this.visible(who, id);
    if (FINAL_STATES.has(job.state)) {
      throw new ApiError(
        409,
        'invalid_state',
        `Job '${id}' already ended ${job.state}; there is nothing to cancel.`
      );
    }
    if (job.state === 'queued') {
      this.finalize(
        job.id,
        'cancelled',
        'Cancelled by the user before it started.'
      );
    } else {
      this.store.updateJob(id, { cancel_requested: true });
      this.publish(id);
      await this.backend.cancel(this.store.getJob(id) as JobRecord);
    }
    return this.view(this.store.getJob(id) as JobRecord);
  }

  /** The job, if it is waiting in a queue; 409 otherwise. */
  private waiting(who: Identity, id: string, what: string): JobRecord {
    const job = this.visible(who, id);
    if (job.state !== 'queued') {
      throw new ApiError(
        409,
        'invalid_state',
        `Job '${id}' is ${job.state}; only a queued job can be ${what}.`
      );
    }
    return job;
  }

  private changed(id: string): JobView {
    this.publish(id);
    this.publishQueue();
    void this.schedule();
    return this.view(this.store.getJob(id) as JobRecord);
  }

  hold(who: Identity, id: string): JobView {
    const job = this.waiting(who, id, 'held');
    if (!job.held) this.store.updateJob(id, { held: true });
    return this.changed(id);
  }

  release(who: Identity, id: string): JobView {
    const job = this.waiting(who, id, 'released');
    if (job.held) this.store.updateJob(id, { held: false });
    return this.changed(id);
  }

  /** A new queued job with the same notebook and spec (optionally on another profile). */
  rerun(who: Identity, id: string, body: unknown): JobView {
    const job = this.visible(who, id);
    if (!FINAL_STATES.has(job.state)) {
      throw new ApiError(
        409,
        'invalid_state',
        `Job '${id}' is still ${job.state}; re-run it once it has ended.`
      );
    }
    const wanted = (body as { profile?: unknown } | null)?.profile;
    let profile = job.profile;
    let queue = job.queue;
    if (wanted !== undefined && wanted !== null && wanted !== job.profile) {
      const names = this.options.config.profiles.map(p => p.name);
      if (typeof wanted !== 'string' || !names.includes(wanted)) {
        throw badRequest(
          'unknown_profile',
          `Profile '${String(wanted)}' does not exist; choose one of ${names.join(', ')}.`
        );
      }
      profile = wanted;
      const q = this.options.config.queues.find(x => x.profile === wanted);
      if (!q)
        throw badRequest(
          'unknown_queue',
          `No queue serves profile '${wanted}'.`
        );
      queue = q.name;
    }
    // A re-run keeps the job's priority unless it names one; either way within the caller's.
    const priority = this.rerunPriority(job, body);
    this.checkPriorityAllowed(who, priority);
    this.checkQueuedLimit(who);
    this.backend.check?.(who.user, job.spec);
    // Read again as a submit reads it: jobs stored before normalisation get it now.
    const notebook = jobNotebook(
      this.store.getNotebook(id),
      this.options.config.limits.max_notebook_bytes
    );
    const newId = this.insert(
      who,
      job.name,
      profile,
      queue,
      priority,
      job.spec,
      notebook
    );
    return this.freshView(newId);
  }

  move(who: Identity, id: string, body: unknown): JobView {
    this.waiting(who, id, 'moved');
    const name = (body as { queue?: unknown } | null)?.queue;
    const queue = this.options.config.queues.find(q => q.name === name);
    if (!queue) {
      throw badRequest(
        'unknown_queue',
        `Queue '${String(name)}' does not exist; choose one of ${this.options.config.queues.map(q => q.name).join(', ')}.`
      );
    }
    // The job takes the queue's profile; its place among jobs is kept.
    this.store.updateJob(id, { queue: queue.name, profile: queue.profile });
    return this.changed(id);
  }

  private rerunPriority(job: JobRecord, body: unknown): string {
    const wanted = (body as { priority?: unknown } | null)?.priority;
    if (wanted === undefined || wanted === null) return job.priority;
    const classes = this.options.config.priorities;
    if (typeof wanted !== 'string' || !classes.includes(wanted)) {
      throw badRequest(
        'invalid_priority',
        `Priority ${JSON.stringify(wanted)} is not valid; choose one of ${classes.join(', ')}.`
      );
    }
    return wanted;
  }

  setPriority(who: Identity, id: string, body: unknown): JobView {
    this.waiting(who, id, 'reprioritised');
    const priority = (body as { priority?: unknown } | null)?.priority;
    const classes = this.options.config.priorities;
    if (typeof priority !== 'string' || !classes.includes(priority)) {
      throw badRequest(
        'invalid_priority',
        `Priority ${JSON.stringify(priority)} is not valid; choose one of ${classes.join(', ')}.`
      );
    }
    this.checkPriorityAllowed(who, priority);
    this.store.updateJob(id, { priority });
    return this.changed(id);
  }

  /**
   * Moves one of the owner's queued jobs among the owner's own jobs that compete with it (same
   * queue, priority and hold state; see queue/reorder.ts): the places they hold are dealt out
   * again in the new order, so nobody else's job moves.
   */
  reorder(who: Identity, id: string, body: unknown): JobView {
    const job = this.waiting(who, id, 'reordered');
    if (job.owner !== who.user) {
      throw new ApiError(
        403,
        'forbidden',
        `Job '${id}' belongs to ${job.owner}; only its owner can reorder it.`
      );
    }
    const b = (body ?? {}) as { to?: unknown; before?: unknown };
    let target: ReorderTarget;
    if (b.to === 'front' || b.to === 'back') target = { to: b.to };
    else if (typeof b.before === 'string') target = { before: b.before };
    else {
      throw badRequest(
        'invalid_request',
        'Say where: {"to": "front"}, {"to": "back"} or {"before": "<job id>"}.'
      );
    }
    const placed = (j: JobRecord): Placed => ({
      id: j.id,
      owner: j.owner,
      queue: j.queue,
      priorityRank: this.options.config.priorities.indexOf(j.priority),
      held: j.held,
      positionKey: j.position_key
    });
    const mine = this.store
      .listJobs({ owner: who.user, states: ['queued'], queue: job.queue })
      .map(placed);
    const keys = reorderKeys(reorderGroup(mine, placed(job)), id, target);
    if (!keys) {
      // A well-formed request that the queue as it stands cannot take: 409, as for a job
      // that is no longer queued.
      const other = mine.find(
        j => j.id === (target as { before: string }).before
      );
      throw new ApiError(
        409,
        'invalid_state',
        other && other.id !== id
          ? `'${other.id}' is not another of your queued jobs in queue '${job.queue}' that competes with '${id}': reorder moves a job only among your jobs of the same priority (${job.priority}) and hold state. Change the priority, or hold or release, first.`
          : `'${String(b.before)}' is not another of your queued jobs in queue '${job.queue}'.`
      );
    }
    for (const [jobId, key] of keys)
      this.store.updateJob(jobId, { position_key: key });
    this.publishQueue();
    return this.view(this.store.getJob(id) as JobRecord);
  }

  async log(who: Identity, id: string): Promise<string> {
    const job = this.visible(who, id);
    const text = await this.backend.logs(job);
    // Not started yet: nothing written so far (the document's log exists from the submit on).
    if (text === null && (job.state === 'queued' || job.state === 'starting'))
      return '';
    if (text === null) {
      throw notFound(
        'log_not_found',
        `Job '${id}' has no runner log${job.state === 'queued' ? ' yet: it has not started' : ''}.`
      );
    }
    return text;
  }

  // ---- runner side -------------------------------------------------------------------

  /** Checks a runner's per-job token; 401 for anything else. */
  authenticateRunner(id: string, token: string | undefined): JobRecord {
    const hash = this.store.getTokenHash(id);
    const job = this.store.getJob(id);
    if (!token || !hash || !job || !sameSecret(hashToken(token), hash)) {
      throw new ApiError(
        401,
        'unauthorized',
        'This job token is not valid for this job.'
      );
    }
    return job;
  }

  runnerFetch(job: JobRecord): Record<string, unknown> {
    return {
      job: this.view(job),
      notebook: this.store.getNotebook(job.id),
      parameters: job.spec.parameters,
      kernel: job.spec.kernel,
      environment: runnerEnvironment(this.options.config, job.spec.environment),
      cancel_grace_seconds:
        this.options.config.backend.local.cancel_grace_seconds,
      // The runner stops the job itself at its deadline, on every backend (Kubernetes also
      // has activeDeadlineSeconds as a backstop), so what ran until then is kept.
      deadline_seconds: job.spec.deadline_seconds ?? null,
      // One event must fit the events route (1 MB): a larger output goes live as its start
      // or a note, and whole in the executed notebook.
      max_event_bytes: MAX_EVENT_BYTES
    };
  }

  ingestEvents(
    job: JobRecord,
    body: unknown
  ): { accepted: number; last_seq: number; cancel: boolean } {
    const events = (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(events))
      throw badRequest(
        'invalid_request',
        'The body must be {"events": [...]}.'
      );
    if (events.length > MAX_EVENTS_PER_POST) {
      throw badRequest(
        'invalid_request',
        `At most ${MAX_EVENTS_PER_POST} events per request.`
      );
    }
    for (const ev of events) {
      const problem = eventProblem(ev);
      if (problem)
        throw badRequest('invalid_event', `Invalid event: ${problem}.`);
    }
    if (FINAL_STATES.has(job.state)) {
      // A late retry after the job ended: everything it carries is already stored or moot.
      return {
        accepted: 0,
        last_seq: job.last_seq,
        cancel: job.state === 'cancelled'
      };
    }
    const { before, after, inserted } = this.store.appendEvents(
      job.id,
      events as JobEvent[]
    );
    if (job.state === 'starting') {
      this.store.updateJob(job.id, { state: 'running' });
    }
    const fresh = this.store.getJob(job.id) as JobRecord;
    if (after > before) {
      this.listener?.eventsAppended(
        fresh,
        this.store.listEvents(job.id, before, after - before, after)
      );
    }
    if (job.state === 'starting') this.publish(job.id);
    return {
      accepted: inserted,
      last_seq: after,
      cancel: fresh.cancel_requested
    };
  }

  finish(job: JobRecord, body: unknown): void {
    const b = body as {
      state?: unknown;
      reason?: unknown;
      notebook?: unknown;
    } | null;
    const state = b?.state;
    if (state !== 'succeeded' && state !== 'failed' && state !== 'cancelled') {
      throw badRequest(
        'invalid_request',
        '"state" must be succeeded, failed or cancelled.'
      );
    }
    if (b?.notebook !== undefined && b.notebook !== null) {
      this.store.saveResult(job.id, resultNotebook(b.notebook));
    }
    if (FINAL_STATES.has(job.state)) return;
    const reason = typeof b?.reason === 'string' && b.reason ? b.reason : null;
    this.finalize(
      job.id,
      state,
      reason ?? (state === 'cancelled' ? 'Cancelled by the user.' : null)
    );
  }

  // ---- backend observer --------------------------------------------------------------

  handle(jobId: string, ref: Record<string, unknown>): void {
    this.store.updateJob(jobId, { backend_ref: ref });
  }

  exited(jobId: string, reason: string): void {
    const job = this.store.getJob(jobId);
    if (!job || FINAL_STATES.has(job.state)) return;
    if (job.cancel_requested)
      this.finalize(
        jobId,
        'cancelled',
        'Cancelled by the user; the runner was stopped.'
      );
    else this.finalize(jobId, 'failed', reason);
  }

  outOfMemory(jobId: string, reason: string): void {
    const job = this.store.getJob(jobId);
    if (!job || !FINAL_STATES.has(job.state)) return this.exited(jobId, reason);
    if (job.state === 'failed' && KERNEL_KILLED.test(job.reason ?? '')) {
      this.store.updateJob(jobId, { reason });
      this.publish(jobId);
    }
  }

  note(jobId: string, reason: string | null): void {
    const job = this.store.getJob(jobId);
    if (!job || FINAL_STATES.has(job.state) || job.reason === reason) return;
    this.store.updateJob(jobId, { reason });
    this.publish(jobId);
  }

  /**
   * The job's pod was taken away (eviction, node loss): it ends failed, naming the copy of it
   * queued in its place (same notebook, spec and place in the queue), unless it was already
   * queued again `max` times.
   */
  requeue(jobId: string, reason: string, max: number): void {
    const job = this.store.getJob(jobId);
    if (!job || FINAL_STATES.has(job.state)) return;
    const done = job.spec.requeues ?? 0;
    if (job.cancel_requested || done >= max) {
      this.exited(
        jobId,
        `${reason} It was already queued again ${done} time(s), the most allowed: re-run it.`
      );
      return;
    }
    const copy = this.insert(
      { user: job.owner, admin: false },
      job.name,
      job.profile,
      job.queue,
      job.priority,
      { ...job.spec, requeues: done + 1 },
      this.store.getNotebook(jobId) as Notebook
    );
    this.store.updateJob(copy, { position_key: job.position_key });
    this.finalize(jobId, 'failed', `${reason} Queued again as job ${copy}.`);
  }

  // ---- scheduling --------------------------------------------------------------------

  private toQueued(
    job: Pick<
      JobRecord,
      'id' | 'owner' | 'profile' | 'queue' | 'priority' | 'position_key'
    >
  ): QueuedJob {
    const rank = this.options.config.priorities.indexOf(job.priority);
    return {
      id: job.id,
      owner: job.owner,
      pool: job.profile,
      queue: job.queue,
      priorityRank: rank,
      positionKey: job.position_key
    };
  }

  private countBy<T>(jobs: T[], key: (j: T) => string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const j of jobs) out[key(j)] = (out[key(j)] ?? 0) + 1;
    return out;
  }

  private runningByProfile(): Record<string, number> {
    return this.countBy(
      this.store.listJobs({ states: [...ACTIVE_STATES] }),
      j => j.profile
    );
  }

  private poolHasRoom(profile: string): boolean {
    const capacity = this.options.config.profiles.find(
      p => p.name === profile
    )?.capacity;
    return (
      capacity === undefined ||
      this.store.countJobs([...ACTIVE_STATES], profile) < capacity
    );
  }

  /** Admits every queued job that fits now. Re-entrant calls coalesce into one more pass. */
  async schedule(): Promise<void> {
    if (this.scheduling) {
      this.scheduleAgain = true;
      return;
    }
    this.scheduling = true;
    try {
      do {
        this.scheduleAgain = false;
        const queued = this.store.listQueue().filter(r => !r.held);
        if (!queued.length) break;
        const active = this.store.listJobs({ states: [...ACTIVE_STATES] });
        const running = this.countBy(active, j => j.profile);
        const runningInQueue = this.countBy(active, j => j.queue);
        const pools = Object.fromEntries(
          this.options.config.profiles.map(p => [
            p.name,
            { capacity: p.capacity, running: running[p.name] ?? 0 }
          ])
        );
        const queues = Object.fromEntries(
          this.options.config.queues
            .filter(q => q.capacity !== undefined)
            .map(q => [
              q.name,
              {
                capacity: q.capacity as number,
                running: runningInQueue[q.name] ?? 0
              }
            ])
        );
        const admit = decideAdmissions({
          queued: queued.map(j => this.toQueued(j)),
          pools,
          queues,
          runningByUser: this.countBy(active, j => j.owner),
          maxRunningPerUser: this.options.config.limits.max_running_per_user
        });
        const decided = new Map(queued.map(j => [j.id, j.profile]));
        for (const id of admit) {
          // A backend that knows the cluster's free capacity (Kubernetes) starts only what fits.
          const job = this.backend.fits ? this.store.getJob(id) : undefined;
          if (job && !this.backend.fits?.(job)) continue;
          // Starting the jobs before it may have taken a while: one cancelled, held or moved
          // meanwhile stays as the user left it, and its slot goes to the next decision.
          if (!(await this.start(id, decided.get(id) as string)))
            this.scheduleAgain = true;
        }
        if (admit.length) this.publishQueue();
      } while (this.scheduleAgain);
    } finally {
      this.scheduling = false;
    }
  }

  /** Starts a job the scheduler admitted on `profile`; false if it was no longer waiting there. */
  private async start(id: string, profile: string): Promise<boolean> {
    const token = newToken();
    if (!this.store.claimForStart(id, profile, hashToken(token), this.now()))
      return false;
    this.publish(id);
    try {
      await this.backend.submit({
        job: this.store.getJob(id) as JobRecord,
        token,
        sidecarUrl: this.options.sidecarUrl()
      });
    } catch (err) {
      this.finalize(id, 'failed', (err as Error).message);
    }
    return true;
  }

  /** After a restart: runners still alive are watched again, the others' jobs fail. */
  async readopt(): Promise<void> {
    for (const job of this.store.listJobs({ states: [...ACTIVE_STATES] })) {
      const ok = await this.backend.readopt(job);
      if (!ok) {
        this.finalize(
          job.id,
          'failed',
          'The runner stopped while the sidecar was down, before reporting a result. Re-run the job.'
        );
      }
    }
    await this.schedule();
  }

  private finalize(id: string, state: JobState, reason: string | null): void {
    // The job token ends with the job: a leaked one cannot replace its result or files later.
    this.store.updateJob(id, {
      state,
      reason,
      finished_at: this.now(),
      token_hash: null
    });
    this.publish(id);
    this.publishQueue();
    void this.schedule();
  }

  private publish(id: string): void {
    const job = this.store.getJob(id);
    if (job) this.listener?.jobChanged(this.view(job));
  }

  /**
   * Queue positions and ETAs move for everyone in a queue when one job comes or goes; only the
   * jobs whose position or ETA changed are sent.
   */
  private publishQueue(): void {
    // A burst of changes (10,000 submits) is published once per interval, not once per change:
    // each publish reads and orders the whole queue.
    if (!this.listener || this.publishTimer) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      if (this.store.isOpen()) this.publishQueueNow();
    }, PUBLISH_QUEUE_MS);
    this.publishTimer.unref();
  }

  private publishTimer: NodeJS.Timeout | undefined;

  private publishQueueNow(): void {
    if (!this.listener) return;
    const info = this.queueInfo();
    const seen = new Set<string>();
    for (const row of info.rows) {
      seen.add(row.id);
      const eta = row.held ? null : (info.etas.get(row.id)?.seconds ?? null);
      const key = `${info.positions.get(row.id) ?? null}|${eta}|${row.held}|${row.priority}|${row.queue}`;
      if (this.published.get(row.id) === key) continue;
      this.published.set(row.id, key);
      const job = this.store.getJob(row.id);
      if (job) this.listener.jobChanged(this.view(job, info));
    }
    for (const id of this.published.keys())
      if (!seen.has(id)) this.published.delete(id);
  }

  private freshView(id: string): JobView {
    return this.view(this.store.getJob(id) as JobRecord);
  }

  /** What was last sent for each queued job, so unchanged ones are not sent again. */
  private readonly published = new Map<string, string>();
}
