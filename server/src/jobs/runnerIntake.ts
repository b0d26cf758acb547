import { hashToken, sameSecret } from '../auth/token';
import type { Config } from '../config/schema';
import type { EventsBody, FinishBody } from '../api/contract/runner';
import { ApiError } from '../errors';
import { fitEvent } from '../events/fit';
import { fault } from '../faults';
import type { Store } from '../store/store';
import { runnerEnvironment } from './environment';
import type { JobLifecycle } from './lifecycle';
import type { JobPublisher } from './publisher';
import type { JobQueries } from './queries';
import { FINAL_STATES, JobRecord } from './types';

export interface RunnerIntakeOptions {
  config: Config;
  store: Store;
  queries: JobQueries;
  publisher: JobPublisher;
  lifecycle: JobLifecycle;
}

/** The largest events POST body (the runner sends batches of at most 1 MB). */
export const EVENTS_BODY_BYTES = 1024 * 1024;
/** The largest single event: it must fit an events POST alone, with room for the envelope. */
export const MAX_EVENT_BYTES = EVENTS_BODY_BYTES - 16 * 1024;

/**
 * The runner's side of a job, behind its per-job token: it fetches what to run, streams events
 * back (stored, then fanned out) and reports the end with the executed notebook.
 */
export class RunnerIntake {
  constructor(private readonly options: RunnerIntakeOptions) {}

  private get store(): Store {
    return this.options.store;
  }

  /**
   * Checks a runner's per-job token; 401 for anything else. `draining`: the request stores a
   * checkpoint, which the runner of an attempt a restart took away may still do while its pod
   * terminates (its on_preempt callbacks), until the next attempt restores (`restoring`).
   */
  authenticate(
    id: string,
    token: string | undefined,
    draining = false
  ): JobRecord {
    const job = this.store.getJob(id);
    const given = token ? hashToken(token) : undefined;
    const valid = (hash: string | null) =>
      !!given && !!hash && sameSecret(given, hash);
    if (
      !job ||
      !(
        valid(this.store.getTokenHash(id)) ||
        (draining && valid(this.store.getDrainingTokenHash(id)))
      )
    ) {
      throw new ApiError(
        401,
        'unauthorized',
        'This job token is not valid for this job.'
      );
    }
    return job;
  }

  /**
   * The job's runner asks which checkpoint to restore: from now on its restarted attempt's
   * runner, if any, may store none (the one restored is the last it could add to).
   */
  restoring(job: JobRecord): void {
    this.store.endDraining(job.id);
  }

  /** What the runner needs to run the job. */
  fetch(job: JobRecord): Record<string, unknown> {
    const { config } = this.options;
    return {
      job: this.options.queries.view(job),
      notebook: this.store.getNotebook(job.id),
      parameters: job.spec.parameters,
      kernel: job.spec.kernel,
      environment: runnerEnvironment(config, job.spec.environment),
      cancel_grace_seconds: config.backend.local.cancel_grace_seconds,
      // The runner stops the job itself at its deadline, on every backend (Kubernetes also
      // has activeDeadlineSeconds as a backstop), so what ran until then is kept.
      deadline_seconds: job.spec.deadline_seconds ?? null,
      // One event must fit the events route (1 MB): a larger output goes live as its start
      // or a note, and whole in the executed notebook.
      max_event_bytes: MAX_EVENT_BYTES,
      // The runner checks its executed notebook against this before uploading it, so a result
      // over the limit ends the job with a reason instead of a refused upload being retried.
      max_result_bytes: config.limits.result_bytes,
      // The profile's idle GPU guard (config/idleGpu.ts): the runner's GPU samples decide.
      idle_gpu:
        config.profiles.find(p => p.name === job.profile)?.idle_gpu ?? null,
      // The seq of this attempt's first event: a restarted job's events number on from the
      // ones its earlier attempts left (and the `attempt` marker), never over them.
      first_seq: job.last_seq + 1
    };
  }

  /** A batch of events, each checked against the event schema by the contract. */
  ingestEvents(
    job: JobRecord,
    { events }: EventsBody
  ): { accepted: number; last_seq: number; cancel: boolean } {
    if (FINAL_STATES.has(job.state)) {
      // A late retry after the job ended: everything it carries is already stored or moot,
      // so the mark covers it (the runner sends nothing again).
      return {
        accepted: 0,
        last_seq: events.reduce((m, e) => Math.max(m, e.seq), job.last_seq),
        cancel: job.state === 'cancelled'
      };
    }
    // An event over the limit on one event is cut with a note, not refused (events/fit.ts).
    const fitted = events.map(e => fitEvent(e, MAX_EVENT_BYTES));
    const { limits } = this.options.config;
    const { before, after, inserted } = this.store.appendEvents(
      job.id,
      fitted,
      { events: limits.events_per_job, bytes: limits.event_bytes_per_job }
    );
    fault('events.stored');
    if (job.state === 'starting') {
      this.store.updateJob(job.id, { state: 'running' });
    }
    const fresh = this.store.getJob(job.id) as JobRecord;
    let moved = false;
    if (after > before) {
      const appended = this.store.listEvents(
        job.id,
        before,
        after - before,
        after
      );
      // A code cell started: the job's progress (its view) changed too.
      moved = this.options.queries.progress.observe(job.id, appended);
      this.options.publisher.eventsAppended(fresh, appended);
    }
    if (job.state === 'starting' || moved)
      this.options.publisher.jobChanged(job.id);
    return {
      accepted: inserted,
      last_seq: after,
      cancel: fresh.cancel_requested
    };
  }

  /** A result notebook was uploaded and moved into the job's area (server/src/results). */
  resultStored(jobId: string, bytes: number, sha256: string): void {
    this.store.results.set(jobId, bytes, sha256);
    fault('result.stored');
    this.options.publisher.jobChanged(jobId);
  }

  /**
   * The runner's end: its outcome, naming the result notebook it uploaded (PUT …/result), or,
   * from runners before that upload, the executed notebook itself.
   */
  finish(
    job: JobRecord,
    { state, reason, notebook, result }: FinishBody
  ): void {
    fault('finish.received');
    if (notebook) this.store.saveResult(job.id, notebook);
    fault('result.stored');
    if (FINAL_STATES.has(job.state)) return;
    // A cancel its owner did not ask for: Kubernetes stopped the pod (deleted, evicted,
    // preempted, past its deadline). The backend says why, and the job runs again or fails
    // (a restart lets this result go); the runner's word would end it as cancelled.
    if (
      state === 'cancelled' &&
      !job.cancel_requested &&
      this.options.config.backend.type === 'kubernetes'
    )
      return;
    const stored = result ? this.store.results.get(job.id) : undefined;
    if (result && stored?.sha256 !== result.sha256) {
      throw new ApiError(
        409,
        'result_missing',
        `The finish names a result notebook (${result.bytes} bytes, sha256 ${result.sha256.slice(0, 12)}…) that the sidecar does not have${stored ? ': a different one was uploaded' : ''}. Upload it with PUT /api/runner/jobs/${job.id}/result first, then finish with what that answered.`
      );
    }
    this.options.lifecycle.end(
      job.id,
      state,
      reason || (state === 'cancelled' ? 'Cancelled by the user.' : null)
    );
  }
}
