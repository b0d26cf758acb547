/** The jobs resource: submit, list, read and act on jobs (api/contract/jobs.ts). */
import type { RequestHandler, Router } from 'express';
import type { FileStore } from '../../files/store';
import { checkInputBundle } from '../../files/routes';
import type { JobService } from '../../jobs/service';
import { CSV_PAGE, writeCsv } from '../../metrics/csv';
import type { ApiContract } from '../contract';
import { fault } from '../../faults';
import { me, serve } from './serve';

export function mountJobRoutes(
  user: Router,
  contract: ApiContract['jobs'],
  deps: {
    jobs: JobService;
    files?: FileStore;
    bodies: { notebook: RequestHandler; control: RequestHandler };
  }
): void {
  const { queries, commands } = deps.jobs;
  const { notebook, control } = deps.bodies;
  const at = '/api';

  serve(
    user,
    at,
    contract.submitJob,
    async ({ body }, req, res) => {
      checkInputBundle(deps.files, me(req), body.spec.input_bundle);
      const job = await commands.submitGrouped(me(req), body);
      res.once('finish', () => fault('submit.answered'));
      res.status(201);
      return job;
    },
    [notebook]
  );
  serve(user, at, contract.listJobs, ({ query }, req) =>
    queries.list(me(req), {
      states: query.state,
      queue: query.queue,
      all: query.all,
      limit: query.limit,
      cursor: query.cursor
    })
  );
  serve(user, at, contract.getJob, ({ params }, req) =>
    queries.get(me(req), params.id)
  );
  serve(
    user,
    at,
    contract.cancelJob,
    ({ params }, req) => commands.cancel(me(req), params.id),
    [control]
  );
  serve(user, at, contract.getJobEvents, ({ params, query }, req) =>
    queries.events(me(req), params.id, query.after, query.limit)
  );
  serve(user, at, contract.getJobMetrics, ({ params, query }, req) => {
    const metrics = queries.metrics(me(req), params.id, query);
    return {
      metrics,
      cursor: metrics.length ? metrics[metrics.length - 1].seq : query.since
    };
  });
  serve(
    user,
    at,
    contract.getJobMetricsCsv,
    async ({ params, query }, req, res) => {
      const who = me(req);
      // The first page before any header: an unknown job still answers 404.
      const first = queries.metrics(who, params.id, {
        ...query,
        limit: CSV_PAGE
      });
      res
        .type('text/csv; charset=utf-8')
        .setHeader(
          'Content-Disposition',
          `attachment; filename="${params.id}-metrics.csv"`
        );
      let pages = 0;
      await writeCsv(res, params.id, query.since, since =>
        pages++ === 0
          ? first
          : queries.metrics(who, params.id, {
              ...query,
              since,
              limit: CSV_PAGE
            })
      );
      return undefined;
    }
  );
  serve(
    user,
    at,
    contract.holdJob,
    ({ params }, req) => commands.hold(me(req), params.id),
    [control]
  );
  serve(
    user,
    at,
    contract.releaseJob,
    ({ params }, req) => commands.release(me(req), params.id),
    [control]
  );
  serve(
    user,
    at,
    contract.rerunJob,
    ({ params, body }, req, res) => {
      const job = commands.rerun(me(req), params.id, body);
      res.status(201);
      return job;
    },
    [control]
  );
  serve(
    user,
    at,
    contract.moveJob,
    ({ params, body }, req) => commands.move(me(req), params.id, body),
    [control]
  );
  serve(
    user,
    at,
    contract.setJobPriority,
    ({ params, body }, req) => commands.setPriority(me(req), params.id, body),
    [control]
  );
  serve(
    user,
    at,
    contract.reorderJob,
    ({ params, body }, req) => commands.reorder(me(req), params.id, body),
    [control]
  );
  serve(user, at, contract.getJobLog, async ({ params }, req, res) => {
    const text = await commands.log(me(req), params.id);
    res.type('text/plain').send(text);
    return undefined;
  });
}
