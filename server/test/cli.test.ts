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

describe('nbqueue CLI against a real sidecar', () => {
  let s: TestSidecar;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    expect(
      fs.existsSync(path.join(__dirname, '..', 'dist', 'cli', 'main.js'))
    ).toBe(true);
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
    env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    dir = tmpDir();
  });
  afterAll(() => s.close());

  const write = (name: string, cells: Record<string, unknown>[]): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(notebook(cells)));
    return file;
  };

  test('submit --follow prints outputs as they arrive and exits 0 on success', async () => {
    const file = write('ok.ipynb', [
      code('steps = 1', { metadata: { tags: ['parameters'] } }),
      code('for i in range(steps): print("step", i)')
    ]);
    const r = await cli(
      ['submit', file, '--profile', 'cpu', '-p', 'steps=3', '--follow'],
      env
    );
    expect(r.stdout).toBe('step 0\nstep 1\nstep 2\n');
    expect(r.stderr).toMatch(/succeeded/);
    expect(r.code).toBe(0);
  });

  test('submit --follow exits non-zero with the reason when the job fails', async () => {
    const file = write('bad.ipynb', [
      code('raise ValueError("bad input data")')
    ]);
    const r = await cli(['submit', file, '--follow'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed: .*ValueError: bad input data/);
  });

  test('jobs --json, result -o and cancel', async () => {
    const list = await cli(['jobs', '--json'], env);
    expect(list.code).toBe(0);
    const jobs = JSON.parse(list.stdout) as JobView[];
    const ok = jobs.find(j => j.name.startsWith('ok.ipynb'));
    expect(ok?.state).toBe('succeeded');
    const out = path.join(dir, 'result.ipynb');
    const res = await cli(['result', ok?.id as string, '-o', out], env);
    expect(res.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain('step 2');
    const human = await cli(['jobs'], env);
    expect(human.stdout).toMatch(/^ID\s+NAME\s+OWNER\s+QUEUE/);
    const cancel = await cli(['cancel', ok?.id as string], env);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/already ended succeeded/);
  });

  test('bad input is explained: unknown profile, missing file, bad parameter, no sidecar', async () => {
    const file = write('x.ipynb', [code('1')]);
    const profile = await cli(['submit', file, '--profile', 'gpu-3'], env);
    expect(profile.code).toBe(1);
    expect(profile.stderr).toMatch(
      /Profile 'gpu-3' does not exist; choose one of cpu/
    );
    const missing = await cli(['submit', path.join(dir, 'nope.ipynb')], env);
    expect(missing.stderr).toMatch(/Cannot read .*nope\.ipynb as a notebook/);
    const param = await cli(['submit', file, '-p', 'novalue'], env);
    expect(param.code).not.toBe(0);
    expect(param.stderr).toMatch(/"novalue" is not name=value/);
    const none = await cli(['jobs'], {
      NBQUEUE_URL: '',
      NBQUEUE_TOKEN: '',
      NBQUEUE_STATE_FILE: path.join(dir, 'absent.json')
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No nbqueue sidecar found/);
  });
});

describe('nbqueue CLI queue commands', () => {
  let s: TestSidecar;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }],
      queues: [
        { name: 'cpu', profile: 'cpu' },
        { name: 'cpu-long', profile: 'cpu' }
      ]
    });
    env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    dir = tmpDir();
  });
  afterAll(() => s.close());

  const submitJson = async (file: string): Promise<JobView> => {
    const r = await cli(['submit', file, '--json'], env);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as JobView;
  };

  test('queues, jobs, hold, release, priority, reorder, move, logs, rerun, cancel', async () => {
    const sleeper = path.join(dir, 'sleep.ipynb');
    fs.writeFileSync(
      sleeper,
      JSON.stringify(
        notebook([
          code(
            'print("slept", flush=True)\nimport time\nfor _ in range(3000): time.sleep(0.1)'
          )
        ])
      )
    );
    const quick = path.join(dir, 'quick.ipynb');
    fs.writeFileSync(quick, JSON.stringify(notebook([code('print("quick")')])));
    const blocker = await submitJson(sleeper);
    const a = await submitJson(quick);
    const b = await submitJson(quick);

    const queues = await cli(['queues'], env);
    expect(queues.stdout).toMatch(
      /^QUEUE\s+PROFILE\s+RUNNING\s+QUEUED\ncpu\s+cpu\s+1\s+2\ncpu-long\s+cpu\s+0\s+0/
    );

    const table = await cli(['jobs', '--state', 'queued'], env);
    expect(table.stdout).toMatch(/POS\s+ETA/);
    expect(table.stdout).toMatch(new RegExp(`${a.id}.*queued\\s+1\\s+unknown`));
    // Why each waits: the full pool with who holds it, then the jobs ahead.
    expect(table.stdout).toMatch(/CREATED\s+WAITING/);
    expect(table.stdout).toMatch(
      new RegExp(
        `${b.id}.*Pool cpu: 1 of 1 job slots in use: \\S+ 1; 1 job ahead in the queue: 1 normal\\.`
      )
    );

    expect((await cli(['hold', a.id], env)).stdout).toBe(`${a.id} held\n`);
    const held = JSON.parse(
      (await cli(['jobs', '--json', '--state', 'queued'], env)).stdout
    ) as JobView[];
    expect(held.find(j => j.id === a.id)).toMatchObject({
      held: true,
      position: null,
      waiting: { reasons: [{ code: 'held' }] }
    });
    expect((await cli(['release', a.id], env)).stdout).toMatch(
      /released \(position \d\)/
    );

    expect((await cli(['reorder', b.id, '--front'], env)).stdout).toBe(
      `${b.id} now at position 1 in cpu\n`
    );
    expect((await cli(['reorder', a.id, '--before', b.id], env)).stdout).toBe(
      `${a.id} now at position 1 in cpu\n`
    );
    const noWhere = await cli(['reorder', a.id], env);
    expect(noWhere.code).toBe(1);
    expect(noWhere.stderr).toMatch(/Say where, once/);

    expect((await cli(['priority', b.id, 'high'], env)).stdout).toBe(
      `${b.id} priority high (position 1)\n`
    );
    const bad = await cli(['priority', b.id, 'asap'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Priority "asap" is not valid/);

    expect((await cli(['move', a.id, '--queue', 'cpu-long'], env)).stdout).toBe(
      `${a.id} moved to cpu-long (position 1)\n`
    );
    const onlyLong = JSON.parse(
      (await cli(['jobs', '--json', '--queue', 'cpu-long'], env)).stdout
    ) as JobView[];
    expect(onlyLong.map(j => j.id)).toEqual([a.id]);

    await waitFor(
      async () =>
        (await cli(['logs', blocker.id], env)).stdout.includes('nbqueue'),
      'the runner log'
    );
    expect((await cli(['cancel', blocker.id], env)).stdout).toMatch(
      /cancel requested/
    );

    for (const id of [a.id, b.id]) {
      await waitFor(async () => {
        const j = JSON.parse(
          (await cli(['jobs', '--json'], env)).stdout
        ) as JobView[];
        return j.find(x => x.id === id)?.state === 'succeeded';
      }, `${id} to succeed`);
    }
    const rerun = await cli(['rerun', a.id], env);
    expect(rerun.stdout).toMatch(
      new RegExp(
        `^j-\\w+ queued \\(re-run of ${a.id}, position .+ in cpu-long\\)\\n$`
      )
    );
  });
});
