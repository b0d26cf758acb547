/**
 * Bounded storage on a real sidecar and its real SQLite store: retention by age and per-user
 * size, the periodic sweep (its clock and timer given), the admins' prune and backup, and the
 * usage each user sees.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { JobView } from '../src/jobs/types';
import { Retention, RetentionSettings } from '../src/retention/service';
import { RetentionSweep } from '../src/retention/sweep';
import {
  cli,
  code,
  notebook,
  PYTHON,
  REPO,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const BOB = 'bob-token-0123456789abcdef';
const DAY = 24 * 3600 * 1000;
const FINAL = ['succeeded', 'failed', 'cancelled'];

describe('retention, prune, backup and usage', () => {
  let s: TestSidecar;
  let filesDir: string;
  const asAlice = () => ({ NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token });
  const asBob = () => ({ NBQUEUE_URL: s.url, NBQUEUE_TOKEN: BOB });

  beforeAll(async () => {
    s = await startTestSidecar({
      auth: { users: [{ token: BOB, user: 'bob' }] },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
    filesDir = path.join(s.dir, 'files');
  });
  afterAll(() => s.close());

  const submit = async (
    token: string,
    source = 'print("hi")',
    extra: Record<string, unknown> = {}
  ): Promise<string> => {
    const r = await s.api<JobView>(
      'POST',
      '/api/jobs',
      { notebook: notebook([code(source)]), profile: 'cpu', ...extra },
      token
    );
    expect(r.status).toBe(201);
    return r.body.id;
  };
  const ended = (id: string) =>
    waitFor(() => {
      const job = s.store.getJob(id);
      return job && FINAL.includes(job.state) ? job : null;
    }, `job ${id} to end`);
  /** Makes a finished job look as if it ended `days` ago (and keeps the order of ends). */
  const endedAgo = (id: string, days: number) =>
    s.store.updateJob(id, {
      finished_at: new Date(Date.now() - days * DAY).toISOString()
    });
  const exists = (id: string) => s.store.getJob(id) !== undefined;
  const retention = (
    settings: Partial<RetentionSettings>,
    now = () => new Date(),
    log: string[] = []
  ) =>
    new Retention({
      table: s.store.retention,
      settings: {
        days: null,
        max_bytes_per_user: null,
        batch_size: 2,
        ...settings
      },
      filesDir,
      logDir: path.join(s.dir, 'logs'),
      now,
      log: m => log.push(m)
    });

  /** A finished job of bob's with an input bundle, an output archive, a folder and a log. */
  async function jobWithFiles(): Promise<{ id: string; paths: string[] }> {
    const project = tmpDir('nbq-project-');
    fs.writeFileSync(path.join(project, 'input.txt'), 'hello');
    const archive = path.join(tmpDir('nbq-bundle-'), 'b.tar.gz');
    execFileSync(
      PYTHON,
      [
        '-c',
        `import sys
from nbqueue.files import build_manifest, write_bundle
m = build_manifest(sys.argv[1], 1 << 20)
with open(sys.argv[2], "wb") as f:
    write_bundle(m.root, [p for p, _ in m.files], f)`,
        project,
        archive
      ],
      { env: { ...process.env, PYTHONPATH: path.join(REPO, 'runner-image') } }
    );
    const res = await fetch(`${s.url}/api/files/bundles`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${BOB}`,
        'Content-Type': 'application/gzip'
      },
      body: new Uint8Array(fs.readFileSync(archive))
    });
    expect(res.status).toBe(201);
    const { id: bundle } = (await res.json()) as { id: string };
    const id = await submit(
      BOB,
      "import nbqueue; nbqueue.log_metric('loss', 0.5, step=1)\nopen('out.txt', 'w').write(open('input.txt').read() * 100)",
      { input_bundle: bundle }
    );
    expect((await ended(id)).state).toBe('succeeded');
    // A checkpoint in the job's own folder, as the runner's checkpoints are kept.
    fs.mkdirSync(path.join(filesDir, 'jobs', id, 'ckpt'), { recursive: true });
    fs.writeFileSync(path.join(filesDir, 'jobs', id, 'ckpt', 'a.bin'), 'x');
    const paths = [
      path.join(filesDir, 'inputs', `${bundle}.tar.gz`),
      path.join(filesDir, 'outputs', `${id}.tar.gz`),
      path.join(filesDir, 'jobs', id),
      path.join(s.dir, 'logs', `${id}.log`)
    ];
    for (const p of paths) expect([p, fs.existsSync(p)]).toEqual([p, true]);
    return { id, paths };
  }

  test('retention.days deletes old finished jobs with their rows and files; keeps active and recent ones', async () => {
    const old = await jobWithFiles();
    const recent = await submit(BOB);
    await ended(recent);
    // Running, queued and held jobs, even with an old end on record: never deleted.
    const sleep = 'import time; time.sleep(60)';
    const running = [await submit(BOB, sleep), await submit(BOB, sleep)];
    for (const id of running)
      await waitFor(() => s.store.getJob(id)?.state === 'running', 'a run');
    const queued = await submit(BOB);
    const held = await submit(BOB);
    expect(
      (await s.api('POST', `/api/jobs/${held}/hold`, undefined, BOB)).status
    ).toBe(200);
    for (const id of [old.id, ...running, queued, held]) endedAgo(id, 40);
    endedAgo(recent, 5);
    expect(s.store.listEvents(old.id, 0, 1000).length).toBeGreaterThan(0);
    expect(s.store.metrics.list(old.id).length).toBeGreaterThan(0);

    const log: string[] = [];
    const removed = await retention({ days: 30 }, undefined, log).sweep();
    expect(removed).toEqual([old.id]);
    expect(exists(old.id)).toBe(false);
    expect(s.store.listEvents(old.id, 0, 1000)).toEqual([]);
    expect(s.store.getResult(old.id)).toBeUndefined();
    expect(s.store.metrics.list(old.id)).toEqual([]);
    for (const p of old.paths)
      expect([p, fs.existsSync(p)]).toEqual([p, false]);
    expect(log.join('\n')).toMatch(
      new RegExp(`deleted 1 finished job\\(s\\).*${old.id}`)
    );
    expect(
      (await s.api('GET', `/api/jobs/${old.id}`, undefined, BOB)).status
    ).toBe(404);
    for (const kept of [recent, ...running, queued, held])
      expect([kept, exists(kept)]).toEqual([kept, true]);

    for (const id of [held, queued, ...running]) {
      await s.api('POST', `/api/jobs/${id}/cancel`, undefined, BOB);
      await ended(id);
    }
  });

  test('max_bytes_per_user deletes the oldest finished jobs until the user is under', async () => {
    // alice's job, older than all of bob's: bob's cap is not hers to pay for.
    const alices = await submit(s.token);
    await ended(alices);
    endedAgo(alices, 20);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push(await submit(BOB));
    for (const id of ids) await ended(id);
    ids.forEach((id, i) => endedAgo(id, 10 - i)); // ids[0] ended first
    const bob = { user: 'bob', admin: false };
    const before = retention({}).usage(bob).user.bytes;
    const sizes = retention({ days: 0.000001 })
      .plan({ user: 'bob' })
      .filter(j => ids.includes(j.id));
    expect(sizes.map(j => j.id)).toEqual(ids);
    // Half a job above what bob holds without his two oldest (a runner log still being written
    // may add a little meanwhile): those two go, the newest stays.
    const cap =
      before - sizes[0].bytes - sizes[1].bytes + Math.floor(sizes[2].bytes / 2);
    const gone = await retention({ max_bytes_per_user: cap }).sweep();
    expect(gone.filter(id => ids.includes(id))).toEqual([ids[0], ids[1]]);
    expect(ids.map(exists)).toEqual([false, false, true]);
    expect(retention({}).usage(bob).user.bytes).toBeLessThanOrEqual(cap);
    expect(exists(alices)).toBe(true);
  });

  test("a running pipeline's step jobs stay; once it ended they go, and the pipeline and the schedule keep their history", async () => {
    type Pipeline = {
      id: string;
      state: string;
      steps: { job_id: string | null; state: string }[];
    };
    const created = await s.api<Pipeline>(
      'POST',
      '/api/pipelines',
      {
        name: 'kept',
        steps: [
          { name: 'one', profile: 'cpu', notebook: notebook([code('1')]) },
          {
            name: 'two',
            after: ['one'],
            profile: 'cpu',
            notebook: notebook([code('import time; time.sleep(60)')])
          }
        ]
      },
      BOB
    );
    expect(created.status).toBe(201);
    const pipeline = () =>
      s.api<Pipeline>(
        'GET',
        `/api/pipelines/${created.body.id}`,
        undefined,
        BOB
      );
    const running = await waitFor(async () => {
      const p = (await pipeline()).body;
      return p.steps[1].state === 'running' ? p : null;
    }, 'step two to run');
    const first = running.steps[0].job_id as string;
    endedAgo(first, 40);
    expect(await retention({ days: 30 }).sweep()).not.toContain(first);
    expect(exists(first)).toBe(true);

    await s.api(
      'POST',
      `/api/pipelines/${created.body.id}/cancel`,
      undefined,
      BOB
    );
    await waitFor(
      async () => (await pipeline()).body.state === 'cancelled',
      'the pipeline to end'
    );
    await ended(running.steps[1].job_id as string);
    expect(await retention({ days: 30 }).sweep()).toContain(first);
    const after = await pipeline();
    expect(after.status).toBe(200);
    expect(after.body.steps.map(st => [st.state, st.job_id])).toEqual([
      ['succeeded', null],
      ['cancelled', running.steps[1].job_id]
    ]);

    const schedule = await s.api<{ id: string }>(
      'POST',
      '/api/schedules',
      {
        cron: '0 3 1 1 *',
        job: { profile: 'cpu', notebook: notebook([code('1')]) }
      },
      BOB
    );
    const fired = await s.api<{ job: { id: string } }>(
      'POST',
      `/api/schedules/${schedule.body.id}/run-now`,
      undefined,
      BOB
    );
    await ended(fired.body.job.id);
    endedAgo(fired.body.job.id, 40);
    expect(await retention({ days: 30 }).sweep()).toContain(fired.body.job.id);
    const kept = await s.api<{ last_job_id: string | null }>(
      'GET',
      `/api/schedules/${schedule.body.id}`,
      undefined,
      BOB
    );
    expect([kept.status, kept.body.last_job_id]).toEqual([200, null]);
  });

  test('the sweep runs at start and then every interval, with the clock it is given', async () => {
    const a = await submit(BOB);
    const b = await submit(BOB);
    await ended(a);
    await ended(b);
    const t0 = Date.now();
    s.store.updateJob(a, { finished_at: new Date(t0 - 2 * DAY).toISOString() });
    s.store.updateJob(b, { finished_at: new Date(t0).toISOString() });
    let now = new Date(t0);
    const timers: { fn: () => void; ms: number }[] = [];
    const log: string[] = [];
    const sweep = new RetentionSweep({
      retention: retention({ days: 1 }, () => now, log),
      intervalMs: 3600 * 1000,
      timer: {
        set: (fn, ms) => timers.push({ fn, ms }),
        clear: () => undefined
      }
    });
    sweep.start();
    expect(timers.map(t => t.ms)).toEqual([0]);
    timers.shift()?.fn();
    await waitFor(() => timers.length === 1, 'the next sweep to be set');
    expect(timers[0].ms).toBe(3600 * 1000);
    expect([exists(a), exists(b)]).toEqual([false, true]);
    // A day and a half later, b is old too.
    now = new Date(t0 + 1.5 * DAY);
    timers.shift()?.fn();
    await waitFor(() => !exists(b), 'the second sweep to delete b');
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(new RegExp(`nbqueue retention: deleted .*${a}`));
    expect(log[0]).not.toMatch(b);
    expect(log[1]).toMatch(b);
    await sweep.stop();
  });

  test('nbqueue prune: a dry run lists and changes nothing, --yes deletes, non-admins are refused', async () => {
    const old = await submit(BOB);
    const young = await submit(BOB);
    await ended(old);
    await ended(young);
    endedAgo(old, 20);

    const dry = await cli(
      ['prune', '--older-than', '10', '--user', 'bob'],
      asAlice()
    );
    expect([dry.code, dry.stderr]).toEqual([0, '']);
    expect(dry.stdout).toMatch(new RegExp(`${old}\\s+bob\\s+succeeded`));
    expect(dry.stdout).not.toMatch(young);
    expect(dry.stdout).toMatch(/Would delete 1 job, freeing about .*--yes/);
    expect(exists(old)).toBe(true);

    const none = await cli(
      ['prune', '--older-than', '10', '--user', 'alice'],
      asAlice()
    );
    expect(none.stdout).toBe('No finished jobs to prune.\n');

    const refused = await cli(
      ['prune', '--older-than', '10', '--yes'],
      asBob()
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Only admins may prune jobs/);
    const rest = await s.api<{ error: { code: string } }>(
      'POST',
      '/api/admin/prune',
      { older_than_days: 10, dry_run: false },
      BOB
    );
    expect([rest.status, rest.body.error.code]).toEqual([403, 'forbidden']);
    expect(exists(old)).toBe(true);

    const nothing = await cli(['prune'], asAlice());
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(
      /give "older_than_days" \(`nbqueue prune --older-than DAYS`\); no retention\.days/
    );

    const yes = await cli(
      ['prune', '--older-than', '10', '--user', 'bob', '--yes', '--json'],
      asAlice()
    );
    expect(yes.code).toBe(0);
    const answer = JSON.parse(yes.stdout) as {
      dry_run: boolean;
      jobs: { id: string }[];
      bytes: number;
    };
    expect(answer.dry_run).toBe(false);
    expect(answer.jobs.map(j => j.id)).toEqual([old]);
    expect(answer.bytes).toBeGreaterThan(0);
    expect([exists(old), exists(young)]).toEqual([false, true]);
  });

  test('usage: each user sees their own, an admin everyone; nbqueue queues shows it', async () => {
    await ended(await submit(BOB));
    await ended(await submit(s.token));
    type Usage = {
      user: { user: string; jobs: number; bytes: number };
      users: { user: string; bytes: number }[];
    };
    const bob = (await s.api<Usage>('GET', '/api/usage', undefined, BOB)).body;
    expect(bob.user.user).toBe('bob');
    expect(bob.user.bytes).toBeGreaterThan(0);
    expect(bob.users.map(u => u.user)).toEqual(['bob']);
    const admin = (await s.api<Usage>('GET', '/api/usage')).body;
    expect(admin.user.user).toBe('alice');
    expect(admin.users.map(u => u.user).sort()).toEqual(['alice', 'bob']);
    expect(admin.users.find(u => u.user === 'bob')?.bytes).toBe(bob.user.bytes);

    const mine = await cli(['queues'], asBob());
    expect(mine.stdout).toMatch(
      /\n\nYour jobs use [0-9.]+ (B|KB|MB) \([0-9]+ jobs?\)\.\n$/
    );
    expect(mine.stdout).not.toMatch(/alice/);
    const all = await cli(['queues'], asAlice());
    expect(all.stdout).toMatch(/USER\s+JOBS\s+SIZE/);
    expect(all.stdout).toMatch(/\nbob\s+[0-9]+\s+/);
  });

  test('nbqueue backup: a consistent copy made while jobs are submitted holds the jobs', async () => {
    const refused = await cli(['backup', path.join(tmpDir(), 'x.db')], asBob());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Only admins may back up the store/);

    const before = s.store.listJobs().map(j => j.id);
    const out = path.join(tmpDir('nbq-backup-'), 'copy.db');
    let submitting = true;
    const submitted: string[] = [];
    const writer = (async () => {
      while (submitting && submitted.length < 200)
        submitted.push(await submit(s.token, 'print(1)', { priority: 'low' }));
    })();
    await waitFor(() => submitted.length >= 3, 'submits to be under way');
    const backup = await cli(['backup', out], asAlice());
    submitting = false;
    await writer;
    expect([backup.code, backup.stderr]).toEqual([0, '']);
    expect(backup.stdout).toMatch(/Backed up the store to .*copy\.db/);
    expect(fs.existsSync(`${out}.partial`)).toBe(false);
    expect(submitted.length).toBeGreaterThanOrEqual(3);

    const copy = new Database(out, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const ids = new Set(
        (copy.prepare('SELECT id FROM jobs').all() as { id: string }[]).map(
          r => r.id
        )
      );
      for (const id of [...before, ...submitted.slice(0, 3)])
        expect([id, ids.has(id)]).toEqual([id, true]);
    } finally {
      copy.close();
    }
    // The copy made on the sidecar's side is gone once sent.
    expect(
      fs
        .readdirSync(path.join(filesDir, 'tmp'))
        .filter(f => f.startsWith('backup-'))
    ).toEqual([]);
    // Not run: cancelled (the sidecar's close stops what started).
    for (const id of submitted) await s.api('POST', `/api/jobs/${id}/cancel`);
  });
});
