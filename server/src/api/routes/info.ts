/** The sidecar itself: who is calling, the document, profiles and queues. */
import type { Router } from 'express';
import type { Config } from '../../config/schema';
import type { JobService } from '../../jobs/service';
import { VERSION } from '../../version';
import type { ApiContract } from '../contract';
import { me, serve } from './serve';

export function mountInfoRoutes(
  user: Router,
  contract: ApiContract['info'],
  deps: {
    config: Config;
    jobs: JobService;
    backendName: string;
    document: Record<string, unknown>;
  }
): void {
  const { config, jobs } = deps;
  serve(user, '/api', contract.getInfo, (_, req) => ({
    version: VERSION,
    backend: deps.backendName,
    user: me(req).user,
    admin: me(req).admin,
    priorities: {
      classes: config.priorities,
      allowed: jobs.queries.allowedPriorities(me(req)),
      default: config.default_priority
    },
    limits: {
      max_notebook_bytes: config.limits.max_notebook_bytes,
      max_request_bytes: config.limits.max_request_bytes
    },
    files: {
      bundle: config.files.bundle,
      max_input_bytes: config.files.max_input_bytes,
      collect_outputs: config.files.collect_outputs,
      max_output_bytes: config.files.max_output_bytes
    }
  }));
  serve(user, '/api', contract.listProfiles, () => ({
    profiles: jobs.queries.profiles()
  }));
  serve(user, '/api', contract.listQueues, () => ({
    queues: jobs.queries.queues()
  }));
  serve(user, '/api', contract.getOpenApi, () => deps.document);
}
