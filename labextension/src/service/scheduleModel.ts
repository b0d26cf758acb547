/**
 * Shapes of the schedules and pipelines REST API, from the generated types
 * (`api` of @nbqueue/common, generated from the sidecar's contract: see
 * docs/architecture.md), under the names the extension uses.
 */
import { api } from '@nbqueue/common';
import type { IJobSubmit } from './model';

type Schemas = api.components['schemas'];
type operations = api.operations;

/** What a schedule does when its previous run has not ended at the next firing. */
export type ScheduleOverlap = Schemas['Schedule']['overlap'];

/** What a schedule does about firings missed while the sidecar was down. */
export type ScheduleMissed = Schemas['Schedule']['missed'];

export const OVERLAP_VALUES: readonly ScheduleOverlap[] =
  api.scheduleOverlapValues;

export const MISSED_VALUES: readonly ScheduleMissed[] =
  api.scheduleMissedValues;

/** One step of `POST /api/pipelines`: a job's body as this extension builds it, named. */
export type IPipelineStepSubmit = IJobSubmit &
  Pick<Schemas['PipelineSubmit']['steps'][number], 'name' | 'after'>;

/** `POST /api/pipelines`. */
export type IPipelineSubmit = Omit<Schemas['PipelineSubmit'], 'steps'> & {
  steps: IPipelineStepSubmit[];
};

type ScheduleBody =
  operations['createSchedule']['requestBody']['content']['application/json'];

/** `POST /api/schedules`: exactly one of `job` and `pipeline`. */
export type IScheduleSubmit = Omit<ScheduleBody, 'job' | 'pipeline'> & {
  job?: IJobSubmit;
  pipeline?: IPipelineSubmit;
};

export type ISchedule = Schemas['Schedule'];

/** `GET /api/schedules/preview`. */
export type ISchedulePreview =
  operations['previewSchedule']['responses'][200]['content']['application/json'];

export type IPipeline = Schemas['Pipeline'];

export type PipelineState = IPipeline['state'];

export type IPipelineStep = IPipeline['steps'][number];

export type PipelineStepState = IPipelineStep['state'];

/** `POST /api/schedules/{id}/run-now`. */
export type IRunNow =
  operations['runSchedule']['responses'][201]['content']['application/json'];
