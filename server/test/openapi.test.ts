import Ajv from 'ajv';
import { PipelineRoom } from '../src/pipelines/room';
import type { Express } from 'express';
import { createApp } from '../src/api/app';
import { ScheduleService } from '../src/schedules/service';
import { TokenAuthenticator } from '../src/auth/token';
import { parseConfig } from '../src/config/load';
import { JobService } from '../src/jobs/service';
import { Store } from '../src/store/store';
import { openApiDocument, typesDocument } from '../src/api/contract/document';
import { JOB_STATES } from '../src/api/contract/states';
import { code, localBackend, notebook, startTestSidecar } from './helpers';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  name: string;
  handle: { stack?: Layer[] };
  regexp: RegExp;
}

/** Every (method, path) the express app serves, read from its router. */
function servedRoutes(app: Express): Set<string> {
  const out = new Set<string>();
  const prefixes: Record<string, string> = {};
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods))
          out.add(
            `${m.toUpperCase()} ${prefix}${layer.route.path}`.replace(
              /:(\w+)/g,
              '{$1}'
            )
          );
      } else if (layer.name === 'router' && layer.handle.stack) {
        const src = layer.regexp.source;
        const p = src.includes('runner') ? '/api/runner' : '/api';
        prefixes[src] = p;
        walk(layer.handle.stack, p);
      }
    }
  };
  walk((app as unknown as { _router: { stack: Layer[] } })._router.stack, '');
  return out;
}

describe('OpenAPI document', () => {
  test('lists exactly the routes the app serves', () => {
    const config = parseConfig({});
    const store = new Store(':memory:');
    const jobs = new JobService({
      config,
      store,
      sidecarUrl: () => '',
      backend: localBackend
    });
    const pipelines = PipelineRoom.forJobs(config, store, jobs);
    const app = createApp({
      config,
      jobs,
      pipelines,
      auth: new TokenAuthenticator('t'.repeat(20), 'u'),
      backendName: 'local',
      schedules: new ScheduleService({
        store,
        jobs,
        pipelines: pipelines.forSchedules()
      })
    });
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths))
      for (const m of Object.keys(ops))
        documented.add(`${m.toUpperCase()} ${p}`);
    expect([...servedRoutes(app)].sort()).toEqual([...documented].sort());
    store.close();
  });

  test('a submitted job and a profile match their documented schemas', async () => {
    const s = await startTestSidecar({
      profiles: [
        { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 },
        // A GPU shape: accepted and shown by the local backend, which cannot count it.
        {
          name: 'mig',
          cpus: 1,
          gpu: {
            type: 'NVIDIA-A100-SXM4-80GB',
            resource: 'nvidia.com/mig-1g.10gb',
            count: 1
          },
          memory: '1Gi',
          capacity: 1
        }
      ]
    });
    try {
      const doc = (
        await s.api<Record<string, unknown>>('GET', '/api/openapi.json')
      ).body as {
        components: { schemas: Record<string, unknown> };
      };
      const ajv = new Ajv({ strict: false, validateFormats: false });
      for (const [name, schema] of Object.entries(doc.components.schemas))
        ajv.addSchema(schema as object, `#/components/schemas/${name}`);
      // OpenAPI 3.1: the schemas are JSON Schema as they stand (null as a type, no nullable).
      expect(JSON.stringify(doc)).not.toMatch(/"nullable"/);
      const jobSchema = doc.components.schemas.Job as object;
      const job = await s.api('POST', '/api/jobs', {
        profile: 'cpu',
        notebook: notebook([code('pass')])
      });
      expect(job.status).toBe(201);
      expect(ajv.validate(jobSchema, job.body)).toBe(true);
      const profiles = (
        await s.api<{ profiles: unknown[] }>('GET', '/api/profiles')
      ).body.profiles;
      for (const p of profiles)
        expect(ajv.validate(doc.components.schemas.Profile as object, p)).toBe(
          true
        );
      expect(profiles).toEqual([
        expect.objectContaining({
          name: 'cpu',
          gpus: 0,
          gpu_type: null,
          gpu_resource: 'nvidia.com/gpu',
          gpu_free: null
        }),
        expect.objectContaining({
          name: 'mig',
          gpus: 1,
          gpu_type: 'NVIDIA-A100-SXM4-80GB',
          gpu_resource: 'nvidia.com/mig-1g.10gb',
          gpu_free: null
        })
      ]);
      await s.api(
        'POST',
        `/api/jobs/${(job.body as { id: string }).id}/cancel`
      );
    } finally {
      await s.close();
    }
  });

  test("is generated from the contract: this sidecar's names, the refusals it answers", async () => {
    const s = await startTestSidecar({
      profiles: [
        { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 },
        { name: 'gpu-1', cpus: 4, gpus: 1, memory: '8Gi', capacity: 1 }
      ],
      queues: [
        { name: 'cpu', profile: 'cpu' },
        { name: 'gpu-1', profile: 'gpu-1' }
      ]
    });
    try {
      type Doc = {
        components: { schemas: Record<string, Record<string, unknown>> };
        paths: Record<string, Record<string, Record<string, unknown>>>;
      };
      const doc = (await s.api<Doc>('GET', '/api/openapi.json')).body;
      const submit = doc.components.schemas.JobSubmit as {
        properties: Record<string, { enum?: string[] }>;
        required: string[];
      };
      expect(submit.properties.profile.enum).toEqual(['cpu', 'gpu-1']);
      expect(submit.required.sort()).toEqual(['notebook', 'profile']);
      const job = doc.components.schemas.Job as {
        properties: { state: { enum: string[] } };
      };
      expect(job.properties.state.enum).toEqual([...JOB_STATES]);
      const move = doc.paths['/api/jobs/{id}/move'].post as {
        requestBody: {
          content: {
            'application/json': {
              schema: { properties: { queue: { enum: string[] } } };
            };
          };
        };
      };
      expect(
        move.requestBody.content['application/json'].schema.properties.queue
          .enum
      ).toEqual(['cpu', 'gpu-1']);

      // What the document leaves out is refused with the contract's code and sentence.
      const queued = await s.api<{ id: string }>('POST', '/api/jobs', {
        profile: 'cpu',
        notebook: notebook([code('pass')])
      });
      const moved = await s.api<{ error: { code: string; message: string } }>(
        'POST',
        `/api/jobs/${queued.body.id}/move`,
        { queue: 'gpu-9' }
      );
      expect(moved.status).toBe(400);
      expect(moved.body.error).toEqual({
        code: 'unknown_queue',
        message: "Queue 'gpu-9' does not exist; choose one of cpu, gpu-1."
      });
      const listed = await s.api<{ error: { code: string } }>(
        'GET',
        '/api/jobs?limit=-1'
      );
      expect(listed.status).toBe(400);
      expect(listed.body.error.code).toBe('invalid_request');
      await s.api('POST', `/api/jobs/${queued.body.id}/cancel`);

      // The generated TypeScript types take any configured name, and keep the states.
      const generic = typesDocument(doc) as unknown as Doc;
      const genericSubmit = generic.components.schemas.JobSubmit as {
        properties: Record<string, { enum?: string[] }>;
        anyOf?: unknown;
      };
      expect(genericSubmit.properties.profile.enum).toBeUndefined();
      expect(genericSubmit.anyOf).toBeUndefined();
      expect(JSON.stringify(generic)).not.toContain('x-configured');
      expect(
        (
          generic.components.schemas.Job as {
            properties: { state: { enum: string[] } };
          }
        ).properties.state.enum
      ).toEqual([...JOB_STATES]);
    } finally {
      await s.close();
    }
  });
});
