import { hashToken, newToken } from '../auth/token';
import type { Backend } from '../backends/backend';
import type { Config } from '../config/schema';
import { fault } from '../faults';
import type { Store } from '../store/store';
import type { JobLifecycle } from './lifecycle';
import type { JobPublisher } from './publisher';
import type { QueueView } from './queueView';
import { ACTIVE_STATES, JobRecord } from './types';

export interface SchedulingLoopOptions {
  config: Config;
  store: Store;
  backend: Backend;
  publisher: JobPublisher;
  lifecycle: JobLifecycle;
  /** The queue kept indexed in memory (jobs/queueView.ts): what the decision reads. */
  queue: QueueView;
  /** URL runners use to reach the sidecar. */
  sidecarUrl: () => string;
  now: () => Date;
}

/**
 * Admission: asks the pure scheduler which queued jobs start now and starts them on the
 * backend. It runs whenever the lifecycle says a queued job may start (a job queued where there
 * is room, a job ended, a queue changed, the cluster freed capacity), and once after a restart.
 */
export class SchedulingLoop {
  private scheduling = false;
  private scheduleAgain = false;

  constructor(private readonly options: SchedulingLoopOptions) {
    options.lifecycle.onMayAdmit(() => void this.schedule());
  }

  private get store(): Store {
    return this.options.store;
  }

  /**
   * Admits every queued job that fits now. Re-entrant calls coalesce into one more pass. A
   * pass does not wait for the backend's starts (a burst's API calls overlap, under the
   * backend's own limit, and the next pass need not wait for them); each job is claimed, and
   * counted by the backend, before the next decision. Resolves once its own starts are done.
   */
  async schedule(): Promise<void> {
    if (this.scheduling) {
      this.scheduleAgain = true;
      return;
    }
    this.scheduling = true;
    const starts: Array<Promise<void>> = [];
    try {
      do {
        this.scheduleAgain = false;
        const admitted = this.pass(starts);
        if (admitted) this.options.publisher.queueChanged();
      } while (this.scheduleAgain);
    } finally {
      this.scheduling = false;
    }
    await Promise.all(starts);
  }

  /** One decision; its starts go to `starts`. How many jobs it admitted. */
  private pass(starts: Array<Promise<void>>): number {
    const { backend } = this.options;
    const index = this.options.queue.queue;
    if (!index.size) return 0;
    const { pools, queues, runningByUser, maxRunningPerUser } =
      this.options.queue.capacity().state;
    // The decision of decideAdmissions, read from the index (queue/queueIndex.ts).
    const admit = index.decide({
      pools,
      queues,
      runningByUser,
      maxRunningPerUser
    });
    // Where each was decided: a job that leaves the queue meanwhile is not started elsewhere.
    const decided = new Map(admit.map(id => [id, index.get(id)?.pool]));
    for (const id of admit) {
      // A backend that knows the cluster's free capacity (Kubernetes) starts only what fits.
      const job = backend.fits ? this.store.getJob(id) : undefined;
      if (job && !backend.fits?.(job)) continue;
      const started = this.start(id, decided.get(id) as string);
      // One cancelled, held or moved since the decision stays as the user left it, and its
      // slot goes to the next decision.
      if (started) starts.push(started);
      else this.scheduleAgain = true;
    }
    return admit.length;
  }

  /**
   * Claims a job the scheduler admitted on `profile` and starts it on the backend; undefined
   * if it was no longer waiting there.
   */
  private start(id: string, profile: string): Promise<void> | undefined {
    const token = newToken();
    const now = this.options.now().toISOString();
    if (!this.store.claimForStart(id, profile, hashToken(token), now))
      return undefined;
    this.options.publisher.jobChanged(id);
    fault('admission.claimed');
    return this.submit(id, token);
  }

  private async submit(id: string, token: string): Promise<void> {
    try {
      await this.options.backend.submit({
        job: this.store.getJob(id) as JobRecord,
        token,
        sidecarUrl: this.options.sidecarUrl()
      });
    } catch (err) {
      this.options.lifecycle.end(id, 'failed', (err as Error).message);
    }
  }

  /**
   * After a restart: runners still alive are watched again; a job the previous sidecar stopped
   * while starting it, before any runner of it existed, goes back to its place in the queue
   * (same id); the others' jobs fail.
   */
  async readopt(): Promise<void> {
    const { backend, lifecycle, publisher } = this.options;
    for (const job of this.store.listJobs({ states: [...ACTIVE_STATES] })) {
      if (await backend.readopt(job)) continue;
      if (job.state === 'starting' && (await backend.neverStarted?.(job))) {
        // Nothing of it ran: its token (never used) goes, the next pass starts it anew.
        this.store.updateJob(job.id, {
          state: 'queued',
          started_at: null,
          token_hash: null,
          backend_ref: null
        });
        publisher.jobChanged(job.id);
        continue;
      }
      lifecycle.end(
        job.id,
        'failed',
        'The runner stopped while the sidecar was down, before reporting a result. Re-run the job.'
      );
    }
    await this.schedule();
  }
}
