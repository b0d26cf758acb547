/**
 * backend.local.warm_kernels on the real sidecar and runners: the next job of a (profile,
 * interpreter, user) takes a runner whose kernel already runs; it is used once and replaced,
 * never handed to another user's job, gives the job what a cold start gives, and is stopped
 * with the sidecar.
 */
import type { LocalBackend } from '../src/backends/local';
import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  waitFor
} from './helpers';

const BOB = 'bob-token-0123456789abcdef';

/** What the notebook sees of its start, less what each job has its own of: its runner's pid
 * (JPY_PARENT_PID), its id, its checkpoint channel (a new socket per runner). */
const SEEN =
  'import json, os, sys\n' +
  "own = ('JPY_PARENT_PID', 'NBQUEUE_JOB_ID', 'NBQUEUE_CHECKPOINT_SOCKET')\n" +
  'env = {k: v for k, v in os.environ.items() if k not in own}\n' +
  "print(json.dumps({'job': os.environ['NBQUEUE_JOB_ID'], 'env': env, 'cwd': os.getcwd(), 'path': sys.path}))";

type Seen = {
  job: string;
  env: Record<string, string>;
  cwd: string;
  path: string[];
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('warm kernels on the local backend', () => {
  let s: TestSidecar;
  let backend: LocalBackend;
  let closed = false;

  beforeAll(async () => {
    s = await startTestSidecar({
      auth: { users: [{ user: 'bob', token: BOB }] },
      backend: { local: { warm_kernels: true } }
    });
    backend = s.jobs.backend as LocalBackend;
  });

  afterAll(async () => {
    if (!closed) await s?.close();
  });

  /** Runs SEEN as the token's user: what it printed and the pid its runner had. */
  async function run(token?: string): Promise<{ seen: Seen; pid: number }> {
    const sub = await s.api<JobView>(
      'POST',
      '/api/jobs',
      { notebook: notebook([code(SEEN)]), profile: 'cpu', cwd: s.dir },
      token
    );
    expect(sub.status).toBe(201);
    const id = sub.body.id;
    const done = await waitFor(async () => {
      const job = (
        await s.api<JobView>('GET', `/api/jobs/${id}`, undefined, token)
      ).body;
      return ['succeeded', 'failed', 'cancelled'].includes(job.state)
        ? job
        : null;
    }, 'the job to end');
    expect(done.reason).toBeNull();
    const result = await s.api<{ cells: { outputs: { text?: string }[] }[] }>(
      'GET',
      `/api/jobs/${id}/result`,
      undefined,
      token
    );
    const seen = JSON.parse(
      result.body.cells[0].outputs.map(o => o.text ?? '').join('')
    );
    expect(seen.job).toBe(id);
    const pid = s.store.getJob(id)?.backend_ref?.pid as number;
    return { seen, pid };
  }

  test('used once by the same user, replaced, never by another user; as a cold start', async () => {
    // Alice's first job starts cold; once its runner ended, a warm one waits for her next.
    const cold = await run();
    const [aliceWarm] = await waitFor(() => {
      const pids = backend.warm?.pids() ?? [];
      return pids.length === 1 ? pids : null;
    }, "alice's warm runner");
    expect(aliceWarm).not.toBe(cold.pid);

    // Bob's job never takes alice's warm runner: it starts its own.
    const bob = await run(BOB);
    expect(bob.pid).not.toBe(aliceWarm);
    expect(backend.warm?.pids()).toContain(aliceWarm);

    // Alice's next job does, and sees what her cold one saw.
    const warm = await run();
    expect(warm.pid).toBe(aliceWarm);
    expect(warm.seen.env).toEqual(cold.seen.env);
    expect(warm.seen.cwd).toBe(cold.seen.cwd);
    expect(warm.seen.path).toEqual(cold.seen.path);
    expect(warm.seen.env.NBQUEUE_JOB_TOKEN).toBeUndefined();

    // Used once: a new one replaces it (alice's and bob's wait now), never the same process.
    const after = await waitFor(() => {
      const pids = backend.warm?.pids() ?? [];
      return pids.length === 2 && !pids.includes(aliceWarm) ? pids : null;
    }, 'the replacement warm runners');
    expect(alive(aliceWarm)).toBe(false);

    // Stopped with the sidecar.
    closed = true;
    await s.close();
    await waitFor(
      () => after.every(pid => !alive(pid)),
      'the warm runners to stop'
    );
  });
});
