/** What a job's runner calls with its job token: fetch the job, stream events, finish. */
import { z } from 'zod/v4';
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

export function runnerOperations() {
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
    runnerFinish: operation({
      method: 'post',
      path: '/api/runner/jobs/{id}/finish',
      summary:
        'Runner: report the outcome and the executed notebook (job token); at most limits.max_request_bytes',
      params: JobId,
      body: z.object(
        {
          state: FinalState,
          reason: z.string().nullish(),
          // The executed notebook: valid and normalised, outputs kept (notebook/).
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
      errors: [400, 401, 413]
    })
  };
}

type RunnerOperations = ReturnType<typeof runnerOperations>;
/** The bodies the runner intake takes, as the contract parses them. */
export type EventsBody = z.output<RunnerOperations['runnerEvents']['body']>;
export type FinishBody = z.output<RunnerOperations['runnerFinish']['body']>;
