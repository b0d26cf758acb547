import type { Identity } from '../auth/auth';
import type { Backend } from '../backends/backend';
import type { Config } from '../config/schema';
import { ApiError, badRequest, notFound } from '../errors';
import { jobNotebook } from '../notebook';
import { Placed, reorderGroup, reorderKeys } from '../queue/reorder';
import type { Store } from '../store/store';
import type { JobLifecycle, NewJob } from './lifecycle';
import type { JobPublisher } from './publisher';
import type { JobQueries } from './queries';
import { admissionRank } from './schedulerInput';
import { FINAL_STATES, JobRecord, JobView } from './types';
import type { Submission } from '../api/contract/submit';
import type {
  MoveBody,
  PriorityBody,
  RerunBody,
  ReorderBody
} from '../api/contract/jobs';

export interface JobCommandsOptions {
  config: Config;
  store: Store;
  backend: Backend;
  queries: JobQueries;
  publisher: JobPublisher;
  lifecycle: JobLifecycle;
}

/**
 * What a user asks of jobs: submit, cancel, hold, release, re-run, move, reprioritise,
 * reorder, read the runner's log. Each checks who may do what, then changes the job.
 */
export class JobCommands {
  constructor(private readonly options: JobCommandsOptions) {}

  private get store(): Store {
    return this.options.store;
  }

  private get config(): Config {
    return this.options.config;
  }

  /** A submission as the contract checked it (api/contract/submit.ts). */
  submit(who: Identity, sub: Submission): JobView {
    const id = this.options.lifecycle.enqueue(this.newJob(who, sub));
    return this.options.queries.fresh(id);
  }

  /**
   * A submission over REST: stored with the others that arrive in the same turn, in one
   * transaction (group commit); answered once it is committed.
   */
  async submitGrouped(who: Identity, sub: Submission): Promise<JobView> {
    const job = await this.options.lifecycle.enqueueGrouped(
      this.newJob(who, sub)
    );
    // The record as stored (nothing else can have changed it yet): no read back.
    return this.options.queries.view(job);
  }

  private newJob(who: Identity, sub: Submission): NewJob {
    this.checkPriorityAllowed(who, sub.priority);
    this.checkQueuedLimit(who);
    this.options.backend.check?.(who.user, sub.spec);
    return {
      owner: who.user,
      name: sub.name,
      profile: sub.profile,
      queue: sub.queue,
      priority: sub.priority,
      spec: sub.spec,
      notebook: sub.notebook
    };
  }

  async cancel(who: Identity, id: string): Promise<JobView> {
    const job = this.options.queries.getRecord(who, id);
    if (FINAL_STATES.has(job.state)) {
      throw new ApiError(
        409,
        'invalid_state',
        `Job '${id}' already ended ${job.state}; there is nothing to cancel.`
      );
    }
    if (job.state === 'queued') {
      this.options.lifecycle.end(
        job.id,
        'cancelled',
        'Cancelled by the user before it started.'
      );
    } else {
      this.store.updateJob(id, { cancel_requested: true });
      this.options.publisher.jobChanged(id);
      await this.options.backend.cancel(this.store.getJob(id) as JobRecord);
    }
    return this.options.queries.fresh(id);
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
  rerun(who: Identity, id: string, body: RerunBody): JobView {
    const job = this.options.queries.getRecord(who, id);
    if (!FINAL_STATES.has(job.state)) {
      throw new ApiError(
        409,
        'invalid_state',
        `Job '${id}' is still ${job.state}; re-run it once it has ended.`
      );
    }
    const wanted = body.profile;
    let profile = job.profile;
    let queue = job.queue;
    if (wanted && wanted !== job.profile) {
      profile = wanted;
      const q = this.config.queues.find(x => x.profile === wanted);
      if (!q)
        throw badRequest(
          'unknown_queue',
          `No queue serves profile '${wanted}'.`
        );
      queue = q.name;
    }
    // A re-run keeps the job's priority unless it names one; either way within the caller's.
    const priority = body.priority ?? job.priority;
    this.checkPriorityAllowed(who, priority);
    this.checkQueuedLimit(who);
    this.options.backend.check?.(who.user, job.spec);
    // Read again as a submit reads it: jobs stored before normalisation get it now.
    const notebook = jobNotebook(
      this.store.getNotebook(id),
      this.config.limits.max_notebook_bytes
    );
    // A re-run by hand is the user's: not a step of the original's pipeline, not a schedule's firing.
    const { pipeline: _pipeline, ...spec } = job.spec;
    void _pipeline;
    delete spec.schedule_id;
    delete spec.scheduled_for;
    const newId = this.options.lifecycle.enqueue({
      owner: who.user,
      name: job.name,
      profile,
      queue,
      priority,
      spec,
      notebook
    });
    return this.options.queries.fresh(newId);
  }

  move(who: Identity, id: string, body: MoveBody): JobView {
    this.waiting(who, id, 'moved');
    // The contract took only a configured queue.
    const queue = this.config.queues.find(
      q => q.name === body.queue
    ) as Config['queues'][number];
    // The job takes the queue's profile; its place among jobs is kept.
    this.store.updateJob(id, { queue: queue.name, profile: queue.profile });
    return this.changed(id);
  }

  setPriority(who: Identity, id: string, body: PriorityBody): JobView {
    // A class the caller may never set is refused whatever the job's state.
    const { priority } = body;
    this.checkPriorityAllowed(who, priority);
    this.waiting(who, id, 'reprioritised');
    this.store.updateJob(id, { priority });
    return this.changed(id);
  }

  /**
   * Moves one of the owner's queued jobs among the owner's own jobs that compete with it (same
   * queue, priority and hold state; see queue/reorder.ts): the places they hold are dealt out
   * again in the new order, so nobody else's job moves.
   */
  reorder(who: Identity, id: string, target: ReorderBody): JobView {
    const job = this.waiting(who, id, 'reordered');
    if (job.owner !== who.user) {
      throw new ApiError(
        403,
        'forbidden',
        `Job '${id}' belongs to ${job.owner}; only its owner can reorder it.`
      );
    }
    const placed = (j: JobRecord): Placed => ({
      id: j.id,
      owner: j.owner,
      queue: j.queue,
      priorityRank: admissionRank(j, this.config.priorities),
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
      const before = 'before' in target ? target.before : undefined;
      const other = mine.find(j => j.id === before);
      throw new ApiError(
        409,
        'invalid_state',
        other && other.id !== id
          ? `'${other.id}' is not another of your queued jobs in queue '${job.queue}' that competes with '${id}': reorder moves a job only among your jobs of the same priority (${job.priority}) and hold state. Change the priority, or hold or release, first.`
          : `'${String(before)}' is not another of your queued jobs in queue '${job.queue}'.`
      );
    }
    for (const [jobId, key] of keys)
      this.store.updateJob(jobId, { position_key: key });
    this.options.publisher.queueChanged();
    return this.options.queries.fresh(id);
  }

  async log(who: Identity, id: string): Promise<string> {
    const job = this.options.queries.getRecord(who, id);
    const text = await this.options.backend.logs(job);
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

  /** The job, if it is waiting in a queue; 409 otherwise. */
  private waiting(who: Identity, id: string, what: string): JobRecord {
    const job = this.options.queries.getRecord(who, id);
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
    this.options.lifecycle.queuedJobChanged(id);
    return this.options.queries.fresh(id);
  }

  /** Classes above `high` (by default `urgent`) are the admins' own, on every route. */
  private checkPriorityAllowed(who: Identity, priority: string): void {
    const allowed = this.options.queries.allowedPriorities(who);
    if (!allowed.includes(priority)) {
      throw new ApiError(
        403,
        'forbidden',
        `Only admins may set priority '${priority}'; you may choose up to '${allowed[allowed.length - 1]}'.`
      );
    }
  }

  private checkQueuedLimit(who: Identity): void {
    const max = this.config.limits.max_queued_per_user;
    if (max === undefined) return;
    // Those waiting for their group's commit count too.
    const mine =
      this.options.queries.queuedBy(who.user) +
      this.options.lifecycle.pendingBy(who.user);
    if (mine >= max) {
      throw new ApiError(
        429,
        'over_limit',
        `You already have ${mine} jobs waiting, the most allowed per user (${max}). Cancel one or wait for some to start.`
      );
    }
  }
}
