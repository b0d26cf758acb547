import * as fs from 'fs';
import * as path from 'path';
import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor,
  cli
} from './helpers';

const BOB = 'bob-token-0123456789abcdef';

/** The CLI's queue commands as a non-admin (bob) and as the admin (alice): same rules as REST. */
describe('nbqueue CLI: queue rules for users and admins', () => {
  let s: TestSidecar;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let quick: string;
  beforeAll(async () => {
    s = await startTestSidecar({
      auth: { users: [{ token: BOB, user: 'bob' }] },
      profiles: [
        { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 },
        { name: 'gpu-1', cpus: 1, gpus: 1, memory: '1Gi', capacity: 1 }
      ]
    });
    alice = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    bob = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: BOB };
    quick = path.join(tmpDir(), 'quick.ipynb');
    fs.writeFileSync(quick, JSON.stringify(notebook([code('print("hi")')])));
  });
  afterAll(() => s.close());

  const submit = async (env: Record<string, string>): Promise<JobView> => {
    const r = await cli(['submit', quick, '--json'], env);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as JobView;
  };

  test('logs --follow prints the runner log until the job ends; rerun --profile', async () => {
    const job = await submit(bob);
    const follow = await cli(['logs', job.id, '--follow'], bob);
    expect([follow.code, follow.stderr]).toEqual([0, '']);
    expect(follow.stdout).toMatch(/nbqueue/);
    const ended = (await s.api<JobView>('GET', `/api/jobs/${job.id}`)).body;
    expect(ended.state).toBe('succeeded');

    const again = await cli(
      ['rerun', job.id, '--profile', 'gpu-1', '--json'],
      bob
    );
    expect(again.code).toBe(0);
    const rerun = JSON.parse(again.stdout) as JobView;
    expect(rerun).toMatchObject({ profile: 'gpu-1', queue: 'gpu-1' });
    const unknown = await cli(['rerun', job.id, '--profile', 'gpu-9'], bob);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Profile 'gpu-9' does not exist/);
    await waitFor(
      async () =>
        (await s.api<JobView>('GET', `/api/jobs/${rerun.id}`)).body.state ===
        'succeeded',
      'the re-run to finish'
    );
  });

  test("refusals print the server's message and exit 1: --all, urgent, someone else's job, wrong state", async () => {
    const all = await cli(['jobs', '--all'], bob);
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/Only admins may list everyone's jobs/);

    const mine = await submit(alice);
    const hidden = await cli(['hold', mine.id], bob);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(new RegExp(`There is no job '${mine.id}'`));

    const everyone = await cli(['jobs', '--all', '--json'], alice);
    expect(everyone.code).toBe(0);
    const owners = new Set(
      (JSON.parse(everyone.stdout) as JobView[]).map(j => j.owner)
    );
    expect([...owners].sort()).toEqual(['alice', 'bob']);

    await waitFor(
      async () =>
        (await s.api<JobView>('GET', `/api/jobs/${mine.id}`)).body.state ===
        'succeeded',
      'the job to finish'
    );
    const late = await cli(['hold', mine.id], alice);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/only a queued job can be held/);

    const again = await cli(['rerun', mine.id, '--json'], alice);
    const queued = JSON.parse(again.stdout) as JobView;
    // Bob may go up to high, not urgent; the admin may set urgent.
    const own = await submit(bob);
    const urgent = await cli(['priority', own.id, 'urgent'], bob);
    expect(urgent.code).toBe(1);
    expect(urgent.stderr).toMatch(/Only admins may set priority 'urgent'/);
    // The admin cancels anyone's job; one that already ended (they are short) is refused
    // with the server's sentence.
    for (const id of [own.id, queued.id]) {
      const r = await cli(['cancel', id], alice);
      if (r.code !== 0)
        expect([r.code, r.stderr]).toEqual([
          1,
          expect.stringMatching(
            /already ended succeeded; there is nothing to cancel/
          )
        ]);
      await waitFor(
        async () =>
          ['cancelled', 'succeeded'].includes(
            (await s.api<JobView>('GET', `/api/jobs/${id}`)).body.state
          ),
        `job ${id} to end`
      );
    }
  });
});
