import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  waitFor
} from './helpers';

export type ErrorBody = { error: { code: string; message: string } };

export const BOB = 'bob-token-0123456789abcdef';
export const CAROL = 'carol-token-0123456789abcd';

/** A notebook that ends at once. */
export const quick = notebook([code('1')]);

/**
 * Queue operations against a real sidecar. One slot on `cpu`, filled by a job that sleeps,
 * keeps everything else queued; alice (the sidecar token, admin) and bob and carol (not admins).
 * Called inside a describe: the sidecar starts before its tests and stops after them.
 */
export function blockedQueue() {
  let s: TestSidecar;
  let blocker: JobView;
  const sleeper = notebook([
    code('import time\nfor _ in range(3000): time.sleep(0.1)')
  ]);

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

  return {
    sidecar: () => s,
    blocker: () => blocker,
    submit,
    get,
    cancelAll
  };
}
