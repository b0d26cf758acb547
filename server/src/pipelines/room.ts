/**
 * The pipeline room: starts a pipeline's steps as jobs (through the job commands, as the
 * pipeline's owner) once the steps they wait for have succeeded, and follows their jobs through
 * the job publisher. Everything it knows is in the store, so after a restart `resume()` picks
 * up pipelines whose step jobs ended, or whose next steps were not started, while it was down.
 */
import { randomBytes } from 'crypto';
import type { z } from 'zod/v4';
import type { Identity } from '../auth/auth';
import type { PipelineView, StepState } from '../api/contract/pipelines';
import { pipelineBodySchema } from '../api/contract/pipelines';
import type { Config } from '../config/schema';
import type { JobService } from '../jobs/service';
import { parse } from '../api/validate';
import { ApiError, notFound } from '../errors';
import type { JobCommands } from '../jobs/commands';
import type { JobPublisher } from '../jobs/publisher';
import type { JobRecord, JobState } from '../jobs/types';
import type { SchedulePipelines } from '../schedules/service';
import type { Store } from '../store/store';
import { descendants } from './definition';
import type { PipelineRecord, StepRecord } from './store';

type BodySchema = ReturnType<typeof pipelineBodySchema>;

export interface PipelineRoomOptions {
  store: Store;
  commands: JobCommands;
  publisher: JobPublisher;
  /** The contract's body schema (POST /api/pipelines), for startPipeline's unknown bodies. */
  body: BodySchema;
  now?: () => Date;
}

const ACTIVE_STEP: ReadonlySet<StepState> = new Set([
  'queued',
  'starting',
  'running'
]);
const ENDED_JOB: ReadonlySet<JobState> = new Set([
  'succeeded',
  'failed',
  'cancelled'
]);

export class PipelineRoom {
  private readonly stopListening: () => void;

  constructor(private readonly options: PipelineRoomOptions) {
    // Job changes are handled after the change that caused them has returned: a step's end
    // submits the next steps, which must not happen inside the lifecycle call that ended it.
    this.stopListening = options.publisher.subscribe({
      jobChanged: job => {
        if (job.pipeline_id) setImmediate(() => this.jobChanged(job.id));
      },
      eventsAppended: () => undefined
    });
  }

  /** The room for these job rooms, parsing bodies with this configuration's contract. */
  static forJobs(config: Config, store: Store, jobs: JobService): PipelineRoom {
    return new PipelineRoom({
      store,
      commands: jobs.commands,
      publisher: jobs.publisher,
      body: pipelineBodySchema(config)
    });
  }

  private get store() {
    return this.options.store.pipelines;
  }

  stop(): void {
    this.stopListening();
  }

  /** What schedules need of pipelines (schedules/service.ts): bodies the contract parsed. */
  forSchedules(): SchedulePipelines {
    return {
      start: (who, body, origin) => this.start(who, body, origin.schedule_id),
      isActive: id => this.store.get(id)?.state === 'running',
      cancel: (who, id) => this.cancel(who, id)
    };
  }

  /** POST /api/pipelines: the body as a client sent it. */
  startPipeline(who: Identity, body: unknown): PipelineView {
    return this.start(who, parse(this.options.body, body));
  }

  /** A body the contract already parsed (the route). */
  start(
    who: Identity,
    body: z.output<BodySchema>,
    scheduleId: string | null = null
  ): PipelineView {
    const id = `p-${randomBytes(5).toString('hex')}`;
    this.store.insert(
      {
        id,
        owner: who.user,
        name: body.name,
        state: 'running',
        reason: null,
        attempt: 1,
        created_at: this.now(),
        finished_at: null,
        schedule_id: scheduleId
      },
      body.steps
    );
    this.advance(id);
    return this.view(id);
  }

  list(who: Identity, all: boolean): PipelineView[] {
    if (all && !who.admin)
      throw new ApiError(
        403,
        'forbidden',
        "Only admins may list everyone's pipelines (all=1)."
      );
    return this.store
      .list(all ? {} : { owner: who.user })
      .map(p => this.viewOf(p));
  }

  get(who: Identity, id: string): PipelineView {
    return this.viewOf(this.record(who, id));
  }

  /** Cancels the running steps' jobs; the steps not started are skipped. */
  async cancel(who: Identity, id: string): Promise<PipelineView> {
    const pipeline = this.record(who, id);
    if (pipeline.state !== 'running')
      throw new ApiError(
        409,
        'invalid_state',
        `Pipeline '${id}' already ended ${pipeline.state}; there is nothing to cancel.`
      );
    this.store.update(id, {
      state: 'cancelled',
      reason: `Cancelled by ${who.user}.`,
      finished_at: this.now()
    });
    const owner = { user: pipeline.owner, admin: who.admin };
    for (const step of this.store.steps(id)) {
      if (step.state === 'waiting')
        this.store.updateStep(id, step.idx, { state: 'skipped' });
      else if (ACTIVE_STEP.has(step.state) && step.job_id)
        await this.options.commands.cancel(owner, step.job_id).catch(err => {
          // Ended meanwhile: its end is handled as any other.
          if (!(err instanceof ApiError && err.status === 409)) throw err;
        });
    }
    return this.publish(id);
  }

  /** A failed or cancelled pipeline again, from the steps that did not succeed. */
  rerun(who: Identity, id: string): PipelineView {
    const pipeline = this.record(who, id);
    const steps = this.store.steps(id);
    const busy = steps.find(s => ACTIVE_STEP.has(s.state));
    if (pipeline.state === 'running' || pipeline.state === 'succeeded' || busy)
      throw new ApiError(
        409,
        'invalid_state',
        pipeline.state === 'succeeded'
          ? `Pipeline '${id}' succeeded; there is nothing to re-run.`
          : `Pipeline '${id}' is still running${busy ? ` (step '${busy.name}' is ${busy.state})` : ''}; re-run it once it has ended.`
      );
    for (const step of steps)
      if (step.state !== 'succeeded')
        this.store.updateStep(id, step.idx, {
          state: 'waiting',
          job_id: null,
          outputs: {}
        });
    this.store.update(id, {
      state: 'running',
      reason: null,
      finished_at: null,
      attempt: pipeline.attempt + 1
    });
    this.advance(id);
    return this.view(id);
  }

  /**
   * After a restart: every running pipeline is brought up to date with its step jobs (ended
   * while the sidecar was down, or never submitted because it stopped in between).
   */
  resume(): void {
    for (const pipeline of this.store.list({ state: 'running' }))
      for (const step of this.store.steps(pipeline.id))
        if (step.job_id) this.jobChanged(step.job_id);
    for (const pipeline of this.store.list({ state: 'running' }))
      this.advance(pipeline.id);
  }

  /** A step's job changed: the step follows it; an end may start, skip or finish others. */
  private jobChanged(jobId: string): void {
    if (!this.options.store.isOpen()) return;
    const step = this.store.stepOfJob(jobId);
    const job = this.options.store.getJob(jobId);
    if (!step || !job) return;
    if (!ACTIVE_STEP.has(step.state)) return; // already handled (or cancelled with the pipeline)
    const id = step.pipeline_id;
    if (!ENDED_JOB.has(job.state)) {
      if (job.state !== step.state) {
        this.store.updateStep(id, step.idx, { state: job.state as StepState });
        this.publish(id);
      }
      return;
    }
    this.stepEnded(step, job);
  }

  private stepEnded(step: StepRecord, job: JobRecord): void {
    const id = step.pipeline_id;
    if (job.state === 'succeeded') {
      this.store.updateStep(id, step.idx, {
        state: 'succeeded',
        outputs: this.store.jobOutputs(job.id)
      });
    } else {
      this.store.updateStep(id, step.idx, {
        state: job.state as StepState
      });
      const pipeline = this.store.get(id) as PipelineRecord;
      // A step cancelled with its pipeline leaves the pipeline as the cancel left it.
      if (pipeline.state === 'running') {
        const steps = this.store.steps(id);
        const skipped = descendants(steps, step.name);
        for (const s of steps)
          if (skipped.has(s.name) && s.state === 'waiting')
            this.store.updateStep(id, s.idx, { state: 'skipped' });
        if (!pipeline.reason)
          this.store.update(id, {
            reason:
              job.state === 'cancelled'
                ? `step '${step.name}' was cancelled: ${job.reason ?? 'no reason given'}`
                : `step '${step.name}' failed: ${job.reason ?? 'no reason given'}`
          });
      }
    }
    this.advance(id);
  }

  /** Submits every waiting step whose steps all succeeded; ends the pipeline when all are done. */
  private advance(id: string): void {
    const pipeline = this.store.get(id);
    if (!pipeline || pipeline.state !== 'running') {
      if (pipeline) this.publish(id);
      return;
    }
    const steps = this.store.steps(id);
    const byName = new Map(steps.map(s => [s.name, s]));
    for (const step of steps) {
      if (step.state !== 'waiting') continue;
      const waitsFor = step.after.map(n => byName.get(n) as StepRecord);
      if (!waitsFor.every(s => s.state === 'succeeded')) continue;
      this.submitStep(pipeline, step, waitsFor);
      byName.set(step.name, this.store.steps(id)[step.idx]);
    }
    const now = this.store.steps(id);
    if (now.some(s => ACTIVE_STEP.has(s.state))) return void this.publish(id);
    // Nothing runs; a waiting step left waits for one that will not succeed.
    for (const s of now)
      if (s.state === 'waiting')
        this.store.updateStep(id, s.idx, { state: 'skipped' });
    const fresh = this.store.get(id) as PipelineRecord;
    const failed = now.some(s => s.state !== 'succeeded');
    this.store.update(id, {
      state: failed ? 'failed' : 'succeeded',
      reason: failed ? (fresh.reason ?? 'a step did not succeed') : null,
      finished_at: this.now()
    });
    this.publish(id);
  }

  /** The step's job, queued as the owner; a refusal fails the step with its sentence. */
  private submitStep(
    pipeline: PipelineRecord,
    step: StepRecord,
    waitsFor: StepRecord[]
  ): void {
    const base = this.store.submission(pipeline.id, step.idx);
    const parameters = { ...base.spec.parameters };
    for (const s of waitsFor) Object.assign(parameters, s.outputs);
    const submission = {
      ...base,
      name: `${pipeline.name}: ${step.name}`,
      spec: {
        ...base.spec,
        parameters,
        pipeline: { id: pipeline.id, step: step.name }
      }
    };
    try {
      const job = this.options.commands.submit(
        { user: pipeline.owner, admin: false },
        submission
      );
      this.store.updateStep(pipeline.id, step.idx, {
        state: 'queued',
        job_id: job.id
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.store.updateStep(pipeline.id, step.idx, { state: 'failed' });
      const steps = this.store.steps(pipeline.id);
      for (const s of steps)
        if (descendants(steps, step.name).has(s.name))
          this.store.updateStep(pipeline.id, s.idx, { state: 'skipped' });
      if (!this.store.get(pipeline.id)?.reason)
        this.store.update(pipeline.id, {
          reason: `step '${step.name}' failed: its job was refused: ${err.message}`
        });
    }
  }

  private record(who: Identity, id: string): PipelineRecord {
    const pipeline = this.store.get(id);
    // Someone else's pipeline does not exist, as for jobs.
    if (!pipeline || (pipeline.owner !== who.user && !who.admin))
      throw notFound('unknown_pipeline', `Pipeline '${id}' does not exist.`);
    return pipeline;
  }

  private publish(id: string): PipelineView {
    const view = this.view(id);
    this.options.publisher.pipelineChanged(view);
    return view;
  }

  private view(id: string): PipelineView {
    return this.viewOf(this.store.get(id) as PipelineRecord);
  }

  private viewOf(p: PipelineRecord): PipelineView {
    return {
      ...p,
      steps: this.store.steps(p.id).map(s => ({
        name: s.name,
        after: s.after,
        profile: s.profile,
        state: s.state,
        job_id: s.job_id,
        outputs: s.outputs
      }))
    };
  }

  private now(): string {
    return (this.options.now ?? (() => new Date()))().toISOString();
  }
}
