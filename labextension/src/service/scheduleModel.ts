/**
 * Shapes of the schedules and pipelines REST API (issue 15's contract).
 *
 * To be replaced by the generated types (common/src/api.ts) at the merge:
 * written by hand here because the server side was built in parallel. Each
 * type is named as the rest of the extension will use it, so that the swap
 * touches this file only (`Schemas['Schedule']`, `Schemas['Pipeline']`, …).
 */
import type { IJob, IJobSubmit, ParameterValue } from './model';

/** What a schedule does when its previous run has not ended at the next firing. */
export type ScheduleOverlap = 'skip' | 'queue' | 'cancel_previous';

/** What a schedule does about firings missed while the sidecar was down. */
export type ScheduleMissed = 'skip' | 'run_once';

export const OVERLAP_VALUES: readonly ScheduleOverlap[] = [
  'skip',
  'queue',
  'cancel_previous'
];

export const MISSED_VALUES: readonly ScheduleMissed[] = ['skip', 'run_once'];

/** One step of `POST /api/pipelines`. */
export interface IPipelineStepSubmit {
  name: string;
  notebook: IJobSubmit['notebook'];
  notebook_path?: string;
  profile: string;
  queue?: string;
  priority?: string;
  parameters?: Record<string, ParameterValue>;
  environment?: IJobSubmit['environment'];
  /** Steps it waits for; absent: the previous step; []: none. */
  after?: string[];
}

/** `POST /api/pipelines`. */
export interface IPipelineSubmit {
  name?: string;
  steps: IPipelineStepSubmit[];
}

/** `POST /api/schedules`: exactly one of `job` and `pipeline`. */
export interface IScheduleSubmit {
  name?: string;
  cron: string;
  timezone?: string;
  overlap?: ScheduleOverlap;
  missed?: ScheduleMissed;
  end_at?: string | null;
  paused?: boolean;
  job?: IJobSubmit;
  pipeline?: IPipelineSubmit;
}

export interface ISchedule {
  id: string;
  name: string;
  owner: string;
  cron: string;
  timezone: string;
  overlap: ScheduleOverlap;
  missed: ScheduleMissed;
  end_at: string | null;
  paused: boolean;
  kind: 'job' | 'pipeline';
  /** The job's profile; null for a pipeline. */
  profile: string | null;
  /** For a person: "every day at 03:00 Europe/Berlin". */
  description: string;
  next_run_at: string | null;
  last_run_at: string | null;
  last_job_id: string | null;
  last_pipeline_id: string | null;
  created_at: string;
}

/** `GET /api/schedules/preview`. */
export interface ISchedulePreview {
  description: string;
  /** The next five firings. */
  next: string[];
}

export type PipelineState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export type PipelineStepState =
  | 'waiting'
  | 'queued'
  | 'starting'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'skipped';

export interface IPipelineStep {
  name: string;
  after: string[];
  profile: string;
  state: PipelineStepState;
  job_id: string | null;
  outputs: Record<string, ParameterValue>;
}

export interface IPipeline {
  id: string;
  name: string;
  owner: string;
  state: PipelineState;
  reason: string | null;
  attempt: number;
  created_at: string;
  finished_at: string | null;
  schedule_id: string | null;
  steps: IPipelineStep[];
}

/** `POST /api/schedules/{id}/run-now`. */
export interface IRunNow {
  job?: IJob;
  pipeline?: IPipeline;
}

/** The fields jobs gain with schedules and pipelines (all null for others). */
export interface IJobOrigin {
  schedule_id?: string | null;
  scheduled_for?: string | null;
  pipeline_id?: string | null;
  pipeline_step?: string | null;
}
