/** What a job's runner calls with its job token: fetch the job, stream events, finish. */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import { eventProblem } from '../../events/validate';
import type { JobEvent } from '../../jobs/types';
import { resultNotebook } from '../../notebook';
import { FinalState } from './schemas';
import {
  checked,
  coded,
  documented,
  JobId,
  operation,
  refuse
} from './operation';

/** Events one POST may carry. */
export const MAX_EVENTS_PER_POST = 5000;

const events = 'The body must be {"events": [...]}.';

/** One event, checked against the one event schema (server/schema/events.schema.json). */
const anEvent = documented(
  z.custom<JobEvent>().superRefine((event, ctx) => {
    const problem = eventProblem(event);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        input: event,
        message: coded('invalid_event', `Invalid event: ${problem}.`)
      });
  }),
  { replace: { $ref: '#/components/schemas/Event' } }
);

/** What a finish says of the result notebook it uploaded before (PUT …/result answers it). */
const ResultReference = z
  .object(
    {
      bytes: z.int().min(0),
      sha256: z.string().regex(/^[0-9a-f]{64}$/)
    },
    refuse(
      'invalid_request',
      '"result" must be what PUT …/result answered: {"bytes", "sha256"}.'
    )
  )
  .describe('The result notebook uploaded with PUT …/result, as it answered');

/** The media types a result upload may say it is (an .ipynb is JSON). */
export const RESULT_MEDIA = [
  'application/x-ipynb+json',
  'application/json',
  'application/octet-stream'
];

export function runnerOperations(config: Config) {
  return {
    runnerFetch: operation({
      method: 'get',
      path: '/api/runner/jobs/{id}',
      summary: 'Runner: fetch the job (job token)',
      params: JobId,
      ok: { 200: {} },
      errors: [401]
    }),
    runnerEvents: operation({
      method: 'post',
      path: '/api/runner/jobs/{id}/events',
      summary:
        'Runner: append events, idempotent per seq (job token); the body is at most 1 MB',
      params: JobId,
      body: z.object(
        {
          events: z
            .array(anEvent, refuse('invalid_request', events))
            .max(
              MAX_EVENTS_PER_POST,
              refuse(
                'invalid_request',
                `At most ${MAX_EVENTS_PER_POST} events per request.`
              )
            )
        },
        refuse('invalid_request', events)
      ),
      ok: {
        200: {
          schema: z.object({
            accepted: z.int(),
            last_seq: z.int(),
            cancel: z.boolean()
          })
        }
      },
      errors: [400, 401, 413]
    }),
    runnerResult: operation({
      method: 'put',
      path: '/api/runner/jobs/{id}/result',
      summary:
        'Runner: upload the executed notebook, streamed to disk (job token); at most limits.result_bytes',
      description:
        'The .ipynb file as nbformat writes it. Checked as it arrives: JSON and the outline of an nbformat 4 notebook (400 invalid_result); over limits.result_bytes 413 result_too_large, from Content-Length before anything is read. Replaces an earlier upload until the job ended; once it ended with a result, 409 invalid_state. The finish then names it with the answer.',
      params: JobId,
      upload: {
        media: RESULT_MEDIA,
        description: 'The executed notebook (.ipynb, UTF-8 JSON)',
        maxBytes: config.limits.result_bytes
      },
      ok: { 200: { schema: ResultReference } },
      errors: [400, 401, 409, 413, 503]
    }),
    runnerFinish: operation({
      method: 'post',
      path: '/api/runner/jobs/{id}/finish',
      summary:
        'Runner: report the outcome (job token), naming the result uploaded before; an inline notebook (older runners) at most limits.max_request_bytes',
      params: JobId,
      body: z.object(
        {
          state: FinalState,
          reason: z.string().nullish(),
          result: ResultReference.nullish(),
          // Runners before the result upload: the executed notebook inline, valid and
          // normalised, outputs kept (notebook/).
          notebook: documented(
            z.custom<unknown>().transform(checked(resultNotebook)),
            { replace: { $ref: '#/components/schemas/nbformat.notebook' } }
          ).nullish()
        },
        refuse(
          'invalid_request',
          '"state" must be succeeded, failed or cancelled.'
        )
      ),
      ok: { 200: { schema: z.object({ ok: z.boolean() }) } },
      errors: [400, 401, 409, 413]
    })
  };
}

type RunnerOperations = ReturnType<typeof runnerOperations>;
/** The bodies the runner intake takes, as the contract parses them. */
export type EventsBody = z.output<RunnerOperations['runnerEvents']['body']>;
export type FinishBody = z.output<RunnerOperations['runnerFinish']['body']>;
