import type { JobView } from '../src/jobs/types';
import { BOB, blockedQueue, CAROL, ErrorBody, quick } from './blockedQueue';
import { TestSidecar, waitFor } from './helpers';

/**
 * What each user may choose, see and do: priority classes, someone else's jobs, the queued
 * limit, listing, re-run and log.
 */
describe('queue users', () => {
  const queue = blockedQueue();
  const { submit, get, cancelAll } = queue;
  let s: TestSidecar;
  let blocker: JobView;
  beforeAll(() => {
    s = queue.sidecar();
    blocker = queue.blocker();
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
