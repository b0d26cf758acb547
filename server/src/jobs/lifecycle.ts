import { randomBytes } from 'crypto';
import type { Config } from '../config/schema';
import type { Store } from '../store/store';
import type { JobPublisher } from './publisher';
import { ACTIVE_STATES, JobRecord, JobState, Notebook } from './types';

export interface JobLifecycleOptions {
  config: Config;
  store: Store;
  publisher: JobPublisher;
  now: () => Date;
  /** Told each job that ended (the ETA's history, the progress kept per running job). */
  ended?: (job: JobRecord) => void;
}

/** What a new queued job is made of (a submit, a re-run, a schedule or pipeline step). */
export interface NewJob {
  owner: string;
  name: string;
  profile: string;
  queue: string;
  priority: string;
  spec: JobRecord['spec'];
  notebook: Notebook;
}

/**
 * The changes of a job's state that several rooms make (a job is queued, a queued job changes,
 * a job ends): each is stored, published, and tells whoever admits jobs (the scheduling loop
 * subscribes) when a queued job may now start.
 */
export class JobLifecycle {
  private readonly admitListeners = new Set<() => void>();

  constructor(private readonly options: JobLifecycleOptions) {}

  /** Calls `listener` whenever a queued job may now start; the function returned stops it. */
  onMayAdmit(listener: () => void): () => void {
    this.admitListeners.add(listener);
    return () => this.admitListeners.delete(listener);
  }

  /** Room may have opened (a job ended, a queue changed, the cluster freed capacity). */
  mayAdmit(): void {
    for (const listener of this.admitListeners) listener();
  }

  /** Stores a new queued job at the back of the queue; its id. */
  enqueue(fields: NewJob): string {
    const job = this.newJob(fields, this.options.store.nextPositionKey());
    this.options.store.insertJob(job, fields.notebook);
    this.queued([fields.profile]);
    return job.id;
  }

  /**
   * Like enqueue, with group commit: the jobs that arrive in the same turn of the event loop are
   * stored in one transaction, after the turn. Resolves with the stored job once it is committed
   * (never before); rejects, for every job of the group, if the transaction fails.
   */
  enqueueGrouped(fields: NewJob): Promise<JobRecord> {
    return new Promise((resolve, reject) => {
      this.pending.push({ fields, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.commitPending());
    });
  }

  /** Jobs of `owner` waiting for their group's commit (counted against the queued limit). */
  pendingBy(owner: string): number {
    let n = 0;
    for (const p of this.pending) if (p.fields.owner === owner) n += 1;
    return n;
  }

  private pending: Array<{
    fields: NewJob;
    resolve: (job: JobRecord) => void;
    reject: (err: Error) => void;
  }> = [];

  private commitPending(): void {
    const group = this.pending;
    this.pending = [];
    const { store } = this.options;
    let stored: JobRecord[];
    try {
      let key = store.nextPositionKey();
      const jobs = group.map(p => ({
        job: this.newJob(p.fields, key++),
        notebook: p.fields.notebook
      }));
      store.insertJobs(jobs);
      stored = jobs.map(j => j.job);
    } catch (err) {
      for (const p of group) p.reject(err as Error);
      return;
    }
    this.queued(group.map(p => p.fields.profile));
    group.forEach((p, i) => p.resolve(stored[i]));
  }

  /** New queued jobs were stored on `profiles`. */
  private queued(profiles: string[]): void {
    this.options.publisher.queueChanged();
    // Every other queued job was already refused by the last pass, and a new queued job does
    // not change their chances: only the new ones can start, and only if their pool has room.
    if ([...new Set(profiles)].some(p => this.poolHasRoom(p))) this.mayAdmit();
  }

  private newJob(fields: NewJob, positionKey: number): JobRecord {
    return {
      id: `j-${randomBytes(5).toString('hex')}`,
      owner: fields.owner,
      name: fields.name,
      profile: fields.profile,
      queue: fields.queue,
      priority: fields.priority,
      state: 'queued',
      reason: null,
      created_at: this.now(),
      started_at: null,
      finished_at: null,
      position_key: positionKey,
      spec: fields.spec,
      cancel_requested: false,
      held: false,
      backend_ref: null,
      last_seq: 0,
      attempt: 1,
      restarts: [],
      has_result: false
    };
  }

  /** A queued job was held, released, moved or reprioritised. */
  queuedJobChanged(id: string): void {
    this.options.publisher.jobChanged(id);
    this.options.publisher.queueChanged();
    this.mayAdmit();
  }

  /** The job ends in `state`. */
  end(id: string, state: JobState, reason: string | null): void {
    // The job token ends with the job: a leaked one cannot replace its result or files later.
    this.options.store.updateJob(id, {
      state,
      reason,
      finished_at: this.now(),
      token_hash: null,
      draining_token_hash: null
    });
    const ended = this.options.store.getJob(id);
    if (ended) this.options.ended?.(ended);
    this.options.publisher.jobChanged(id);
    this.options.publisher.queueChanged();
    this.mayAdmit();
  }

  private poolHasRoom(profile: string): boolean {
    const capacity = this.options.config.profiles.find(
      p => p.name === profile
    )?.capacity;
    return (
      capacity === undefined ||
      this.options.store.countJobs([...ACTIVE_STATES], profile) < capacity
    );
  }

  private now(): string {
    return this.options.now().toISOString();
  }
}
