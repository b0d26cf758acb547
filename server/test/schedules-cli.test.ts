/** The `nbqueue schedule` commands against a real sidecar (the REST side: schedules-api.test.ts). */
import * as fs from 'fs';
import * as path from 'path';
import type { JobView } from '../src/jobs/types';
import type { ScheduleView } from '../src/api/contract/schedules';
import {
  cli,
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const BOB = 'bob-token-0123456789abcdef';

describe('nbqueue schedule', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({
      auth: {
        users: [{ token: BOB, user: 'bob', admin: false }]
      },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
  });
  afterAll(() => s.close());

  test('the CLI creates and lists a schedule', async () => {
    expect(
      fs.existsSync(path.join(__dirname, '..', 'dist', 'cli', 'main.js'))
    ).toBe(true);
    const dir = tmpDir();
    const file = path.join(dir, 'report.ipynb');
    fs.writeFileSync(file, JSON.stringify(notebook([code('print(1)')])));
    const env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: BOB };
    const created = await cli(
      [
        'schedule',
        'create',
        file,
        '--cron',
        '0 3 * * *',
        '--tz',
        'Europe/Berlin',
        '-p',
        'day={{ date }}',
        '--overlap',
        'queue',
        '--json'
      ],
      env
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const sched = JSON.parse(created.stdout) as ScheduleView;
    expect(sched).toMatchObject({
      owner: 'bob',
      name: 'report.ipynb',
      overlap: 'queue',
      description: 'every day at 03:00 Europe/Berlin'
    });
    const list = await cli(['schedule', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${sched.id}\\s+report\\.ipynb\\s+bob\\s+every day at 03:00 Europe/Berlin`,
        'm'
      )
    );
    const bad = await cli(
      ['schedule', 'create', file, '--cron', '0 3 * *'],
      env
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"cron": '0 3 \* \*' has 4 fields/);
    const deleted = await cli(['schedule', 'delete', sched.id], env);
    expect(deleted.stdout).toBe(`${sched.id} deleted\n`);
  });

  test('the CLI schedules a pipeline file; run-now starts it with the firing date in each step', async () => {
    const dir = tmpDir();
    const step = notebook([
      code('day = "?"', { metadata: { tags: ['parameters'] } }),
      code('print(day)')
    ]);
    fs.writeFileSync(path.join(dir, 'a.ipynb'), JSON.stringify(step));
    fs.writeFileSync(path.join(dir, 'b.ipynb'), JSON.stringify(step));
    const file = path.join(dir, 'nightly.yaml');
    fs.writeFileSync(
      file,
      [
        'name: nightly',
        'steps:',
        '  - {name: a, notebook: a.ipynb, profile: cpu}',
        '  - {name: b, notebook: b.ipynb, profile: cpu}',
        ''
      ].join('\n')
    );
    const env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: BOB };
    const created = await cli(
      [
        'schedule',
        'create',
        file,
        '--cron',
        '30 2 * * *',
        '-p',
        'day={{ date }}',
        '--json'
      ],
      env
    );
    expect(created.stderr).toBe('');
    const sched = JSON.parse(created.stdout) as ScheduleView;
    expect(sched).toMatchObject({ kind: 'pipeline', name: 'nightly' });
    const fired = await cli(['schedule', 'run-now', sched.id], env);
    expect(fired.code).toBe(0);
    const id = /pipeline (p-\w+) started/.exec(fired.stdout)?.[1];
    expect(id).toBeDefined();
    const done = await waitFor(
      async () => {
        const p = await s.api<{
          state: string;
          steps: Array<{ job_id: string }>;
        }>('GET', `/api/pipelines/${id}`, undefined, BOB);
        return p.body.state === 'succeeded' ? p.body : null;
      },
      'the pipeline to succeed',
      90000
    );
    const today = new Date().toISOString().slice(0, 10);
    for (const { job_id } of done.steps) {
      const job = await s.api<JobView>(
        'GET',
        `/api/jobs/${job_id}`,
        undefined,
        BOB
      );
      expect(job.body.parameters).toEqual({ day: today });
    }
  }, 120000);
});
