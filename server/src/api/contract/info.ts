/** The sidecar itself: liveness, who is calling, the document, profiles and queues. */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import { operation } from './operation';
import { infoSchema, Profile, Queue } from './schemas';

export function infoOperations(config: Config) {
  return {
    health: operation({
      method: 'get',
      path: '/api/health',
      summary: 'Liveness (no auth)',
      public: true,
      ok: {
        200: { schema: z.object({ status: z.string(), version: z.string() }) }
      },
      errors: []
    }),
    getInfo: operation({
      method: 'get',
      path: '/api/info',
      operationId: 'getInfo',
      summary: 'Version, backend, the caller',
      ok: { 200: { schema: infoSchema(config.priorities) } },
      errors: [401]
    }),
    getOpenApi: operation({
      method: 'get',
      path: '/api/openapi.json',
      summary: 'This document',
      ok: { 200: {} },
      errors: [401]
    }),
    listProfiles: operation({
      method: 'get',
      path: '/api/profiles',
      operationId: 'listProfiles',
      summary: 'Resource profiles with free capacity and queue length',
      ok: { 200: { schema: z.object({ profiles: z.array(Profile) }) } },
      errors: [401]
    }),
    listQueues: operation({
      method: 'get',
      path: '/api/queues',
      operationId: 'listQueues',
      summary: 'Queues with their lengths',
      ok: { 200: { schema: z.object({ queues: z.array(Queue) }) } },
      errors: [401]
    })
  };
}
