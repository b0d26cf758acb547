import Ajv from 'ajv';
import type { Express } from 'express';
import { createApp } from '../src/api/app';
import { TokenAuthenticator } from '../src/auth/token';
import { parseConfig } from '../src/config/load';
import { JobService } from '../src/jobs/service';
import { Store } from '../src/store/store';
import { openApiDocument } from '../src/api/contract/document';
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
    const app = createApp({
      config,
      jobs,
      auth: new TokenAuthenticator('t'.repeat(20), 'u'),
      backendName: 'local'
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
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }]
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
      await s.api(
        'POST',
        `/api/jobs/${(job.body as { id: string }).id}/cancel`
      );
    } finally {
      await s.close();
    }
  });
});
