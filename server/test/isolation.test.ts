/**
 * The isolation matrix: every route of the OpenAPI document and every socket.io event, tried
 * on alice's job by bob (another user), by an admin and by nobody. Routes come from the
 * document the sidecar serves, so a new route is covered the day it is documented (openapi.test.ts checks that
 * the document lists exactly the routes the app serves).
 */
import { io, Socket } from 'socket.io-client';
import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  waitFor
} from './helpers';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdefgh';
const ROOT = 'root-token-0123456789abcdefg';

interface ErrorBody {
  error: { code: string; message: string };
}

/** A body each route takes (the rest take none): well-formed, so only who asks decides. */
const BODIES: Record<string, unknown> = {
  '/api/jobs': { profile: 'cpu', notebook: notebook([code('1')]) },
  '/api/jobs/{id}/move': { queue: 'cpu' },
  '/api/jobs/{id}/priority': { priority: 'normal' },
  '/api/jobs/{id}/reorder': { to: 'front' },
  '/api/jobs/{id}/rerun': {},
  '/api/pipelines': {
    steps: [{ name: 'one', profile: 'cpu', notebook: notebook([code('1')]) }]
  },
  '/api/schedules': {
    cron: '0 3 1 1 *',
    job: { profile: 'cpu', notebook: notebook([code('1')]) }
  }
};

describe('isolation matrix', () => {
  let s: TestSidecar;
  let job: JobView;
  let pipeline: { id: string };
  let schedule: { id: string };
  const operations: Array<{ method: string; template: string }> = [];

  beforeAll(async () => {
    s = await startTestSidecar({
      auth: {
        token: ROOT,
        user: 'root',
        admin: true,
        users: [
          { token: ALICE, user: 'alice' },
          { token: BOB, user: 'bob' }
        ]
      },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }]
    });
    const doc = (
      await s.api<{ paths: Record<string, Record<string, unknown>> }>(
        'GET',
        '/api/openapi.json',
        undefined,
        ROOT
      )
    ).body;
    for (const [template, ops] of Object.entries(doc.paths))
      for (const method of Object.keys(ops))
        operations.push({ method: method.toUpperCase(), template });
    // A job that ran: it has events, a log and a result for every route to find.
    job = (
      await s.api<JobView>(
        'POST',
        '/api/jobs',
        { profile: 'cpu', notebook: notebook([code('print("alice")')]) },
        ALICE
      )
    ).body;
    await waitFor(
      async () =>
        (await s.api<JobView>('GET', `/api/jobs/${job.id}`, undefined, ALICE))
          .body.has_result,
      "alice's job to end",
      60000
    );
    pipeline = (
      await s.api<{ id: string }>(
        'POST',
        '/api/pipelines',
        BODIES['/api/pipelines'],
        ALICE
      )
    ).body;
    schedule = (
      await s.api<{ id: string }>(
        'POST',
        '/api/schedules',
        BODIES['/api/schedules'],
        ALICE
      )
    ).body;
  }, 90000);
  afterAll(() => s.close());

  const call = (
    method: string,
    template: string,
    token: string | null
  ): Promise<{ status: number; body: unknown }> =>
    s.api(
      method,
      template
        .replace('{seq}', '1')
        .replace(
          '{id}',
          template.startsWith('/api/pipelines/')
            ? pipeline.id
            : template.startsWith('/api/schedules/')
              ? schedule.id
              : job.id
        ),
      method === 'GET' ? undefined : (BODIES[template] ?? {}),
      token
    );
  const jobRoutes = () =>
    operations.filter(
      o =>
        o.template.includes('{id}') &&
        !o.template.startsWith('/api/runner/') &&
        !o.template.startsWith('/api/pipelines/') &&
        !o.template.startsWith('/api/schedules/')
    );
  const scheduleRoutes = () =>
    operations
      .filter(o => o.template.startsWith('/api/schedules/{id}'))
      // Deleting last: the admin's tour would end the schedule for the routes after it.
      .sort(
        (a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE')
      );
  const pipelineRoutes = () =>
    operations.filter(o => o.template.startsWith('/api/pipelines/'));

  test("bob gets 404 unknown_pipeline on every route of alice's pipeline; an admin reaches it", async () => {
    expect(pipelineRoutes().length).toBeGreaterThanOrEqual(3);
    for (const { method, template } of pipelineRoutes()) {
      const res = await call(method, template, BOB);
      expect([
        method,
        template,
        res.status,
        (res.body as ErrorBody).error?.code
      ]).toEqual([method, template, 404, 'unknown_pipeline']);
    }
    const bobs = await s.api<{ pipelines: Array<{ id: string }> }>(
      'GET',
      '/api/pipelines',
      undefined,
      BOB
    );
    expect(bobs.body.pipelines).toEqual([]);
    expect(
      (await s.api('GET', '/api/pipelines?all=1', undefined, BOB)).status
    ).toBe(403);
    for (const { method, template } of pipelineRoutes()) {
      const res = await call(method, template, ROOT);
      expect([
        method,
        template,
        (res.body as ErrorBody).error?.code
      ]).not.toEqual([method, template, 'unknown_pipeline']);
      expect(res.status).not.toBe(401);
    }
  }, 30000);

  test('the document has job routes to try', () => {
    expect(jobRoutes().length).toBeGreaterThanOrEqual(15);
  });

  test("bob gets 404 unknown_job on every route of alice's job, and it stays as it was", async () => {
    const before = (
      await s.api<JobView>('GET', `/api/jobs/${job.id}`, undefined, ALICE)
    ).body;
    const seen: string[] = [];
    for (const { method, template } of jobRoutes()) {
      const res = await call(method, template, BOB);
      seen.push(
        `${method} ${template} ${res.status} ${(res.body as ErrorBody).error?.code}`
      );
    }
    expect(seen).toEqual(
      jobRoutes().map(
        ({ method, template }) => `${method} ${template} 404 unknown_job`
      )
    );
    const after = (
      await s.api<JobView>('GET', `/api/jobs/${job.id}`, undefined, ALICE)
    ).body;
    expect(after).toEqual(before);
    const bobs = await s.api<{ jobs: JobView[] }>(
      'GET',
      '/api/jobs',
      undefined,
      BOB
    );
    expect(bobs.body.jobs.map(j => j.id)).not.toContain(job.id);
    expect((await s.api('GET', '/api/jobs?all=1', undefined, BOB)).status).toBe(
      403
    );
  });

  test("bob gets 404 unknown_schedule on every route of alice's schedule; an admin reaches it", async () => {
    expect(scheduleRoutes().length).toBeGreaterThanOrEqual(5);
    const before = (
      await s.api('GET', `/api/schedules/${schedule.id}`, undefined, ALICE)
    ).body;
    for (const { method, template } of scheduleRoutes()) {
      const res = await call(method, template, BOB);
      expect([
        method,
        template,
        res.status,
        (res.body as ErrorBody).error?.code
      ]).toEqual([method, template, 404, 'unknown_schedule']);
    }
    expect(
      (await s.api('GET', `/api/schedules/${schedule.id}`, undefined, ALICE))
        .body
    ).toEqual(before);
    const bobs = await s.api<{ schedules: { id: string }[] }>(
      'GET',
      '/api/schedules',
      undefined,
      BOB
    );
    expect(bobs.body.schedules).toEqual([]);
    expect(
      (await s.api('GET', '/api/schedules?all=1', undefined, BOB)).status
    ).toBe(403);
    const all = await s.api<{ schedules: { id: string }[] }>(
      'GET',
      '/api/schedules?all=1',
      undefined,
      ROOT
    );
    expect(all.body.schedules.map(x => x.id)).toContain(schedule.id);
    for (const { method, template } of scheduleRoutes()) {
      const res = await call(method, template, ROOT);
      expect([method, template, res.status]).toEqual([
        method,
        template,
        method === 'DELETE' ? 204 : template.endsWith('run-now') ? 201 : 200
      ]);
    }
  });

  test('nobody (no token, a wrong token) gets 401 on every route but health', async () => {
    for (const { method, template } of operations) {
      if (template === '/api/health') continue;
      for (const token of [null, 'not-a-token-not-a-token']) {
        const res = await call(method, template, token);
        expect([method, template, res.status]).toEqual([method, template, 401]);
        expect((res.body as ErrorBody).error.code).toBe('unauthorized');
      }
    }
  });

  test("the runner routes take only the job's own token: users and admins get 401", async () => {
    const runnerRoutes = operations.filter(o =>
      o.template.startsWith('/api/runner/')
    );
    expect(runnerRoutes.length).toBeGreaterThanOrEqual(3);
    for (const { method, template } of runnerRoutes)
      for (const token of [ALICE, BOB, ROOT])
        expect([
          template,
          (await call(method, template, token)).status
        ]).toEqual([template, 401]);
  });

  test("an admin reaches alice's job on every route", async () => {
    for (const { method, template } of jobRoutes()) {
      const res = await call(method, template, ROOT);
      const code = (res.body as ErrorBody).error?.code;
      // The job ended: acting on it may be 409 (or 404 for what it never had), never unknown.
      expect([method, template, res.status]).not.toEqual([
        method,
        template,
        401
      ]);
      expect([method, template, code]).not.toEqual([
        method,
        template,
        'unknown_job'
      ]);
    }
    const all = await s.api<{ jobs: JobView[] }>(
      'GET',
      '/api/jobs?all=1',
      undefined,
      ROOT
    );
    expect(all.body.jobs.map(j => j.id)).toContain(job.id);
  });

  describe('sockets', () => {
    const connect = (token: string): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = io(s.url, {
          auth: { token },
          transports: ['websocket'],
          reconnection: false
        });
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', reject);
      });
    const subscribe = (socket: Socket, jobId: string) =>
      new Promise<{ ok: boolean; error?: { code: string } }>(resolve =>
        socket.emit('subscribe', { job_id: jobId, after: 0 }, resolve)
      );

    test('nobody cannot connect', async () => {
      for (const token of ['', 'not-a-token-not-a-token']) {
        const error = await connect(token).then(
          socket => {
            socket.close();
            return null;
          },
          (e: Error) => e.message
        );
        expect(error).toBe('unauthorized');
      }
    });

    test("bob's subscribe is refused and nothing of alice's job reaches him; an admin's is answered", async () => {
      const bob = await connect(BOB);
      const root = await connect(ROOT);
      const toBob: unknown[] = [];
      const toRoot: Array<{ job_id?: string; id?: string }> = [];
      for (const event of ['events', 'job']) {
        bob.on(event, (m: unknown) => toBob.push(m));
        root.on(event, (m: { job_id?: string; id?: string }) => toRoot.push(m));
      }
      const refused = await subscribe(bob, job.id);
      expect(refused).toEqual({
        ok: false,
        error: expect.objectContaining({ code: 'unknown_job' })
      });
      bob.emit('unsubscribe', { job_id: job.id });
      const answered = await subscribe(root, job.id);
      expect(answered.ok).toBe(true);
      // A change to alice's job (a re-run by alice) goes to her and to admins, not to bob.
      const rerun = (
        await s.api<JobView>('POST', `/api/jobs/${job.id}/rerun`, {}, ALICE)
      ).body;
      await waitFor(
        () => toRoot.some(m => m.id === rerun.id),
        'the admin to hear of the re-run'
      );
      await s.api('POST', `/api/jobs/${rerun.id}/cancel`, undefined, ALICE);
      await new Promise(r => setTimeout(r, 300));
      expect(toRoot.some(m => m.job_id === job.id)).toBe(true);
      expect(toBob).toEqual([]);
      bob.close();
      root.close();
    }, 30000);
  });
});
