/**
 * Pipelines end to end on the local backend: a real sidecar, real runners and kernels, the
 * notebooks written by nbformat (fixtures/pipelines/make.py). Values pass from step to step
 * through nbqueue.output; a failing step skips the rest and a re-run resumes from it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { io, Socket } from 'socket.io-client';
import type { PipelineView } from '../src/api/contract/pipelines';
import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  PYTHON,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdefgh';
const ROOT = 'root-token-0123456789abcdefg';

/** The fixture notebooks as files, read back as the CLI reads them. */
function writeNotebooks(): Record<string, unknown> {
  const dir = tmpDir('nbq-pipeline-notebooks-');
  execFileSync(PYTHON, [
    path.join(__dirname, 'fixtures', 'pipelines', 'make.py'),
    dir
  ]);
  const read = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, `${name}.ipynb`), 'utf8'));
  return {
    prepare: read('prepare'),
    train: read('train'),
    evaluate: read('evaluate')
  };
}

describe('pipelines on the local backend', () => {
  let s: TestSidecar;
  let nbs: Record<string, unknown>;
  let socket: Socket;
  const seen: PipelineView[] = [];

  beforeAll(async () => {
    nbs = writeNotebooks();
    s = await startTestSidecar({
      auth: {
        token: ROOT,
        user: 'root',
        admin: true,
        users: [
          { token: ALICE, user: 'alice' },
          { token: BOB, user: 'bob' }
        ]
      },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
    socket = io(s.url, { auth: { token: ALICE }, transports: ['websocket'] });
    socket.on('pipeline', (p: PipelineView) => seen.push(p));
    await new Promise<void>(resolve => socket.once('connect', () => resolve()));
  }, 60000);
  afterAll(async () => {
    socket.close();
    await s.close();
  });

  const get = async (id: string, token = ALICE) =>
    (await s.api<PipelineView>('GET', `/api/pipelines/${id}`, undefined, token))
      .body;
  const ended = (id: string) =>
    waitFor(
      async () => {
        const p = await get(id);
        return p.state !== 'running' ? p : undefined;
      },
      `pipeline ${id} to end`,
      120000
    );
  const job = async (id: string) =>
    (await s.api<JobView>('GET', `/api/jobs/${id}`, undefined, ALICE)).body;
  const steps = (extra: Record<string, unknown> = {}) => [
    {
      name: 'prepare',
      notebook: nbs.prepare,
      profile: 'cpu',
      parameters: { rows: 4 }
    },
    {
      name: 'train',
      notebook: nbs.train,
      notebook_path: 'train.ipynb',
      profile: 'cpu',
      parameters: { lr: 0.25, ...extra }
    },
    { name: 'evaluate', notebook: nbs.evaluate, profile: 'cpu' }
  ];

  test('three steps pass values on through nbqueue.output and their parameters', async () => {
    const res = await s.api<PipelineView>(
      'POST',
      '/api/pipelines',
      { name: 'nightly', steps: steps() },
      ALICE
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'nightly',
      owner: 'alice',
      state: 'running',
      attempt: 1,
      reason: null,
      schedule_id: null
    });
    // Only the first step has a job: the others wait for it.
    expect(res.body.steps.map(st => [st.name, st.after, st.state])).toEqual([
      ['prepare', [], 'queued'],
      ['train', ['prepare'], 'waiting'],
      ['evaluate', ['train'], 'waiting']
    ]);
    expect(res.body.steps[1].job_id).toBeNull();

    const done = await ended(res.body.id);
    expect(done.state).toBe('succeeded');
    expect(done.finished_at).not.toBeNull();
    expect(done.steps.map(st => st.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded'
    ]);
    expect(done.steps.map(st => st.outputs)).toEqual([
      { rows: 40, dataset: 'set-A' },
      { model: 'set-A:40:0.25' },
      { score: { model: 'set-A:40:0.25', length: 13 } }
    ]);
    // The step's parameters, overlaid with the outputs of the step it waits for.
    const train = await job(done.steps[1].job_id as string);
    expect(train.parameters).toEqual({ lr: 0.25, rows: 40, dataset: 'set-A' });
    expect(train).toMatchObject({
      pipeline_id: done.id,
      pipeline_step: 'train',
      name: 'nightly: train',
      notebook_path: 'train.ipynb',
      owner: 'alice'
    });
    const evaluate = await job(done.steps[2].job_id as string);
    expect(evaluate.parameters).toEqual({ model: 'set-A:40:0.25' });
    // The owner's sockets heard every change, up to the end.
    await waitFor(
      () => seen.some(p => p.id === done.id && p.state === 'succeeded'),
      'the socket to carry the end'
    );
    const states = seen
      .filter(p => p.id === done.id)
      .map(p => p.steps[1].state);
    expect(states).toContain('queued');
    expect(states[states.length - 1]).toBe('succeeded');
  }, 180000);

  test('a failing step skips the rest and fails the pipeline; a re-run resumes from it', async () => {
    const marker = path.join(tmpDir('nbq-marker-'), 'ready');
    const res = await s.api<PipelineView>(
      'POST',
      '/api/pipelines',
      { steps: steps({ needs: marker }) },
      ALICE
    );
    expect(res.status).toBe(201);
    const failed = await ended(res.body.id);
    expect(failed.state).toBe('failed');
    expect(failed.steps.map(st => st.state)).toEqual([
      'succeeded',
      'failed',
      'skipped'
    ]);
    expect(failed.reason).toMatch(/^step 'train' failed: .*FileNotFoundError/s);
    expect(failed.steps[2].job_id).toBeNull();
    const prepareJob = failed.steps[0].job_id;

    // Bob does not see it; re-running a running or succeeded pipeline is refused.
    expect(
      (await s.api('POST', `/api/pipelines/${failed.id}/rerun`, {}, BOB)).status
    ).toBe(404);

    fs.writeFileSync(marker, 'yes');
    const again = await s.api<PipelineView>(
      'POST',
      `/api/pipelines/${failed.id}/rerun`,
      {},
      ALICE
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      id: failed.id,
      attempt: 2,
      state: 'running'
    });
    const done = await ended(failed.id);
    expect(done.state).toBe('succeeded');
    expect(done.reason).toBeNull();
    // Step 1 was not run again: same job, outputs kept, and train got them.
    expect(done.steps[0].job_id).toBe(prepareJob);
    expect(done.steps[0].outputs).toEqual({ rows: 40, dataset: 'set-A' });
    expect(done.steps[1].job_id).not.toBe(failed.steps[1].job_id);
    expect(
      (await job(done.steps[1].job_id as string)).parameters
    ).toMatchObject({
      rows: 40,
      dataset: 'set-A'
    });
    expect(done.steps[2].outputs).toEqual({
      score: { model: 'set-A:40:0.25', length: 13 }
    });
    const refused = await s.api<{ error: { code: string } }>(
      'POST',
      `/api/pipelines/${failed.id}/rerun`,
      {},
      ALICE
    );
    expect([refused.status, refused.body.error.code]).toEqual([
      409,
      'invalid_state'
    ]);
  }, 240000);

  test('cancel: the running step is cancelled, the rest skipped', async () => {
    const slow = notebook([code('import time\ntime.sleep(60)')]);
    const res = await s.api<PipelineView>(
      'POST',
      '/api/pipelines',
      {
        steps: [
          { name: 'sleep', notebook: slow, profile: 'cpu' },
          { name: 'after', notebook: slow, profile: 'cpu' }
        ]
      },
      ALICE
    );
    const jobId = res.body.steps[0].job_id as string;
    await waitFor(
      async () => (await job(jobId)).state === 'running',
      'the first step to run',
      60000
    );
    const cancelled = await s.api<PipelineView>(
      'POST',
      `/api/pipelines/${res.body.id}/cancel`,
      {},
      ALICE
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    expect(cancelled.body.steps[1].state).toBe('skipped');
    await waitFor(
      async () => (await get(res.body.id)).steps[0].state === 'cancelled',
      'the step to follow its cancelled job',
      60000
    );
    expect((await job(jobId)).state).toBe('cancelled');
  }, 120000);

  test('users see their own pipelines, admins everyone with all=1', async () => {
    const mine = await s.api<{ pipelines: PipelineView[] }>(
      'GET',
      '/api/pipelines',
      undefined,
      ALICE
    );
    expect(mine.body.pipelines.length).toBe(3);
    const bobs = await s.api<{ pipelines: PipelineView[] }>(
      'GET',
      '/api/pipelines',
      undefined,
      BOB
    );
    expect(bobs.body.pipelines).toEqual([]);
    const id = mine.body.pipelines[0].id;
    for (const [method, route] of [
      ['GET', `/api/pipelines/${id}`],
      ['POST', `/api/pipelines/${id}/cancel`],
      ['POST', `/api/pipelines/${id}/rerun`]
    ]) {
      const res = await s.api<{ error: { code: string } }>(
        method,
        route,
        method === 'POST' ? {} : undefined,
        BOB
      );
      expect([route, res.status, res.body.error.code]).toEqual([
        route,
        404,
        'unknown_pipeline'
      ]);
    }
    expect(
      (await s.api('GET', '/api/pipelines?all=1', undefined, BOB)).status
    ).toBe(403);
    const all = await s.api<{ pipelines: PipelineView[] }>(
      'GET',
      '/api/pipelines?all=1',
      undefined,
      ROOT
    );
    expect(all.body.pipelines.map(p => p.id)).toContain(id);
    expect((await get(id, ROOT)).id).toBe(id);
  });
});
