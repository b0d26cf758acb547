/** The pipelines resource (api/contract/pipelines.ts): start, list, read, cancel, re-run. */
import type { RequestHandler, Router } from 'express';
import type { PipelineRoom } from '../../pipelines/room';
import type { ApiContract } from '../contract';
import { me, serve } from './serve';

export function mountPipelineRoutes(
  user: Router,
  contract: ApiContract['pipelines'],
  deps: {
    pipelines: PipelineRoom;
    bodies: { notebook: RequestHandler; control: RequestHandler };
  }
): void {
  const { pipelines } = deps;
  const { notebook, control } = deps.bodies;
  const at = '/api';

  // Up to 50 notebooks: the submit's limit (limits.max_request_bytes) holds for the whole body.
  serve(
    user,
    at,
    contract.submitPipeline,
    ({ body }, req, res) => {
      const pipeline = pipelines.start(me(req), body);
      res.status(201);
      return pipeline;
    },
    [notebook]
  );
  serve(user, at, contract.listPipelines, ({ query }, req) => ({
    pipelines: pipelines.list(me(req), query.all)
  }));
  serve(user, at, contract.getPipeline, ({ params }, req) =>
    pipelines.get(me(req), params.id)
  );
  serve(
    user,
    at,
    contract.cancelPipeline,
    ({ params }, req) => pipelines.cancel(me(req), params.id),
    [control]
  );
  serve(
    user,
    at,
    contract.rerunPipeline,
    ({ params }, req) => pipelines.rerun(me(req), params.id),
    [control]
  );
}
