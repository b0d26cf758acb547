import { io } from 'socket.io-client';
import type { JobView } from '../src/jobs/types';
import { BOB, blockedQueue, CAROL, ErrorBody, quick } from './blockedQueue';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

/**
 * How the queue orders jobs and holds them back: fair share, reorder, hold, priority, move;
 * then capacity limits, and all of it across a restart.
 */
describe('queue order', () => {
  const queue = blockedQueue();
  const { submit, get, cancelAll } = queue;
  let s: TestSidecar;
  let blocker: JobView;
  beforeAll(() => {
    s = queue.sidecar();
    blocker = queue.blocker();
  });

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

  test('submits at once are each committed and answered; a connected client hears positions move', async () => {
    // Five at once by bob (limit 4): stored together, the limit counting those not yet committed.
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        s.api<JobView>(
          'POST',
          '/api/jobs',
          { profile: 'cpu', notebook: quick },
          BOB
        )
      )
    );
    expect(answers.map(a => a.status).sort()).toEqual([
      201, 201, 201, 201, 429
    ]);
    const mine = answers.filter(a => a.status === 201).map(a => a.body);
    // Each answer's position is the one the queue has (all four committed by then).
    expect(mine.map(j => j.position).sort()).toEqual([1, 2, 3, 4]);
    for (const j of mine) expect((await get(j.id)).position).toBe(j.position);

    const heard = new Map<string, number | null>();
    const socket = io(s.url, {
      auth: { token: s.token },
      transports: ['websocket']
    });
    socket.on('job', (job: JobView) => heard.set(job.id, job.position));
    await waitFor(
      async () => socket.connected || undefined,
      'the socket to connect'
    );
    const first = mine.find(j => j.position === 1) as JobView;
    // A high-priority job goes ahead of bob's four: each moves one place back, sent live.
    const high = await submit(CAROL, { priority: 'high' });
    expect(high.position).toBe(1);
    await waitFor(
      async () => heard.get(first.id) === 2 || undefined,
      "the first job's new position over the socket"
    );
    socket.close();
    await cancelAll([...mine.map(j => j.id), high.id]);
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
