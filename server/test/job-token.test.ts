import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  waitFor
} from './helpers';

/**
 * A job's token is its runner's credential while it runs, and nothing after: a job that leaked
 * it (here it reads its runner's environment and prints it) cannot replace its result, post
 * events or output files once it ended.
 */
describe('job tokens end with the job', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar();
  });
  afterAll(async () => {
    await s.close();
  });

  test('a finished job token is refused on every runner route', async () => {
    const sub = await s.api<JobView>('POST', '/api/jobs', {
      notebook: notebook([
        // The kernel does not have the token; its parent, the runner, does (same OS user).
        code(
          "import os\nenv = open(f'/proc/{os.getppid()}/environ', 'rb').read().split(b'\\0')\n" +
            "print([v.split(b'=', 1)[1].decode() for v in env if v.startswith(b'NBQUEUE_JOB_TOKEN=')][0])"
        )
      ]),
      profile: 'cpu'
    });
    expect(sub.status).toBe(201);
    const id = sub.body.id;
    const done = await waitFor(async () => {
      const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
      return ['succeeded', 'failed', 'cancelled'].includes(job.state)
        ? job
        : null;
    }, 'the job to end');
    expect(done.state).toBe('succeeded');
    const result = await s.api<{ cells: { outputs: { text: string }[] }[] }>(
      'GET',
      `/api/jobs/${id}/result`
    );
    const leaked = result.body.cells[0].outputs[0].text.trim();
    expect(leaked.length).toBeGreaterThan(20);

    const asRunner = (method: string, route: string, body?: unknown) =>
      s.api<{ error: { code: string } }>(method, route, body, leaked);
    const forged = {
      state: 'failed',
      reason: 'replaced',
      notebook: notebook([code('print("forged")')])
    };
    const answers = await Promise.all([
      asRunner('GET', `/api/runner/jobs/${id}`),
      asRunner('POST', `/api/runner/jobs/${id}/events`, {
        events: [{ seq: 999, type: 'log', level: 'info', message: 'late' }]
      }),
      asRunner('POST', `/api/runner/jobs/${id}/finish`, forged),
      asRunner('GET', `/api/runner/jobs/${id}/files`),
      asRunner('PUT', `/api/runner/jobs/${id}/files/output`, {})
    ]);
    expect(answers.map(a => a.status)).toEqual([401, 401, 401, 401, 401]);

    const after = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
    expect(after.state).toBe('succeeded');
    expect(after.reason).toBeNull();
    const kept = await s.api<{ cells: { outputs: { text: string }[] }[] }>(
      'GET',
      `/api/jobs/${id}/result`
    );
    expect(kept.body.cells[0].outputs[0].text.trim()).toBe(leaked);
  });
});
