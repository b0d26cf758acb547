/**
 * The pipelines resource: notebooks run as steps, each started when the steps it waits for
 * have succeeded, with their `nbqueue.output` values as parameters (docs/pipelines.md).
 */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import { checkDefinition } from '../../pipelines/definition';
import {
  checked,
  coded,
  decoded,
  documented,
  refuse,
  operation
} from './operation';
import { submitSchema, Submission } from './submit';

export const PIPELINE_STATES = [
  'running',
  'succeeded',
  'failed',
  'cancelled'
] as const;
export type PipelineState = (typeof PIPELINE_STATES)[number];

export const STEP_STATES = [
  'waiting',
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'skipped'
] as const;
export type StepState = (typeof STEP_STATES)[number];

export const MAX_STEPS = 50;
const STEP_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PipelineId = z.object({ id: z.string().min(1) });

/** A step as the contract parsed it: its own fields and its job's submission. */
export interface StepSubmission {
  name: string;
  after: string[];
  submission: Submission;
}

export interface PipelineSubmission {
  name: string;
  steps: StepSubmission[];
}

/** The Pipeline a client sees. */
export const PipelineStep = z.object({
  name: z.string(),
  after: z.array(z.string()),
  profile: z.string(),
  state: z.enum(STEP_STATES),
  job_id: z.string().nullable(),
  outputs: z
    .record(z.string(), z.unknown())
    .describe("The step's nbqueue.output values: name -> JSON value")
});

export const Pipeline = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  state: z.enum(PIPELINE_STATES),
  reason: z.string().nullable(),
  attempt: z.int().min(1),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  schedule_id: z.string().nullable(),
  steps: z.array(PipelineStep)
});

/** The body of POST /api/pipelines for this configuration. */
export function pipelineBodySchema(
  config: Config,
  now: () => Date = () => new Date()
) {
  const submit = submitSchema(config, now);
  const step = z
    .looseObject(
      {
        name: z
          .string(refuse('invalid_pipeline', 'Every step needs a "name".'))
          .regex(
            STEP_NAME,
            refuse(
              'invalid_pipeline',
              name =>
                `Step name ${JSON.stringify(name)} is not valid: 1 to 64 letters, digits, ".", "_" or "-".`
            )
          ),
        after: z
          .array(
            z.string(),
            refuse('invalid_pipeline', '"after" must be a list of step names.')
          )
          .nullish()
          .describe(
            'Steps this one waits for; absent: the previous step in the list; []: none'
          )
      },
      refuse('invalid_pipeline', 'Every step must be a JSON object.')
    )
    .transform((s, ctx) => {
      const { name, after, ...job } = s;
      // The job's own fields, checked as POST /api/jobs checks them; the error names the step.
      const parsed = submit.safeParse({ ...job, name: null });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const said = decoded(issue.message);
          ctx.issues.push({
            ...issue,
            code: 'custom',
            input: undefined,
            message: said
              ? coded(said.code, `Step '${name}': ${said.message}`)
              : `Step '${name}': ${issue.message}`
          });
        }
        return z.NEVER;
      }
      return { name, after: after ?? undefined, submission: parsed.data };
    });
  documented(step, {
    replace: {
      allOf: [
        { $ref: '#/components/schemas/JobSubmit' },
        {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', pattern: STEP_NAME.source },
            after: {
              anyOf: [
                { type: 'array', items: { type: 'string' }, uniqueItems: true },
                { type: 'null' }
              ]
            }
          }
        }
      ]
    }
  });
  return z
    .object(
      {
        name: z
          .string(refuse('invalid_request', '"name" must be a string.'))
          .max(
            200,
            refuse(
              'invalid_request',
              'The pipeline name is longer than 200 characters.'
            )
          )
          .nullish(),
        // Two equal steps have the same name: the document says so (the names' uniqueness is
        // checked in code, pipelines/definition.ts).
        steps: documented(
          z
            .array(
              step,
              refuse('invalid_pipeline', '"steps" must be a list of steps.')
            )
            .min(
              1,
              refuse('invalid_pipeline', 'A pipeline needs at least one step.')
            )
            .max(
              MAX_STEPS,
              refuse(
                'invalid_pipeline',
                `A pipeline has at most ${MAX_STEPS} steps.`
              )
            ),
          { extra: { uniqueItems: true } }
        )
      },
      refuse(
        'invalid_request',
        'The request body must be a JSON object with "steps".'
      )
    )
    .transform(
      checked((b): PipelineSubmission => {
        const body = b as {
          name?: string | null;
          steps: Array<{
            name: string;
            after?: string[];
            submission: Submission;
          }>;
        };
        const steps = checkDefinition(body.steps);
        return {
          name: body.name?.trim() || steps.map(s => s.name).join(' → '),
          steps: steps.map(s => ({
            name: s.name,
            after: s.after,
            submission: s.submission
          }))
        };
      })
    );
}

const all = z
  .enum(
    ['1', 'true', '0', 'false'],
    refuse('invalid_request', '"all" must be 1, true, 0 or false.')
  )
  .optional()
  .describe("1: everyone's pipelines (admins; 403 for others)")
  .transform(v => v === '1' || v === 'true');

export function pipelineOperations(config: Config, now?: () => Date) {
  const control = (name: 'cancel' | 'rerun', summary: string) =>
    operation({
      method: 'post',
      path: `/api/pipelines/{id}/${name}`,
      operationId: `${name}Pipeline`,
      summary,
      params: PipelineId,
      ok: { 200: { schema: Pipeline } },
      errors: [401, 404, 409, 413]
    });
  return {
    Pipeline,
    submitPipeline: operation({
      method: 'post',
      path: '/api/pipelines',
      operationId: 'submitPipeline',
      summary: 'Start a pipeline: notebooks run as steps in order of "after"',
      description:
        "400 invalid_pipeline: a cycle, an unknown or duplicate step name (the steps named); the steps' job fields are refused as POST /api/jobs refuses them, naming the step. 413: over limits.max_request_bytes.",
      body: pipelineBodySchema(config, now),
      ok: { 201: { schema: Pipeline, description: 'Started' } },
      errors: [400, 401, 403, 413, 415, 429]
    }),
    listPipelines: operation({
      method: 'get',
      path: '/api/pipelines',
      operationId: 'listPipelines',
      summary: "The caller's pipelines, newest first",
      query: z.object({ all }),
      ok: { 200: { schema: z.object({ pipelines: z.array(Pipeline) }) } },
      errors: [400, 401, 403]
    }),
    getPipeline: operation({
      method: 'get',
      path: '/api/pipelines/{id}',
      operationId: 'getPipeline',
      summary: 'One pipeline',
      params: PipelineId,
      ok: { 200: { schema: Pipeline } },
      errors: [401, 404]
    }),
    cancelPipeline: control(
      'cancel',
      'Cancel a running pipeline: its running steps are cancelled, the waiting ones skipped'
    ),
    rerunPipeline: control(
      'rerun',
      'Run a failed or cancelled pipeline again from its failed, cancelled and skipped steps (same id, attempt + 1; the succeeded steps and their outputs are kept)'
    )
  };
}

type PipelineOperations = ReturnType<typeof pipelineOperations>;
export type PipelineView = z.output<typeof Pipeline>;
export type PipelineBody = z.output<
  PipelineOperations['submitPipeline']['body']
>;
