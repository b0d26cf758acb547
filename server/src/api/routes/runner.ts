/** What a job's runner calls, with its per-job token (api/contract/runner.ts). */
import type { RequestHandler, Router } from 'express';
import { tokenFromHeader } from '../../auth/auth';
import type { JobService } from '../../jobs/service';
import type { JobRecord } from '../../jobs/types';
import type { ApiContract } from '../contract';
import { guard, serve } from './serve';

declare module 'express-serve-static-core' {
  interface Request {
    runnerJob?: JobRecord;
  }
}

/** The job whose token authenticated this request. */
export const runnerJob = (req: { runnerJob?: JobRecord }): JobRecord =>
  req.runnerJob as JobRecord;

export function mountRunnerRoutes(
  runner: Router,
  contract: ApiContract['runner'],
  deps: {
    jobs: JobService;
    bodies: { notebook: RequestHandler; events: RequestHandler };
  }
): void {
  const intake = deps.jobs.runner;
  const at = '/api/runner';
  runner.use(
    '/jobs/:id',
    guard(req => {
      req.runnerJob = intake.authenticate(
        req.params.id,
        tokenFromHeader(req.header('authorization')),
        // Storing a checkpoint: also the runner of an attempt a restart took away, until the
        // next attempt's runner asks for the checkpoint to restore (intake.restoring).
        req.method === 'POST' && req.path === '/checkpoints'
      );
    })
  );
  serve(runner, at, contract.runnerFetch, (_, req) =>
    intake.fetch(runnerJob(req))
  );
  serve(
    runner,
    at,
    contract.runnerEvents,
    ({ body }, req) => intake.ingestEvents(runnerJob(req), body),
    [deps.bodies.events]
  );
  serve(
    runner,
    at,
    contract.runnerFinish,
    ({ body }, req) => {
      intake.finish(runnerJob(req), body);
      return { ok: true };
    },
    // The executed notebook keeps its outputs: parsed after the job token, as a submit is.
    [deps.bodies.notebook]
  );
}
