/**
 * The schedules resource: a job (or a pipeline) submitted by cron in a time zone, as its owner
 * (docs/schedules.md).
 */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import { checkTimezone, parseCron } from '../../schedules/cron';
import { checked, documented, operation, refuse } from './operation';
import { jobSchema } from './schemas';
import { submitSchema } from './submit';
import type { pipelineOperations } from './pipelines';

const time = z.string().meta({ format: 'date-time' });

export const OVERLAPS = ['skip', 'queue', 'cancel_previous'] as const;
export const MISSED = ['skip', 'run_once'] as const;

const ScheduleId = z.object({ id: z.string().min(1) });

// "" means absent (UTC), as blank fields of a submit do.
const timezone = documented(
  z
    .string(refuse('invalid_timezone', '"timezone" must be a string.'))
    .transform(checked(v => (v === '' ? 'UTC' : checkTimezone(v as string))))
    .describe(
      'IANA time zone, e.g. Europe/Berlin; "" or absent: UTC (400 invalid_timezone otherwise)'
    ),
  { extra: { examples: ['UTC', 'Europe/Berlin'] } }
);

// The pattern says the shape; what else a cron must be (values within each field, ranges in
// order, a date that exists) is checked in code (400 invalid_cron, schedules/cron.ts).
const cron = documented(
  z
    .string(refuse('invalid_cron', '"cron" must be a string.'))
    .describe(
      '5 fields: minute hour day-of-month month day-of-week (no seconds), read in `timezone`'
    ),
  {
    extra: {
      pattern: String.raw`^\s*[0-9A-Za-z*,/-]+(\s+[0-9A-Za-z*,/-]+){4}\s*$`,
      examples: ['0 3 * * *', '*/15 * * * *', '30 8 * * 1-5']
    }
  }
);

/** The `all` flag of the list: admins see everyone's. */
const all = z
  .enum(
    ['1', 'true', '0', 'false'],
    refuse('invalid_request', '"all" must be 1, true, 0 or false.')
  )
  .optional()
  .describe("1: everyone's schedules (admins; 403 for others)")
  .transform(v => v === '1' || v === 'true');

export const Schedule = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  cron: z.string(),
  timezone: z.string(),
  overlap: z.enum(OVERLAPS),
  missed: z.enum(MISSED),
  end_at: time.nullable(),
  paused: z.boolean(),
  kind: z.enum(['job', 'pipeline']),
  profile: z
    .string()
    .nullable()
    .describe("The job's profile; null for a pipeline"),
  description: z
    .string()
    .describe('In words: "every day at 03:00 Europe/Berlin"'),
  next_run_at: time.nullable().describe('null when paused or ended'),
  last_run_at: time.nullable().describe('The latest firing time passed'),
  last_job_id: z.string().nullable(),
  last_pipeline_id: z.string().nullable(),
  last_outcome: z
    .string()
    .nullable()
    .describe(
      'What the latest firing did, when it submitted nothing: skipped (overlap, missed) or refused'
    ),
  created_at: time
});

export function scheduleOperations(
  config: Config,
  now: (() => Date) | undefined,
  pipelines: ReturnType<typeof pipelineOperations>
) {
  const Job = jobSchema(config.priorities);
  const { Pipeline } = pipelines;
  const body = documented(
    z
      .object(
        {
          name: z
            .string(refuse('invalid_request', '"name" must be a string.'))
            .max(
              200,
              refuse(
                'invalid_request',
                'The schedule name is longer than 200 characters.'
              )
            )
            .optional(),
          cron,
          timezone: timezone.optional(),
          overlap: z
            .enum(
              OVERLAPS,
              refuse(
                'invalid_request',
                `"overlap" must be one of ${OVERLAPS.join(', ')}.`
              )
            )
            .optional()
            .describe(
              'When the previous job is still queued or running: skip (default), queue, cancel_previous'
            ),
          missed: z
            .enum(
              MISSED,
              refuse(
                'invalid_request',
                `"missed" must be one of ${MISSED.join(', ')}.`
              )
            )
            .optional()
            .describe(
              'Firing times passed while the sidecar was down: skip (default) or run_once'
            ),
          end_at: z.iso
            .datetime({
              offset: true,
              ...refuse(
                'invalid_request',
                '"end_at" must be an ISO 8601 date-time, e.g. 2027-01-01T00:00:00Z.'
              )
            })
            .nullish()
            .describe('No firing after this time'),
          paused: z
            .boolean(
              refuse('invalid_request', '"paused" must be true or false.')
            )
            .optional(),
          job: submitSchema(config, now)
            .optional()
            .describe('What each firing submits: the body of POST /api/jobs'),
          pipeline: pipelines.submitPipeline.body
            .optional()
            .describe(
              'What each firing starts: the body of POST /api/pipelines'
            )
        },
        refuse('invalid_request', 'The request body must be a JSON object.')
      )
      .refine(
        b => (b.job === undefined) !== (b.pipeline === undefined),
        refuse('invalid_request', 'Give exactly one of "job" and "pipeline".')
      )
      .superRefine((b, ctx) => {
        // The cron is read in the schedule's zone (checked above), so it is checked here.
        checked(() => parseCron(b.cron, b.timezone ?? 'UTC'))(b.cron, ctx);
      }),
    {
      extra: {
        required: ['cron'],
        oneOf: [{ required: ['job'] }, { required: ['pipeline'] }]
      }
    }
  );

  return {
    Schedule,
    listSchedules: operation({
      method: 'get',
      path: '/api/schedules',
      operationId: 'listSchedules',
      summary: "The caller's schedules (everyone's with all=1, admins)",
      query: z.object({ all }),
      ok: { 200: { schema: z.object({ schedules: z.array(Schedule) }) } },
      errors: [400, 401, 403]
    }),
    createSchedule: operation({
      method: 'post',
      path: '/api/schedules',
      operationId: 'createSchedule',
      summary: 'Schedule a job or a pipeline by cron',
      description:
        '400: invalid_cron (the field and what is wrong), invalid_timezone, invalid_request (exactly one of job and pipeline), and those of POST /api/jobs for `job` and of POST /api/pipelines for `pipeline`.',
      body,
      ok: { 201: { schema: Schedule, description: 'Created' } },
      errors: [400, 401, 403, 413, 415]
    }),
    previewSchedule: operation({
      method: 'get',
      path: '/api/schedules/preview',
      operationId: 'previewSchedule',
      summary: 'A cron in words and its next five firing times',
      query: z.object({
        cron,
        timezone: timezone.optional()
      }),
      ok: {
        200: {
          schema: z.object({
            description: z.string(),
            next: z.array(time)
          })
        }
      },
      errors: [400, 401]
    }),
    getSchedule: operation({
      method: 'get',
      path: '/api/schedules/{id}',
      operationId: 'getSchedule',
      summary: 'One schedule',
      params: ScheduleId,
      ok: { 200: { schema: Schedule } },
      errors: [401, 404]
    }),
    deleteSchedule: operation({
      method: 'delete',
      path: '/api/schedules/{id}',
      operationId: 'deleteSchedule',
      summary: 'Delete a schedule (its jobs stay)',
      params: ScheduleId,
      ok: { 204: { description: 'Deleted' } },
      errors: [401, 404]
    }),
    pauseSchedule: operation({
      method: 'post',
      path: '/api/schedules/{id}/pause',
      operationId: 'pauseSchedule',
      summary: 'Pause: no firing until resumed',
      params: ScheduleId,
      ok: { 200: { schema: Schedule } },
      errors: [401, 404]
    }),
    resumeSchedule: operation({
      method: 'post',
      path: '/api/schedules/{id}/resume',
      operationId: 'resumeSchedule',
      summary:
        'Resume: fires from the next time after now (the paused ones are not made up)',
      params: ScheduleId,
      ok: { 200: { schema: Schedule } },
      errors: [401, 404]
    }),
    runSchedule: operation({
      method: 'post',
      path: '/api/schedules/{id}/run-now',
      operationId: 'runSchedule',
      summary: 'Submit its job (or start its pipeline) now, as its owner',
      params: ScheduleId,
      ok: {
        201: {
          schema: z.object({
            job: Job.optional(),
            pipeline: Pipeline.optional()
          })
        }
      },
      errors: [400, 401, 403, 404, 409, 413, 429]
    })
  };
}

type ScheduleOperations = ReturnType<typeof scheduleOperations>;
/** POST /api/schedules as the contract parsed it. */
export type ScheduleBody = z.output<
  ScheduleOperations['createSchedule']['body']
>;
export type ScheduleView = z.output<typeof Schedule>;
