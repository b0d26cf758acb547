import { randomBytes } from 'crypto';
import type { Backend, BackendObserver } from '../backends/backend';
import type { Config } from '../config/schema';
import { ApiError, badRequest, notFound } from '../errors';
import { eventProblem } from '../events/validate';
import {
  decideAdmissions,
  queuePositions,
  QueuedJob
} from '../queue/scheduler';
import type { Store } from '../store/store';
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
import { validateNotebook, validateSubmission } from './validate';

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

  private positions(): Map<string, number> {
    const queued = this.store.listJobs({ states: ['queued'] });
    return queuePositions(
      queued.map(j => ({ ...this.toQueued(j), queue: j.queue })),
      this.runningByUser()
    );
  }

  private view(job: JobRecord, positions?: Map<string, number>): JobView {
    const pos =
      job.state === 'queued'
        ? ((positions ?? this.positions()).get(job.id) ?? null)
        : null;
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
      position: pos,
      last_seq: job.last_seq,
      has_result: job.has_result,
      cancel_requested: job.cancel_requested
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

  list(who: Identity, states?: JobState[]): JobView[] {
    const positions = this.positions();
    const jobs = this.store.listJobs({
      owner: who.admin ? undefined : who.user,
      states
    });
    return jobs.map(j => this.view(j, positions));
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
    const queued = this.countBy(
      this.store.listJobs({ states: ['queued'] }),
      j => j.profile
    );
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
    const job: JobRecord = {
      id: `j-${randomBytes(5).toString('hex')}`,
      owner: who.user,
      name: sub.name,
      profile: sub.profile,
      queue: sub.queue,
      priority: sub.priority,
      state: 'queued',
      reason: null,
      created_at: this.now(),
      started_at: null,
      finished_at: null,
      position_key: this.store.nextPositionKey(),
      spec: sub.spec,
      cancel_requested: false,
      backend_ref: null,
      last_seq: 0,
      has_result: false
    };
    this.store.insertJob(job, sub.notebook);
    this.publishQueue();
    void this.schedule();
    return this.view(this.store.getJob(job.id) as JobRecord);
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
      cancel_grace_seconds:
        this.options.config.backend.local.cancel_grace_seconds
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
      this.store.saveResult(job.id, validateNotebook(b.notebook) as Notebook);
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

  // ---- scheduling --------------------------------------------------------------------

  private toQueued(job: JobRecord): QueuedJob {
    const rank = this.options.config.priorities.indexOf(job.priority);
    return {
      id: job.id,
      owner: job.owner,
      pool: job.profile,
      priorityRank: rank,
      positionKey: job.position_key
    };
  }

  private countBy(
    jobs: JobRecord[],
    key: (j: JobRecord) => string
  ): Record<string, number> {
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

  private runningByUser(): Record<string, number> {
    return this.countBy(
      this.store.listJobs({ states: [...ACTIVE_STATES] }),
      j => j.owner
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
        const queued = this.store.listJobs({ states: ['queued'] });
        if (!queued.length) break;
        const running = this.runningByProfile();
        const pools = Object.fromEntries(
          this.options.config.profiles.map(p => [
            p.name,
            { capacity: p.capacity, running: running[p.name] ?? 0 }
          ])
        );
        const admit = decideAdmissions({
          queued: queued.map(j => this.toQueued(j)),
          pools,
          runningByUser: this.runningByUser()
        });
        for (const id of admit) await this.start(id);
        if (admit.length) this.publishQueue();
      } while (this.scheduleAgain);
    } finally {
      this.scheduling = false;
    }
  }

  private async start(id: string): Promise<void> {
    const token = newToken();
    this.store.updateJob(id, {
      state: 'starting',
      started_at: this.now(),
      token_hash: hashToken(token)
    });
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
    this.store.updateJob(id, { state, reason, finished_at: this.now() });
    this.publish(id);
    this.publishQueue();
    void this.schedule();
  }

  private publish(id: string): void {
    const job = this.store.getJob(id);
    if (job) this.listener?.jobChanged(this.view(job));
  }

  /** Queue positions move for everyone in a queue when one job comes or goes. */
  private publishQueue(): void {
    if (!this.listener) return;
    const positions = this.positions();
    for (const job of this.store.listJobs({ states: ['queued'] }))
      this.listener.jobChanged(this.view(job, positions));
  }
}
