/** The schedules routes against a real sidecar: alice (admin), bob and carol (users). */
import type { JobView } from '../src/jobs/types';
import type { ScheduleView } from '../src/api/contract/schedules';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  waitFor
} from './helpers';

const BOB = 'bob-token-0123456789abcdef';
const CAROL = 'carol-token-0123456789abcd';
type ErrorBody = { error: { code: string; message: string } };

describe('schedules over REST', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({
      auth: {
        users: [
          { token: BOB, user: 'bob', admin: false },
          { token: CAROL, user: 'carol', admin: false }
        ]
      },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
  });
  afterAll(() => s.close());

  // Once a year: nothing fires on its own while the tests run; run-now submits.
  const yearly = (fields: Record<string, unknown> = {}) => ({
    cron: '0 3 1 1 *',
    timezone: 'Europe/Berlin',
    job: {
      profile: 'cpu',
      notebook: notebook([
        code('day = "?"', { metadata: { tags: ['parameters'] } }),
        code('print(day)')
      ]),
      notebook_path: 'daily.ipynb',
      parameters: { day: '{{ date }}' }
    },
    ...fields
  });

  test('create, get, list, pause, resume, run-now, delete', async () => {
    const created = await s.api<ScheduleView>(
      'POST',
      '/api/schedules',
      yearly(),
      BOB
    );
    expect(created.status).toBe(201);
    const sched = created.body;
    expect(sched).toMatchObject({
      owner: 'bob',
      name: 'daily.ipynb',
      cron: '0 3 1 1 *',
      timezone: 'Europe/Berlin',
      overlap: 'skip',
      missed: 'skip',
      paused: false,
      kind: 'job',
      profile: 'cpu',
      description: 'cron 0 3 1 1 * (Europe/Berlin)',
      last_job_id: null
    });
    expect(sched.id).toMatch(/^s-/);
    expect(new Date(sched.next_run_at as string).getUTCMonth()).toBe(0);

    expect(
      (await s.api('GET', `/api/schedules/${sched.id}`, undefined, BOB)).body
    ).toEqual(sched);
    const mine = await s.api<{ schedules: ScheduleView[] }>(
      'GET',
      '/api/schedules',
      undefined,
      BOB
    );
    expect(mine.body.schedules.map(x => x.id)).toEqual([sched.id]);

    const paused = await s.api<ScheduleView>(
      'POST',
      `/api/schedules/${sched.id}/pause`,
      undefined,
      BOB
    );
    expect(paused.body).toMatchObject({ paused: true, next_run_at: null });
    const resumed = await s.api<ScheduleView>(
      'POST',
      `/api/schedules/${sched.id}/resume`,
      undefined,
      BOB
    );
    expect(resumed.body).toMatchObject({
      paused: false,
      next_run_at: sched.next_run_at
    });

    const fired = await s.api<{ job: JobView }>(
      'POST',
      `/api/schedules/${sched.id}/run-now`,
      undefined,
      BOB
    );
    expect(fired.status).toBe(201);
    const job = fired.body.job;
    expect(job).toMatchObject({
      owner: 'bob',
      profile: 'cpu',
      schedule_id: sched.id
    });
    expect(job.parameters.day).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(Date.parse(job.scheduled_for as string)).not.toBeNaN();
    const ended = await waitFor(
      async () => {
        const j = (
          await s.api<JobView>('GET', `/api/jobs/${job.id}`, undefined, BOB)
        ).body;
        return j.finished_at ? j : null;
      },
      'the scheduled job to end',
      60000
    );
    expect(ended.state).toBe('succeeded');
    const rerun = await s.api<JobView>(
      'POST',
      `/api/jobs/${job.id}/rerun`,
      {},
      BOB
    );
    expect(rerun.body).toMatchObject({
      schedule_id: null,
      scheduled_for: null
    });
    await s.api('POST', `/api/jobs/${rerun.body.id}/cancel`, undefined, BOB);
    expect(
      (
        await s.api<ScheduleView>(
          'GET',
          `/api/schedules/${sched.id}`,
          undefined,
          BOB
        )
      ).body.last_job_id
    ).toBe(job.id);

    expect(
      (await s.api('DELETE', `/api/schedules/${sched.id}`, undefined, BOB))
        .status
    ).toBe(204);
    const gone = await s.api<ErrorBody>(
      'GET',
      `/api/schedules/${sched.id}`,
      undefined,
      BOB
    );
    expect([gone.status, gone.body.error.code]).toEqual([
      404,
      'unknown_schedule'
    ]);
    // Its job stays.
    expect(
      (await s.api('GET', `/api/jobs/${job.id}`, undefined, BOB)).status
    ).toBe(200);
  }, 90000);

  test.each([
    [
      '61 3 * * *',
      /^"cron": '61 3 \* \* \*' is not a valid cron expression: .*minute/
    ],
    [
      '0 0 3 * * *',
      /^"cron": '0 0 3 \* \* \*' has 6 fields; a schedule takes 5/
    ],
    ['', /^"cron": '' has 0 fields/],
    ['0 0 30 2 *', /never fires/]
  ])(
    'a bad cron (%j) is 400 invalid_cron naming the field',
    async (cron, message) => {
      const res = await s.api<ErrorBody>(
        'POST',
        '/api/schedules',
        yearly({ cron }),
        BOB
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_cron');
      expect(res.body.error.message).toMatch(message);
    }
  );

  test('an unknown time zone is 400 invalid_timezone; so is the preview', async () => {
    const res = await s.api<ErrorBody>(
      'POST',
      '/api/schedules',
      yearly({ timezone: 'Mars/Olympus' }),
      BOB
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'invalid_timezone',
      message: expect.stringMatching(
        /^"timezone": 'Mars\/Olympus' is not a known IANA time zone/
      )
    });
    const preview = await s.api<ErrorBody>(
      'GET',
      '/api/schedules/preview?cron=0+3+*+*+*&timezone=Mars%2FOlympus',
      undefined,
      BOB
    );
    expect([preview.status, preview.body.error.code]).toEqual([
      400,
      'invalid_timezone'
    ]);
  });

  test('exactly one of job and pipeline; a pipeline is checked as POST /api/pipelines checks it', async () => {
    const neither = await s.api<ErrorBody>(
      'POST',
      '/api/schedules',
      { cron: '0 3 * * *' },
      BOB
    );
    expect([neither.status, neither.body.error.code]).toEqual([
      400,
      'invalid_request'
    ]);
    const noSteps = await s.api<ErrorBody>(
      'POST',
      '/api/schedules',
      { cron: '0 3 * * *', pipeline: { steps: [] } },
      BOB
    );
    expect(noSteps.status).toBe(400);
    const nb = notebook([code('1')]);
    const cycle = await s.api<ErrorBody>(
      'POST',
      '/api/schedules',
      {
        cron: '0 3 * * *',
        pipeline: {
          steps: [
            { name: 'a', profile: 'cpu', notebook: nb, after: ['b'] },
            { name: 'b', profile: 'cpu', notebook: nb, after: ['a'] }
          ]
        }
      },
      BOB
    );
    expect([cycle.status, cycle.body.error.code]).toEqual([
      400,
      'invalid_pipeline'
    ]);
  });

  test('a pipeline schedule: run-now starts the pipeline as its owner, the firing date in each step', async () => {
    const step = (name: string) => ({
      name,
      profile: 'cpu',
      notebook: notebook([
        code('day = "?"', { metadata: { tags: ['parameters'] } }),
        code('print(day)')
      ]),
      parameters: { day: 'report {{ date }}' }
    });
    const created = await s.api<ScheduleView>(
      'POST',
      '/api/schedules',
      {
        cron: '0 3 1 1 *',
        timezone: 'Europe/Berlin',
        pipeline: { name: 'nightly', steps: [step('prepare'), step('report')] }
      },
      BOB
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'pipeline',
      name: 'nightly',
      profile: null
    });
    const fired = await s.api<{
      pipeline: { id: string; owner: string; schedule_id: string | null };
    }>('POST', `/api/schedules/${created.body.id}/run-now`, undefined, BOB);
    expect(fired.status).toBe(201);
    expect(fired.body.pipeline).toMatchObject({
      owner: 'bob',
      schedule_id: created.body.id
    });
    const id = fired.body.pipeline.id;
    const done = await waitFor(
      async () => {
        const p = await s.api<{
          state: string;
          steps: Array<{ job_id: string | null }>;
        }>('GET', `/api/pipelines/${id}`, undefined, BOB);
        return p.body.state === 'succeeded' ? p.body : null;
      },
      'the scheduled pipeline to succeed',
      90000
    );
    const today = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Berlin'
    }).format(new Date());
    for (const { job_id } of done.steps) {
      const job = await s.api<JobView>(
        'GET',
        `/api/jobs/${job_id}`,
        undefined,
        BOB
      );
      expect(job.body.parameters).toEqual({ day: `report ${today}` });
      expect(job.body.owner).toBe('bob');
    }
    const again = await s.api<ScheduleView>(
      'GET',
      `/api/schedules/${created.body.id}`,
      undefined,
      BOB
    );
    expect(again.body.last_pipeline_id).toBe(id);
  }, 120000);

  test("what every firing would refuse is refused at creation: a priority above a user's (admins too: a schedule runs with its owner's rights), an input bundle", async () => {
    const job = yearly().job;
    for (const token of [BOB, s.token]) {
      const urgent = await s.api<ErrorBody>(
        'POST',
        '/api/schedules',
        yearly({ job: { ...job, priority: 'urgent' } }),
        token
      );
      expect([urgent.status, urgent.body.error.code]).toEqual([
        403,
        'forbidden'
      ]);
      expect(urgent.body.error.message).toMatch(
        /owner's rights: priority 'urgent'/
      );
    }
    const bundle = await s.api<ErrorBody>(
      'POST',
      '/api/schedules',
      yearly({ job: { ...job, input_bundle: 'b-123' } }),
      BOB
    );
    expect([bundle.status, bundle.body.error.code]).toEqual([
      400,
      'invalid_request'
    ]);
    expect(bundle.body.error.message).toMatch(
      /^"job.input_bundle": a schedule cannot carry/
    );
  });

  test('preview: the cron in words and the next five times', async () => {
    const res = await s.api<{ description: string; next: string[] }>(
      'GET',
      '/api/schedules/preview?cron=0+3+*+*+*&timezone=Europe%2FBerlin',
      undefined,
      BOB
    );
    expect(res.status).toBe(200);
    expect(res.body.description).toBe('every day at 03:00 Europe/Berlin');
    expect(res.body.next).toHaveLength(5);
    for (const t of res.body.next)
      expect(
        new Intl.DateTimeFormat('en-GB', {
          timeZone: 'Europe/Berlin',
          hour: '2-digit',
          minute: '2-digit'
        }).format(new Date(t))
      ).toBe('03:00');
  });

  test("users see only their own; an admin sees all with all=1 and acts on anyone's", async () => {
    const bobs = (
      await s.api<ScheduleView>('POST', '/api/schedules', yearly(), BOB)
    ).body;
    const carol = await s.api<ErrorBody>(
      'GET',
      `/api/schedules/${bobs.id}`,
      undefined,
      CAROL
    );
    expect([carol.status, carol.body.error.code]).toEqual([
      404,
      'unknown_schedule'
    ]);
    for (const verb of ['pause', 'resume', 'run-now'])
      expect(
        (
          await s.api(
            'POST',
            `/api/schedules/${bobs.id}/${verb}`,
            undefined,
            CAROL
          )
        ).status
      ).toBe(404);
    expect(
      (await s.api('DELETE', `/api/schedules/${bobs.id}`, undefined, CAROL))
        .status
    ).toBe(404);
    expect(
      (
        await s.api<{ schedules: ScheduleView[] }>(
          'GET',
          '/api/schedules',
          undefined,
          CAROL
        )
      ).body.schedules
    ).toEqual([]);
    expect(
      (await s.api('GET', '/api/schedules?all=1', undefined, CAROL)).status
    ).toBe(403);

    // alice holds the sidecar token: an admin.
    const all = await s.api<{ schedules: ScheduleView[] }>(
      'GET',
      '/api/schedules?all=1'
    );
    expect(all.body.schedules.map(x => x.id)).toContain(bobs.id);
    expect(
      (
        await s.api<{ schedules: ScheduleView[] }>('GET', '/api/schedules')
      ).body.schedules.map(x => x.id)
    ).not.toContain(bobs.id);
    expect(
      (await s.api<ScheduleView>('POST', `/api/schedules/${bobs.id}/pause`))
        .body.paused
    ).toBe(true);
    // Fired by an admin, the job is still bob's.
    const fired = await s.api<{ job: JobView }>(
      'POST',
      `/api/schedules/${bobs.id}/run-now`
    );
    expect(fired.body.job.owner).toBe('bob');
    await s.api('POST', `/api/jobs/${fired.body.job.id}/cancel`);
    expect((await s.api('DELETE', `/api/schedules/${bobs.id}`)).status).toBe(
      204
    );
  });
});
