import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

type ErrorBody = { error: { code: string; message: string } };

const BOB = 'bob-token-0123456789abcdef';
const CAROL = 'carol-token-0123456789abcd';

/**
 * Queue operations against a real sidecar. One slot on `cpu`, filled by a job that sleeps,
 * keeps everything else queued; alice (the sidecar token, admin) and bob and carol (not admins).
 */
describe('queue operations', () => {
  let s: TestSidecar;
  let blocker: JobView;
  const sleeper = notebook([
    code('import time\nfor _ in range(3000): time.sleep(0.1)')
  ]);
  const quick = notebook([code('1')]);

  beforeAll(async () => {
    s = await startTestSidecar({
      auth: {
        users: [
          { token: BOB, user: 'bob', admin: false },
          { token: CAROL, user: 'carol', admin: false }
        ]
      },
      limits: { max_queued_per_user: 4 },
      profiles: [
        { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 },
        { name: 'gpu-1', cpus: 1, gpus: 1, memory: '1Gi', capacity: 1 }
      ],
      queues: [
        { name: 'cpu', profile: 'cpu' },
        { name: 'cpu-long', profile: 'cpu' },
        { name: 'gpu-1', profile: 'gpu-1' }
      ]
    });
    blocker = (
      await s.api<JobView>('POST', '/api/jobs', {
        profile: 'cpu',
        notebook: sleeper
      })
    ).body;
    await waitFor(
      async () =>
        (await s.api<JobView>('GET', `/api/jobs/${blocker.id}`)).body.state ===
        'running',
      'the blocker to run'
    );
  });
  afterAll(async () => {
    await s.api('POST', `/api/jobs/${blocker.id}/cancel`);
    await waitFor(
      async () =>
        (await s.api<JobView>('GET', `/api/jobs/${blocker.id}`)).body.state ===
        'cancelled',
      'the blocker to stop'
    );
    await s.close();
  });

  const submit = async (token: string, extra: Record<string, unknown> = {}) => {
    const res = await s.api<JobView>(
      'POST',
      '/api/jobs',
      { profile: 'cpu', notebook: quick, ...extra },
      token
    );
    expect(res.status).toBe(201);
    return res.body;
  };
  const get = async (id: string, token = s.token) =>
    (await s.api<JobView>('GET', `/api/jobs/${id}`, undefined, token)).body;
  const cancelAll = async (ids: string[]) => {
    for (const id of ids) await s.api('POST', `/api/jobs/${id}/cancel`);
  };

  test("positions follow fair share and FIFO; reorder moves only the owner's own jobs", async () => {
    const b1 = await submit(BOB);
    const b2 = await submit(BOB);
    const c1 = await submit(CAROL);
    const b3 = await submit(BOB);
    // Fair share interleaves bob and carol; bob's own in FIFO order.
    expect(
      [
        await get(b1.id),
        await get(c1.id),
        await get(b2.id),
        await get(b3.id)
      ].map(j => j.position)
    ).toEqual([1, 2, 3, 4]);

    const moved = await s.api<JobView>(
      'POST',
      `/api/jobs/${b3.id}/reorder`,
      { to: 'front' },
      BOB
    );
    expect(moved.status).toBe(200);
    expect(moved.body.position).toBe(1);
    expect((await get(c1.id)).position).toBe(2); // carol's place is untouched
    expect((await get(b1.id)).position).toBe(3);

    const before = await s.api<JobView>(
      'POST',
      `/api/jobs/${b1.id}/reorder`,
      { before: b3.id },
      BOB
    );
    expect(before.body.position).toBe(1);

    const notMine = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${c1.id}/reorder`,
      { to: 'front' },
      BOB
    );
    expect(notMine.status).toBe(404);
    expect(notMine.body.error.code).toBe('unknown_job');
    const bad = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${b1.id}/reorder`,
      { before: c1.id },
      BOB
    );
    expect(bad.status).toBe(409);
    expect(bad.body.error.message).toMatch(/not another of your queued jobs/);
    await cancelAll([b1.id, b2.id, b3.id, c1.id]);
  });

  test('hold keeps a job from starting; release puts it back', async () => {
    const j = await submit(BOB);
    const held = await s.api<JobView>(
      'POST',
      `/api/jobs/${j.id}/hold`,
      undefined,
      BOB
    );
    expect(held.body).toMatchObject({
      held: true,
      position: null,
      eta_seconds: null,
      state: 'queued'
    });
    expect(held.body.eta_basis).toMatch(/held/);
    const released = await s.api<JobView>(
      'POST',
      `/api/jobs/${j.id}/release`,
      undefined,
      BOB
    );
    expect(released.body).toMatchObject({ held: false, position: 1 });
    const running = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${blocker.id}/hold`
    );
    expect(running.status).toBe(409);
    expect(running.body.error.message).toMatch(
      /is running; only a queued job can be held/
    );
    await cancelAll([j.id]);
  });

  test('priority: users up to high, admins any; a higher priority goes first', async () => {
    const a = await submit(BOB);
    const b = await submit(BOB);
    const high = await s.api<JobView>(
      'POST',
      `/api/jobs/${b.id}/priority`,
      { priority: 'high' },
      BOB
    );
    expect(high.body).toMatchObject({ priority: 'high', position: 1 });
    expect((await get(a.id)).position).toBe(2);
    const urgent = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${a.id}/priority`,
      { priority: 'urgent' },
      BOB
    );
    expect(urgent.status).toBe(403);
    expect(urgent.body.error.message).toMatch(
      /Only admins may set priority 'urgent'; you may choose up to 'high'/
    );
    const admin = await s.api<JobView>('POST', `/api/jobs/${a.id}/priority`, {
      priority: 'urgent'
    });
    expect(admin.body.priority).toBe('urgent');
    const invalid = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${a.id}/priority`,
      { priority: 'asap' },
      BOB
    );
    expect(invalid.body.error.code).toBe('invalid_priority');
    await cancelAll([a.id, b.id]);
  });

  test('GET /api/info names the priority classes each caller may choose', async () => {
    type Info = {
      priorities: { classes: string[]; allowed: string[]; default: string };
    };
    const asBob = (await s.api<Info>('GET', '/api/info', undefined, BOB)).body;
    expect(asBob.priorities).toEqual({
      classes: ['low', 'normal', 'high', 'urgent'],
      allowed: ['low', 'normal', 'high'],
      default: 'normal'
    });
    const asAdmin = (await s.api<Info>('GET', '/api/info')).body;
    expect(asAdmin.priorities.allowed).toEqual([
      'low',
      'normal',
      'high',
      'urgent'
    ]);
  });

  test('submit and re-run above the user cap: 403 for users, as the priority route', async () => {
    const before = (
      await s.api<{ jobs: JobView[] }>('GET', '/api/jobs', undefined, BOB)
    ).body.jobs.length;
    const urgent = await s.api<ErrorBody>(
      'POST',
      '/api/jobs',
      { profile: 'cpu', notebook: quick, priority: 'urgent' },
      BOB
    );
    expect(urgent.status).toBe(403);
    expect(urgent.body.error.message).toMatch(
      /Only admins may set priority 'urgent'; you may choose up to 'high'/
    );
    const after = (
      await s.api<{ jobs: JobView[] }>('GET', '/api/jobs', undefined, BOB)
    ).body.jobs.length;
    expect(after).toBe(before);

    // An admin raised bob's job to urgent; bob's re-run of it must come down to his cap.
    const job = await submit(BOB);
    await s.api('POST', `/api/jobs/${job.id}/priority`, { priority: 'urgent' });
    await cancelAll([job.id]);
    const rerun = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${job.id}/rerun`,
      {},
      BOB
    );
    expect(rerun.status).toBe(403);
    const high = await s.api<JobView>(
      'POST',
      `/api/jobs/${job.id}/rerun`,
      { priority: 'high' },
      BOB
    );
    expect(high.status).toBe(201);
    expect(high.body.priority).toBe('high');
    const byAdmin = await s.api<JobView>(
      'POST',
      `/api/jobs/${job.id}/rerun`,
      {}
    );
    expect(byAdmin.body.priority).toBe('urgent');
    await cancelAll([high.body.id, byAdmin.body.id]);
  });

  test('reorder trades places only among jobs of the same priority and hold state', async () => {
    const a = await submit(BOB);
    const b = await submit(BOB, { priority: 'high' });
    const c = await submit(BOB);
    const across = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${c.id}/reorder`,
      { before: b.id },
      BOB
    );
    expect(across.status).toBe(409);
    expect(across.body.error.message).toMatch(
      /reorder moves a job only among your jobs of the same priority \(normal\) and hold state/
    );
    // To the front of bob's normal jobs: still behind his high one.
    const front = await s.api<JobView>(
      'POST',
      `/api/jobs/${c.id}/reorder`,
      { to: 'front' },
      BOB
    );
    expect(front.body.position).toBe(2);
    expect((await get(b.id)).position).toBe(1);
    expect((await get(a.id)).position).toBe(3);
    await cancelAll([a.id, b.id, c.id]);
  });

  test('move to another queue; the profile follows; unknown queues are refused', async () => {
    const j = await submit(BOB);
    const moved = await s.api<JobView>(
      'POST',
      `/api/jobs/${j.id}/move`,
      { queue: 'cpu-long' },
      BOB
    );
    expect(moved.body).toMatchObject({
      queue: 'cpu-long',
      profile: 'cpu',
      position: 1
    });
    const unknown = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${j.id}/move`,
      { queue: 'nope' },
      BOB
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(
      /Queue 'nope' does not exist; choose one of cpu, cpu-long, gpu-1/
    );
    await cancelAll([j.id]);
  });

  test("someone else's job is invisible: 404 on every route, absent from lists", async () => {
    const j = await submit(CAROL);
    for (const [method, route] of [
      ['GET', `/api/jobs/${j.id}`],
      ['POST', `/api/jobs/${j.id}/cancel`],
      ['POST', `/api/jobs/${j.id}/hold`],
      ['POST', `/api/jobs/${j.id}/release`],
      ['POST', `/api/jobs/${j.id}/rerun`],
      ['GET', `/api/jobs/${j.id}/events`],
      ['GET', `/api/jobs/${j.id}/log`],
      ['GET', `/api/jobs/${j.id}/result`]
    ]) {
      const res = await s.api<ErrorBody>(
        method,
        route,
        method === 'POST' ? {} : undefined,
        BOB
      );
      expect([route, res.status]).toEqual([route, 404]);
      expect(res.body.error.message).not.toMatch(/carol/);
    }
    const bobs = (
      await s.api<{ jobs: JobView[] }>('GET', '/api/jobs', undefined, BOB)
    ).body.jobs;
    expect(bobs.find(x => x.id === j.id)).toBeUndefined();
    const all = await s.api<ErrorBody>(
      'GET',
      '/api/jobs?all=1',
      undefined,
      BOB
    );
    expect(all.status).toBe(403);
    const admin = (await s.api<{ jobs: JobView[] }>('GET', '/api/jobs?all=1'))
      .body.jobs;
    expect(admin.find(x => x.id === j.id)?.owner).toBe('carol');
    await cancelAll([j.id]);
  });

  test('over the per-user queued limit a submit is refused with what to do', async () => {
    const mine = [];
    for (let i = 0; i < 4; i++) mine.push(await submit(CAROL));
    const over = await s.api<ErrorBody>(
      'POST',
      '/api/jobs',
      { profile: 'cpu', notebook: quick },
      CAROL
    );
    expect(over.status).toBe(429);
    expect(over.body.error).toEqual({
      code: 'over_limit',
      message:
        'You already have 4 jobs waiting, the most allowed per user (4). Cancel one or wait for some to start.'
    });
    await cancelAll(mine.map(j => j.id));
  });

  test('pagination walks every job once', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await submit(BOB)).id);
    const seen: string[] = [];
    let cursor: number | null = 0;
    while (cursor !== null) {
      const page: { jobs: JobView[]; next_cursor: number | null } = (
        await s.api<{ jobs: JobView[]; next_cursor: number | null }>(
          'GET',
          `/api/jobs?limit=2&cursor=${cursor}`,
          undefined,
          BOB
        )
      ).body;
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs.map(j => j.id));
      cursor = page.next_cursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    await cancelAll(ids);
  });

  test('rerun queues a new job with the same spec, optionally on another profile; log is served', async () => {
    const j = await submit(BOB, { parameters: { x: 1 } });
    await s.api('POST', `/api/jobs/${j.id}/cancel`);
    const again = await s.api<JobView>(
      'POST',
      `/api/jobs/${j.id}/rerun`,
      { profile: 'gpu-1' },
      BOB
    );
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(j.id);
    expect(again.body).toMatchObject({
      profile: 'gpu-1',
      queue: 'gpu-1',
      parameters: { x: 1 },
      name: j.name
    });
    const ended = await waitFor(async () => {
      const job = await get(again.body.id, BOB);
      return ['succeeded', 'failed'].includes(job.state) ? job : undefined;
    }, 'the re-run to finish');
    expect(ended.state).toBe('succeeded');
    const log = await s.api<string>(
      'GET',
      `/api/jobs/${again.body.id}/log`,
      undefined,
      BOB
    );
    expect(log.status).toBe(200);
    expect(String(log.body)).toMatch(/nbqueue/);
    const running = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${blocker.id}/rerun`
    );
    expect(running.status).toBe(409);
  });
});

describe('limits and restarts', () => {
  const sleeper = notebook([
    code('import time\nfor _ in range(3000): time.sleep(0.1)')
  ]);
  const states = async (s: TestSidecar, ids: string[]) =>
    Promise.all(
      ids.map(
        async id => (await s.api<JobView>('GET', `/api/jobs/${id}`)).body.state
      )
    );

  test('a queue with its own capacity and the per-user running limit hold jobs back', async () => {
    const s = await startTestSidecar({
      limits: { max_running_per_user: 2 },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 3 }],
      queues: [
        { name: 'cpu', profile: 'cpu' },
        { name: 'small', profile: 'cpu', capacity: 1 }
      ]
    });
    try {
      const ids: string[] = [];
      for (const queue of ['small', 'small', 'cpu', 'cpu']) {
        ids.push(
          (
            await s.api<JobView>('POST', '/api/jobs', {
              profile: 'cpu',
              queue,
              notebook: sleeper
            })
          ).body.id
        );
      }
      // small: one slot; the user: two running at most, though the pool has three.
      await waitFor(
        async () =>
          (await states(s, ids)).filter(x => x === 'running').length === 2,
        'two running'
      );
      const now = await states(s, ids);
      expect(now[0]).toBe('running');
      expect(now[1]).toBe('queued');
      expect(now.filter(x => x === 'running')).toHaveLength(2);
      for (const id of ids) await s.api('POST', `/api/jobs/${id}/cancel`);
      await waitFor(
        async () => (await states(s, ids)).every(x => x === 'cancelled'),
        'all cancelled'
      );
    } finally {
      await s.close();
    }
  });

  test('order, priorities and holds survive a sidecar restart', async () => {
    const dir = tmpDir();
    const config = {
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }]
    };
    let s = await startTestSidecar(config, dir);
    const quick = notebook([code('1')]);
    const blocker = (
      await s.api<JobView>('POST', '/api/jobs', {
        profile: 'cpu',
        notebook: sleeper
      })
    ).body;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (
          await s.api<JobView>('POST', '/api/jobs', {
            profile: 'cpu',
            notebook: quick
          })
        ).body.id
      );
    await s.api('POST', `/api/jobs/${ids[2]}/reorder`, { to: 'front' });
    await s.api('POST', `/api/jobs/${ids[1]}/hold`);
    await s.api('POST', `/api/jobs/${ids[0]}/priority`, { priority: 'low' });
    const snapshot = async () =>
      Promise.all(
        ids.map(async id => {
          const j = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
          return [j.position, j.held, j.priority];
        })
      );
    const before = await snapshot();
    expect(before).toEqual([
      [2, false, 'low'],
      [null, true, 'normal'],
      [1, false, 'normal']
    ]);
    await s.close();
    s = await startTestSidecar(config, dir);
    try {
      expect(await snapshot()).toEqual(before);
      await s.api('POST', `/api/jobs/${blocker.id}/cancel`);
      for (const id of ids) await s.api('POST', `/api/jobs/${id}/cancel`);
      await waitFor(
        async () =>
          (await s.api<JobView>('GET', `/api/jobs/${blocker.id}`)).body
            .state === 'cancelled',
        'blocker cancelled'
      );
    } finally {
      await s.close();
    }
  });
});
