/**
 * What users ask of schedules (create, list, pause, resume, delete, run now) and the one way a
 * schedule submits: as its owner, through the job rooms exactly as POST /api/jobs does.
 */
import { randomBytes } from 'crypto';
import type { Identity } from '../auth/auth';
import type { Backend } from '../backends/backend';
import { ApiError, badRequest, notFound } from '../errors';
import type { z } from 'zod/v4';
import type {
  pipelineBodySchema,
  PipelineView
} from '../api/contract/pipelines';
import type { Submission } from '../api/contract/submit';
import type { ScheduleBody, ScheduleView } from '../api/contract/schedules';
import type { JobCommands } from '../jobs/commands';
import type { JobQueries } from '../jobs/queries';
import type { JobView } from '../jobs/types';
import type { Store } from '../store/store';
import { describeCron, nextRun, nextRuns, parseCron } from './cron';
import type { ScheduleRecord } from './table';
import { fillTemplates } from './templates';

/** A pipeline body as the contract parsed it (POST /api/pipelines), stored with its schedule. */
export type ScheduledPipeline = z.output<ReturnType<typeof pipelineBodySchema>>;

/**
 * The pipelines room as schedules need it (PipelineRoom.forSchedules): start one as `who`, tell
 * whether one is still going, cancel one.
 */
export interface SchedulePipelines {
  start(
    who: Identity,
    body: ScheduledPipeline,
    origin: { schedule_id: string; scheduled_for: string }
  ): PipelineView;
  isActive(id: string): boolean;
  cancel(who: Identity, id: string): Promise<unknown> | unknown;
}

export interface ScheduleServiceOptions {
  store: Store;
  jobs: { commands: JobCommands; queries: JobQueries; backend?: Backend };
  pipelines: SchedulePipelines;
  now?: () => Date;
  /** Told when a schedule's next firing may have changed (the loop re-arms its timer). */
  changed?: () => void;
}

export interface Fired {
  job?: JobView;
  pipeline?: PipelineView;
}

/** A schedule fires as its owner, never with an admin's rights. */
export const ownerOf = (s: ScheduleRecord): Identity => ({
  user: s.owner,
  admin: false
});

const ACTIVE_JOB = new Set(['queued', 'starting', 'running']);

export class ScheduleService {
  private readonly now: () => Date;
  changed: () => void;

  constructor(private readonly options: ScheduleServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.changed = options.changed ?? (() => undefined);
  }

  private get table() {
    return this.options.store.schedules;
  }

  /** The first firing after `after` that is not past end_at; null if none. */
  nextAfter(
    s: Pick<ScheduleRecord, 'cron' | 'timezone' | 'end_at'>,
    after: Date
  ): string | null {
    const next = nextRun(parseCron(s.cron, s.timezone), after);
    if (!next) return null;
    if (s.end_at && next.getTime() > Date.parse(s.end_at)) return null;
    return next.toISOString();
  }

  create(who: Identity, body: ScheduleBody): ScheduleView {
    const kind = body.job ? 'job' : 'pipeline';
    const timezone = body.timezone ?? 'UTC';
    const job = body.job as Submission | undefined;
    if (job) this.checkJob(who, job);
    const base = job?.spec.notebook_path?.split('/').pop();
    const pipelineName = body.pipeline?.name;
    const end_at = body.end_at ? new Date(body.end_at).toISOString() : null;
    const paused = body.paused ?? false;
    const record: ScheduleRecord = {
      id: `s-${randomBytes(5).toString('hex')}`,
      owner: who.user,
      name:
        body.name ??
        (job
          ? base || job.name
          : typeof pipelineName === 'string'
            ? pipelineName
            : 'pipeline'),
      cron: body.cron.trim().split(/\s+/).join(' '),
      timezone,
      overlap: body.overlap ?? 'skip',
      missed: body.missed ?? 'skip',
      end_at,
      paused,
      kind,
      profile: job?.profile ?? null,
      body: (job ?? body.pipeline) as unknown as Record<string, unknown>,
      next_run_at: null,
      last_run_at: null,
      last_job_id: null,
      last_pipeline_id: null,
      last_outcome: null,
      created_at: this.now().toISOString()
    };
    if (!paused) record.next_run_at = this.nextAfter(record, this.now());
    this.table.insert(record);
    this.changed();
    return this.view(record);
  }

  /**
   * What a firing's submit would refuse for reasons that do not change between firings, refused
   * now: the job runs with its owner's rights (never an admin's), from its own working folder.
   */
  private checkJob(who: Identity, job: Submission): void {
    const owner = { user: who.user, admin: false };
    const allowed = this.options.jobs.queries.allowedPriorities(owner);
    if (!allowed.includes(job.priority))
      throw new ApiError(
        403,
        'forbidden',
        `A schedule submits with its owner's rights: priority '${job.priority}' is not allowed; choose up to '${allowed[allowed.length - 1]}'.`
      );
    if (job.spec.input_bundle)
      throw badRequest(
        'invalid_request',
        '"job.input_bundle": a schedule cannot carry an uploaded bundle (it is used by one job); schedule a notebook whose files are where it runs (cwd).'
      );
    this.options.jobs.backend?.check?.(who.user, job.spec);
  }

  list(who: Identity, all: boolean): ScheduleView[] {
    if (all && !who.admin)
      throw new ApiError(
        403,
        'forbidden',
        "Only admins may list everyone's schedules; leave out all=1 to see your own."
      );
    return this.table.list(all ? undefined : who.user).map(s => this.view(s));
  }

  /** The schedule, if `who` owns it or is an admin; 404 otherwise (others' are not told apart). */
  record(who: Identity, id: string): ScheduleRecord {
    const s = this.table.get(id);
    if (!s || (s.owner !== who.user && !who.admin))
      throw notFound('unknown_schedule', `No schedule '${id}'.`);
    return s;
  }

  get(who: Identity, id: string): ScheduleView {
    return this.view(this.record(who, id));
  }

  pause(who: Identity, id: string): ScheduleView {
    const s = this.record(who, id);
    this.table.update(id, { paused: true, next_run_at: null });
    this.changed();
    return this.view(this.table.get(s.id) as ScheduleRecord);
  }

  /** Fires from the next time after now: the firings passed while paused are not made up. */
  resume(who: Identity, id: string): ScheduleView {
    const s = this.record(who, id);
    this.table.update(id, {
      paused: false,
      next_run_at: this.nextAfter(s, this.now())
    });
    this.changed();
    return this.view(this.table.get(s.id) as ScheduleRecord);
  }

  delete(who: Identity, id: string): void {
    this.record(who, id);
    this.table.delete(id);
    this.changed();
  }

  /** Submits now, as the owner, whatever the overlap; the next firing stays as it was. */
  runNow(who: Identity, id: string): Fired {
    return this.submit(this.record(who, id), this.now());
  }

  preview(
    cron: string,
    timezone: string
  ): { description: string; next: string[] } {
    const parsed = parseCron(cron, timezone);
    return {
      description: describeCron(cron, timezone),
      next: nextRuns(parsed, this.now(), 5).map(d => d.toISOString())
    };
  }

  /** Whether the schedule's latest job (or pipeline) is still queued, starting or running. */
  previousActive(s: ScheduleRecord): string | undefined {
    if (s.kind === 'job' && s.last_job_id) {
      const job = this.options.store.getJob(s.last_job_id);
      return job && ACTIVE_JOB.has(job.state)
        ? `job ${job.id} is still ${job.state}`
        : undefined;
    }
    if (s.kind === 'pipeline' && s.last_pipeline_id)
      return this.options.pipelines.isActive(s.last_pipeline_id)
        ? `pipeline ${s.last_pipeline_id} is still running`
        : undefined;
    return undefined;
  }

  /** Cancels the schedule's latest job (or pipeline) as its owner. */
  async cancelPrevious(s: ScheduleRecord): Promise<void> {
    if (s.kind === 'job' && s.last_job_id)
      await this.options.jobs.commands.cancel(ownerOf(s), s.last_job_id);
    else if (s.kind === 'pipeline' && s.last_pipeline_id)
      await this.options.pipelines.cancel(ownerOf(s), s.last_pipeline_id);
  }

  /**
   * Submits the schedule's job (or starts its pipeline) for the firing time `at`, as its owner,
   * and remembers it as the latest. Throws what POST /api/jobs would answer.
   */
  submit(s: ScheduleRecord, at: Date): Fired {
    const origin = { schedule_id: s.id, scheduled_for: at.toISOString() };
    if (s.kind === 'pipeline') {
      const stored = s.body as unknown as ScheduledPipeline;
      // The firing time goes into each step's parameters (never into its notebook).
      const body: ScheduledPipeline = {
        ...stored,
        steps: stored.steps.map(step => ({
          ...step,
          submission: {
            ...step.submission,
            spec: {
              ...step.submission.spec,
              parameters: fillTemplates(
                step.submission.spec.parameters,
                at,
                s.timezone
              ) as Record<string, unknown>
            }
          }
        }))
      };
      const pipeline = this.options.pipelines.start(ownerOf(s), body, origin);
      this.table.update(s.id, {
        last_pipeline_id: pipeline.id,
        last_outcome: null
      });
      return { pipeline };
    }
    const sub = s.body as unknown as Submission;
    const local = fillTemplates('{{ datetime }}', at, s.timezone) as string;
    const job = this.options.jobs.commands.submit(ownerOf(s), {
      ...sub,
      name: `${s.name} ${local.slice(0, 16).replace('T', ' ')}`,
      spec: {
        ...sub.spec,
        parameters: fillTemplates(
          sub.spec.parameters,
          at,
          s.timezone
        ) as Record<string, unknown>,
        ...origin
      }
    });
    this.table.update(s.id, { last_job_id: job.id, last_outcome: null });
    return { job };
  }

  view(s: ScheduleRecord): ScheduleView {
    return {
      id: s.id,
      name: s.name,
      owner: s.owner,
      cron: s.cron,
      timezone: s.timezone,
      overlap: s.overlap,
      missed: s.missed,
      end_at: s.end_at,
      paused: s.paused,
      kind: s.kind,
      profile: s.profile,
      description: describeCron(s.cron, s.timezone),
      next_run_at: s.next_run_at,
      last_run_at: s.last_run_at,
      last_job_id: s.last_job_id,
      last_pipeline_id: s.last_pipeline_id,
      last_outcome: s.last_outcome,
      created_at: s.created_at
    };
  }
}
