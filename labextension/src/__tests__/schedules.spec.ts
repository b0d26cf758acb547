/**
 * Schedules in the extension: the submit dialog's schedule section (its body,
 * the sidecar's preview of the cron expression, a refused expression), the
 * REST calls, and the Jobs panel's Schedules tab.
 */
import { Widget } from '@lumino/widgets';
import { Signal } from '@lumino/signaling';

import { JobsPanel } from '../panel/JobsPanel';
import type { JobActions } from '../panel/actions';
import { JobsModel, JobsSource } from '../panel/model';
import { PipelinesModel, PipelinesSource } from '../panel/pipelines';
import { SchedulesModel } from '../panel/schedules';
import { NbqueueError } from '../service/errors';
import type { IJobSubmit, IProfile } from '../service/model';
import type { ISchedule, ISchedulePreview } from '../service/scheduleModel';
import { SchedulesClient } from '../service/schedules';
import {
  formatFiring,
  IScheduleValues,
  SchedulePreview,
  scheduleSubmit
} from '../submit/schedule';
import {
  ISubmitValues,
  SubmitDialog,
  SubmitForm
} from '../submit/SubmitDialog';
import type { ISchedulesApi } from '../tokens';
import { until } from './fixtures';

const CPU: IProfile = {
  name: 'cpu',
  description: 'CPU only',
  cpus: 2,
  gpus: 0,
  memory: '4Gi',
  capacity: 2,
  running: 0,
  queued: 0,
  free: 2,
  gpu_type: null,
  gpu_resource: 'nvidia.com/gpu',
  gpu_free: null
};

const PRIORITIES = {
  classes: ['low', 'normal', 'high'],
  allowed: ['low', 'normal', 'high'],
  default: 'normal'
};

const JOB: IJobSubmit = {
  notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] },
  name: 'nightly',
  profile: 'cpu',
  priority: 'normal',
  parameters: { steps: 20 },
  notebook_path: 'train.ipynb'
};

function schedule(overrides: Partial<ISchedule> = {}): ISchedule {
  return {
    id: 's-1',
    name: 'nightly',
    owner: 'alice',
    cron: '0 3 * * *',
    timezone: 'Europe/Berlin',
    overlap: 'skip',
    last_outcome: null,
    missed: 'skip',
    end_at: null,
    paused: false,
    kind: 'job',
    profile: 'cpu',
    description: 'every day at 03:00 Europe/Berlin',
    next_run_at: '2026-12-01T02:00:00.000Z',
    last_run_at: '2026-11-30T02:00:00.000Z',
    last_job_id: 'j-0042',
    last_pipeline_id: null,
    created_at: '2026-11-01T10:00:00.000Z',
    ...overrides
  };
}

/** Sets a React-controlled field's value as typing would. */
function type(element: HTMLInputElement | HTMLSelectElement, value: string) {
  const proto = Object.getPrototypeOf(element);
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(element, value);
  element.dispatchEvent(
    new Event(element instanceof HTMLSelectElement ? 'change' : 'input', {
      bubbles: true
    })
  );
}

const query = <T extends Element>(selector: string) =>
  document.querySelector<T>(selector);

describe('scheduleSubmit', () => {
  it('sends the job exactly as Submit would, with the cron fields', () => {
    const values: IScheduleValues = {
      cron: ' 0 3 * * * ',
      timezone: 'Europe/Berlin',
      overlap: 'queue',
      missed: 'run_once'
    };
    const body = scheduleSubmit(values, 'nightly', { job: JOB });
    expect(body).toEqual({
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      overlap: 'queue',
      missed: 'run_once',
      job: JOB
    });
    expect(body.job).toBe(JOB);
    expect('pipeline' in body).toBe(false);
  });

  it('defaults an empty time zone to UTC and leaves out an empty name', () => {
    const body = scheduleSubmit(
      { cron: '*/5 * * * *', timezone: '', overlap: 'skip', missed: 'skip' },
      undefined,
      { job: JOB }
    );
    expect(body.timezone).toBe('UTC');
    expect('name' in body).toBe(false);
  });
});

describe('formatFiring', () => {
  it("writes the firing in the schedule's time zone", () => {
    expect(formatFiring('2026-12-01T02:00:00.000Z', 'Europe/Berlin')).toBe(
      'Tue 1 Dec 03:00'
    );
    expect(formatFiring('2026-12-01T02:00:00.000Z', 'UTC')).toBe(
      'Tue 1 Dec 02:00'
    );
  });
});

describe('SchedulesClient', () => {
  it('calls the routes of the contract', async () => {
    const calls: string[] = [];
    const client = new SchedulesClient(
      async <T>(path: string, init?: RequestInit) => {
        calls.push(
          `${init?.method ?? 'GET'} ${path} ${init?.body ?? ''}`.trim()
        );
        return (
          path.endsWith('preview?cron=0+3+*+*+*&timezone=Europe%2FBerlin')
            ? { description: 'd', next: [] }
            : { schedules: [] }
        ) as T;
      }
    );
    await client.list();
    await client.list({ all: true });
    await client.preview('0 3 * * *', 'Europe/Berlin');
    await client.create({ cron: '0 3 * * *', job: JOB });
    await client.pause('s-1');
    await client.resume('s-1');
    await client.runNow('s-1');
    await client.remove('s-1');
    expect(calls).toEqual([
      'GET api/schedules',
      'GET api/schedules?all=1',
      'GET api/schedules/preview?cron=0+3+*+*+*&timezone=Europe%2FBerlin',
      `POST api/schedules ${JSON.stringify({ cron: '0 3 * * *', job: JOB })}`,
      'POST api/schedules/s-1/pause',
      'POST api/schedules/s-1/resume',
      'POST api/schedules/s-1/run-now',
      'DELETE api/schedules/s-1'
    ]);
  });
});

describe('the schedule section of the submit dialog', () => {
  function open(
    preview: (cron: string, tz: string) => Promise<ISchedulePreview>
  ) {
    const created: ISubmitValues[] = [];
    const form = new SubmitForm({
      initial: {
        profile: 'cpu',
        priority: 'normal',
        name: 'nightly',
        parameters: [{ name: 'steps', text: '20' }],
        stream: true
      },
      loadProfiles: async () => [CPU],
      loadPriorities: async () => PRIORITIES,
      preview: new SchedulePreview(preview, 0)
    });
    const dialog = new SubmitDialog(
      form,
      async () => {
        throw new Error('not submitted');
      },
      undefined,
      async values => {
        created.push(values);
        return schedule();
      }
    );
    const closed = dialog.launch();
    return { form, dialog, closed, created };
  }

  it('is hidden until Schedule… is pressed, then previews and creates', async () => {
    const asked: string[] = [];
    const { form, dialog, closed, created } = open(async (cron, tz) => {
      asked.push(`${cron} ${tz}`);
      return {
        description: 'every day at 03:00 Europe/Berlin',
        next: ['2026-12-01T02:00:00.000Z']
      };
    });
    await until(() => query('.nbq-SubmitDialog select[name="profile"]'));
    expect(query('.nbq-ScheduleSection')).toBeNull();
    const button = await until(() =>
      query<HTMLButtonElement>('.jp-Dialog .nbq-SubmitDialog-schedule')
    );
    expect(button.textContent).toBe('Schedule…');

    button.click();
    const cron = await until(() =>
      query<HTMLInputElement>('.nbq-ScheduleSection input[name="cron"]')
    );
    const zone = query<HTMLInputElement>('input[name="timezone"]')!;
    expect(zone.value).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    type(zone, 'Europe/Berlin');
    type(cron, '0 3 * * *');
    type(query<HTMLSelectElement>('select[name="overlap"]')!, 'queue');

    const text = await until(() =>
      query('.nbq-SchedulePreview')?.textContent?.startsWith('every')
        ? query('.nbq-SchedulePreview')!.textContent
        : null
    );
    expect(text).toBe(
      'every day at 03:00 Europe/Berlin; next: Tue 1 Dec 03:00'
    );
    expect(asked).toContain('0 3 * * * Europe/Berlin');

    query<HTMLButtonElement>('.nbq-ScheduleSection-create')!.click();
    expect((await closed).button.accept).toBe(true);
    expect(dialog.schedule?.id).toBe('s-1');
    expect(dialog.job).toBeNull();
    expect(created).toHaveLength(1);
    expect(created[0].schedule).toEqual({
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      overlap: 'queue',
      missed: 'skip'
    });
    expect(created[0].parameters).toEqual(form.getValue().parameters);
  });

  it("shows the sidecar's 400 message and stays open", async () => {
    const message =
      "Field 'cron': '0 25 * * *' has hour 25; hours go from 0 to 23.";
    const { dialog, closed } = open(async () => {
      throw new NbqueueError('invalid_cron', message, 400);
    });
    (
      await until(() =>
        query<HTMLButtonElement>('.jp-Dialog .nbq-SubmitDialog-schedule')
      )
    ).click();
    type(
      await until(() => query<HTMLInputElement>('input[name="cron"]')),
      '0 25 * * *'
    );
    const alert = await until(() =>
      query('.nbq-SchedulePreview[role="alert"]')
    );
    expect(alert.textContent).toBe(message);
    expect(dialog.isAttached).toBe(true);
    dialog.resolve(0);
    expect((await closed).button.accept).toBe(false);
  });
});

/** A sidecar client's schedules, in memory. */
function fakeSchedules(initial: ISchedule[]) {
  const calls: string[] = [];
  const store = new Map(initial.map(s => [s.id, s]));
  const api: ISchedulesApi = {
    list: async () => [...store.values()],
    get: async id => store.get(id)!,
    create: async () => {
      throw new Error('unused');
    },
    remove: async id => {
      calls.push(`delete ${id}`);
      store.delete(id);
    },
    pause: async id => {
      calls.push(`pause ${id}`);
      store.set(id, { ...store.get(id)!, paused: true });
      return store.get(id)!;
    },
    resume: async id => {
      calls.push(`resume ${id}`);
      store.set(id, { ...store.get(id)!, paused: false });
      return store.get(id)!;
    },
    runNow: async id => {
      calls.push(`run-now ${id}`);
      store.set(id, { ...store.get(id)!, last_job_id: 'j-0100' });
      return {};
    },
    preview: async () => ({ description: '', next: [] })
  };
  return { api, calls };
}

describe('the Schedules tab', () => {
  it('lists the schedules and acts on them through the client', async () => {
    const { api, calls } = fakeSchedules([
      schedule(),
      schedule({ id: 's-2', name: 'weekly', paused: true, last_job_id: null })
    ]);
    const jobsSource = {
      getInfo: async () => ({ user: 'alice', admin: false }),
      getQueues: async () => [],
      getProfiles: async () => [],
      listJobsPage: async () => ({ jobs: [], next_cursor: null }),
      jobChanged: new Signal({}),
      connected: new Signal({})
    } as unknown as JobsSource;
    const pipelineSource = {
      pipelines: { list: async () => [] },
      pipelineChanged: new Signal({}),
      connected: new Signal({})
    } as unknown as PipelinesSource;
    const schedules = new SchedulesModel({ schedules: api });
    const confirmed: string[] = [];
    const panel = new JobsPanel(
      new JobsModel(jobsSource),
      {} as JobActions,
      undefined,
      {
        pipelines: new PipelinesModel(pipelineSource),
        schedules,
        openPipelineLive: () => undefined,
        confirm: async message => {
          confirmed.push(message);
          return true;
        }
      }
    );
    Widget.attach(panel, document.body);
    (
      await until(() =>
        query<HTMLButtonElement>('.nbq-PanelTab[data-tab="schedules"]')
      )
    ).click();
    const rows = await until(() => {
      const found = document.querySelectorAll('.nbq-ScheduleRow');
      return found.length === 2 ? found : null;
    });
    expect(rows[0].textContent).toContain('every day at 03:00 Europe/Berlin');
    expect(rows[0].querySelector('.nbq-ScheduleRow-lastJob')?.textContent).toBe(
      'j-0042'
    );
    expect(rows[1].querySelector('.nbq-ScheduleRow-paused')).not.toBeNull();

    const button = (id: string, action: string) =>
      query<HTMLButtonElement>(
        `.nbq-ScheduleRow[data-schedule-id="${id}"] [data-action="${action}"]`
      );
    button('s-1', 'pause')!.click();
    await until(() => button('s-1', 'resume'));
    button('s-2', 'resume')!.click();
    await until(() => button('s-2', 'pause'));
    button('s-1', 'run-now')!.click();
    await until(() =>
      query('[data-schedule-id="s-1"] .nbq-ScheduleRow-lastJob')
        ?.textContent === 'j-0100'
        ? true
        : null
    );
    button('s-2', 'delete')!.click();
    await until(() =>
      document.querySelectorAll('.nbq-ScheduleRow').length === 1 ? true : null
    );
    expect(calls).toEqual([
      'pause s-1',
      'resume s-2',
      'run-now s-1',
      'delete s-2'
    ]);
    expect(confirmed).toEqual(['Delete schedule weekly? Its past jobs stay.']);
    Widget.detach(panel);
  });

  it('says why an action failed', async () => {
    const { api } = fakeSchedules([schedule()]);
    api.pause = async () => {
      throw new NbqueueError(
        'not_found',
        "Schedule 's-1' does not exist.",
        404
      );
    };
    const model = new SchedulesModel({ schedules: api });
    await model.refresh();
    await model.act(model.schedules[0], 'pause');
    expect(model.error).toBe(
      "Could not pause schedule nightly: Schedule 's-1' does not exist."
    );
    expect(model.schedules[0].paused).toBe(false);
  });
});
