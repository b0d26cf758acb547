/** The jobs resource: submit, list, look at and act on jobs. */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import {
  coded,
  configured,
  count,
  documented,
  JobId,
  operation,
  refuse
} from './operation';
import {
  EventPage,
  jobSchema,
  METRIC_KINDS,
  MetricPage,
  Notebook
} from './schemas';
import { JOB_STATES, JobState } from './states';
import { submitSchema } from './submit';

/** `state=queued,running`: any of these states. */
const states = documented(
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const list = v.split(',');
      const bad = list.find(
        s => !(JOB_STATES as readonly string[]).includes(s)
      );
      if (bad === undefined) return list as JobState[];
      ctx.issues.push({
        code: 'custom',
        input: v,
        message: coded(
          'invalid_request',
          `Unknown state "${bad}"; use ${JOB_STATES.join(', ')}.`
        )
      });
      return z.NEVER;
    }),
  {
    replace: {
      type: 'array',
      items: { type: 'string', enum: [...JOB_STATES] },
      description: 'Comma-separated states'
    }
  }
);

/** `kind=user` or `kind=system` (empty: both). */
const kind = z
  .enum(
    [...METRIC_KINDS, ''],
    refuse('invalid_request', `"kind" must be ${METRIC_KINDS.join(' or ')}.`)
  )
  .optional()
  .transform(v => (v ? v : undefined));
documented(kind, {
  replace: { type: 'string', enum: [...METRIC_KINDS] }
});

const all = z
  .enum(
    ['1', 'true', '0', 'false'],
    refuse('invalid_request', '"all" must be 1, true, 0 or false.')
  )
  .optional()
  .describe("1: everyone's jobs (admins; 403 for others)")
  .transform(v => v === '1' || v === 'true');

/** What a client can do next with a job it was answered (the fuzzer's stateful phase too). */
export const JOB_LINKS = [
  'getJob',
  'cancelJob',
  'getJobEvents',
  'getJobMetrics',
  'getJobMetricsCsv',
  'holdJob',
  'releaseJob',
  'rerunJob',
  'moveJob',
  'setJobPriority',
  'reorderJob',
  'getJobLog',
  'getJobResult',
  'getJobFiles',
  'getJobOutputFiles'
];

export function jobOperations(config: Config, now?: () => Date) {
  const Job = jobSchema(config.priorities);
  const profiles = config.profiles.map(p => p.name) as [string, ...string[]];
  const queues = config.queues.map(q => q.name) as [string, ...string[]];
  const priority = configured(
    'priorities',
    config.priorities,
    refuse(
      'invalid_priority',
      value =>
        `Priority ${JSON.stringify(value)} is not valid; choose one of ${config.priorities.join(', ')}.`
    )
  );
  const control = (operationId: string, summary: string) =>
    operation({
      method: 'post',
      path: `/api/jobs/{id}/${operationId.replace(/Job$/, '')}`,
      operationId,
      summary,
      params: JobId,
      ok: { 200: { schema: Job } },
      errors: [400, 401, 403, 404, 409, 413]
    });
  const body = <S extends z.core.$ZodLooseShape>(shape: S) =>
    z.object(
      shape,
      refuse('invalid_request', 'The request body must be a JSON object.')
    );

  return {
    Job,
    JobPage: z.object({
      jobs: z.array(Job),
      next_cursor: z.int().nullable()
    }),
    listJobs: operation({
      method: 'get',
      path: '/api/jobs',
      operationId: 'listJobs',
      summary: "The caller's jobs, newest first",
      query: z.object({
        state: states,
        queue: z
          .string()
          .optional()
          .transform(v => v || undefined),
        all,
        limit: count('limit', 1000, 1000)
          .transform(n => Math.max(1, n))
          .describe('Page size: 1 to 1000 (the default); larger is 1000'),
        cursor: count('cursor', 0, Number.MAX_SAFE_INTEGER).describe(
          'next_cursor of the previous page'
        )
      }),
      ok: {
        200: {
          schema: z.object({
            jobs: z.array(Job),
            next_cursor: z.int().nullable()
          })
        }
      },
      errors: [400, 401, 403]
    }),
    submitJob: operation({
      method: 'post',
      path: '/api/jobs',
      operationId: 'submitJob',
      summary: 'Submit a notebook as a job',
      description:
        "400: invalid_notebook (the JSON path of the first problem and the fix), unsupported_kernel (not a Python notebook), invalid_request, unknown_profile, unknown_queue, invalid_priority, invalid_parameter, invalid_environment, unknown_bundle. 403: a priority above the caller's. 413 notebook_too_large: the request is over limits.max_request_bytes, or the notebook without its outputs over limits.max_notebook_bytes. 429 over_limit: limits.max_queued_per_user.",
      body: submitSchema(config, now),
      ok: { 201: { schema: Job, description: 'Queued', links: true } },
      errors: [400, 401, 403, 413, 415, 429]
    }),
    getJob: operation({
      method: 'get',
      path: '/api/jobs/{id}',
      operationId: 'getJob',
      summary: 'One job',
      params: JobId,
      ok: { 200: { schema: Job } },
      errors: [401, 404]
    }),
    cancelJob: control('cancelJob', 'Cancel a queued or running job'),
    getJobEvents: operation({
      method: 'get',
      path: '/api/jobs/{id}/events',
      operationId: 'getJobEvents',
      summary: 'Stored events after a sequence number',
      params: JobId,
      query: z.object({
        after: count('after', 0, Number.MAX_SAFE_INTEGER),
        limit: count('limit', 10000, 10000).describe(
          'At most 10000 (the default)'
        )
      }),
      ok: { 200: { schema: EventPage } },
      errors: [400, 401, 404]
    }),
    getJobMetrics: operation({
      method: 'get',
      path: '/api/jobs/{id}/metrics',
      operationId: 'getJobMetrics',
      summary: 'Metric points after a cursor (seq), in seq order',
      params: JobId,
      query: z.object({
        since: count('since', 0, Number.MAX_SAFE_INTEGER),
        kind,
        limit: count('limit', 100000, 100000).describe(
          'At most 100000 (the default)'
        )
      }),
      ok: { 200: { schema: MetricPage } },
      errors: [400, 401, 404]
    }),
    getJobMetricsCsv: operation({
      method: 'get',
      path: '/api/jobs/{id}/metrics.csv',
      operationId: 'getJobMetricsCsv',
      summary:
        'Metric points after a cursor as CSV: seq,name,step,value,time,kind (empty value: NaN or an infinity)',
      params: JobId,
      query: z.object({
        since: count('since', 0, Number.MAX_SAFE_INTEGER),
        kind
      }),
      ok: { 200: { media: 'text/csv' } },
      errors: [400, 401, 404]
    }),
    holdJob: control(
      'holdJob',
      'Hold a queued job: it keeps its place but is not started until released'
    ),
    releaseJob: control('releaseJob', 'Release a held job'),
    rerunJob: operation({
      method: 'post',
      path: '/api/jobs/{id}/rerun',
      operationId: 'rerunJob',
      summary:
        'Queue a new job with the same notebook and spec, optionally on another profile',
      params: JobId,
      body: body({
        profile: configured(
          'profiles',
          profiles,
          refuse(
            'unknown_profile',
            value =>
              `Profile '${String(value)}' does not exist; choose one of ${profiles.join(', ')}.`
          )
        ).nullish(),
        priority: priority
          .nullish()
          .describe(
            "The new job's priority (default: the job's); users up to high, admins any"
          )
      }),
      bodyOptional: true,
      ok: { 201: { schema: Job, description: 'Queued', links: true } },
      errors: [400, 401, 403, 404, 409, 413, 429]
    }),
    moveJob: {
      ...control(
        'moveJob',
        'Move a queued job to another queue (its profile follows the queue)'
      ),
      body: body({
        queue: configured(
          'queues',
          queues,
          refuse(
            'unknown_queue',
            value =>
              `Queue '${String(value)}' does not exist; choose one of ${queues.join(', ')}.`
          )
        )
      })
    },
    setJobPriority: {
      ...control(
        'setJobPriority',
        'Change the priority of a queued job (users up to high, admins any)'
      ),
      path: '/api/jobs/{id}/priority',
      body: body({ priority })
    },
    reorderJob: {
      ...control(
        'reorderJob',
        "Reorder one of the owner's queued jobs among the owner's own jobs (`before`: another of the owner's queued jobs in the same queue with the same priority and hold state; 400 invalid_request otherwise)"
      ),
      body: z.union(
        [
          z.object({ to: z.enum(['front', 'back']) }),
          z.object({ before: z.string() })
        ],
        refuse(
          'invalid_request',
          'Say where: {"to": "front"}, {"to": "back"} or {"before": "<job id>"}.'
        )
      )
    },
    getJobLog: operation({
      method: 'get',
      path: '/api/jobs/{id}/log',
      operationId: 'getJobLog',
      summary: "The runner's log",
      params: JobId,
      ok: { 200: { media: 'text/plain' } },
      errors: [401, 404]
    }),
    getJobResult: operation({
      method: 'get',
      path: '/api/jobs/{id}/result',
      operationId: 'getJobResult',
      summary: 'The executed notebook',
      description:
        'With download=1 it comes as an attachment (<id>.ipynb). In hub mode a browser opening this link without a token header is sent through the hub OAuth login first (docs/jupyterhub.md).',
      params: JobId,
      query: z.object({
        download: z
          .enum(['1'], refuse('invalid_request', '"download" must be 1.'))
          .optional()
      }),
      ok: {
        200: { schema: Notebook, description: 'nbformat 4.5 notebook' }
      },
      errors: [401, 404]
    })
  };
}

type JobOperations = ReturnType<typeof jobOperations>;
/** The bodies the job commands take, as the contract parses them. */
export type RerunBody = z.output<JobOperations['rerunJob']['body']>;
export type MoveBody = z.output<JobOperations['moveJob']['body']>;
export type PriorityBody = z.output<JobOperations['setJobPriority']['body']>;
export type ReorderBody = z.output<JobOperations['reorderJob']['body']>;
