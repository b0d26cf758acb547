/** The schedules resource (api/contract/schedules.ts, server/src/schedules). */
import type { RequestHandler, Router } from 'express';
import type { ScheduleService } from '../../schedules/service';
import type { ApiContract } from '../contract';
import { me, serve } from './serve';

export function mountScheduleRoutes(
  user: Router,
  contract: ApiContract['schedules'],
  deps: {
    schedules: ScheduleService;
    bodies: { notebook: RequestHandler; control: RequestHandler };
  }
): void {
  const { schedules } = deps;
  const at = '/api';
  serve(user, at, contract.listSchedules, ({ query }, req) => ({
    schedules: schedules.list(me(req), query.all)
  }));
  // The schedule carries a notebook: the submit's body limit.
  serve(
    user,
    at,
    contract.createSchedule,
    ({ body }, req, res) => {
      const s = schedules.create(me(req), body);
      res.status(201);
      return s;
    },
    [deps.bodies.notebook]
  );
  // Before /{id}, which would take "preview" for an id.
  serve(user, at, contract.previewSchedule, ({ query }) =>
    schedules.preview(query.cron, query.timezone ?? 'UTC')
  );
  serve(user, at, contract.getSchedule, ({ params }, req) =>
    schedules.get(me(req), params.id)
  );
  serve(user, at, contract.deleteSchedule, ({ params }, req, res) => {
    schedules.delete(me(req), params.id);
    res.status(204).end();
    return undefined;
  });
  serve(
    user,
    at,
    contract.pauseSchedule,
    ({ params }, req) => schedules.pause(me(req), params.id),
    [deps.bodies.control]
  );
  serve(
    user,
    at,
    contract.resumeSchedule,
    ({ params }, req) => schedules.resume(me(req), params.id),
    [deps.bodies.control]
  );
  serve(
    user,
    at,
    contract.runSchedule,
    ({ params }, req, res) => {
      const fired = schedules.runNow(me(req), params.id);
      res.status(201);
      return fired;
    },
    [deps.bodies.control]
  );
}
