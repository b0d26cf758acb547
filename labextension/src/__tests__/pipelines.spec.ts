/**
 * Pipelines in the extension: the body "Add step" builds (the open notebook
 * first, then notebooks read from the Jupyter contents, outputs stripped),
 * the dialog posting a pipeline, and the Jobs panel grouping a pipeline's
 * jobs under a header with each step's state.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { JobActions } from '../panel/actions';
import { JobsPanel } from '../panel/JobsPanel';
import { JobsModel, JobsSource } from '../panel/model';
import {
  groupRows,
  liveStepJobId,
  PipelinesModel,
  PipelinesSource
} from '../panel/pipelines';
import { rowOf } from '../panel/rows';
import { SchedulesModel } from '../panel/schedules';
import type { IJob, IJobSubmit, IProfile } from '../service/model';
import type { IPipeline, IPipelineStep } from '../service/scheduleModel';
import { nbqueueBundle } from '../translation';
import { pipelineSubmit, stepName } from '../submit/schedule';
import { SubmitDialog, SubmitForm } from '../submit/SubmitDialog';
import { until } from './fixtures';

const trans = nbqueueBundle();

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

/** A notebook as Jupyter's contents API returns it: outputs included. */
const EVALUATE: nbformat.INotebookContent = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
  cells: [
    {
      id: 'c1',
      cell_type: 'code',
      source: 'print(accuracy)',
      metadata: {},
      execution_count: 7,
      outputs: [{ output_type: 'stream', name: 'stdout', text: '0.93\n' }]
    }
  ]
};

const FIRST: IJobSubmit = {
  notebook: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] },
  name: 'train and evaluate',
  profile: 'gpu-1',
  priority: 'high',
  parameters: { epochs: 3 },
  notebook_path: 'work/train.ipynb',
  cwd: '/home/alice/work'
};

describe('pipelineSubmit', () => {
  it('makes the open notebook the first step and reads the others', async () => {
    const read: string[] = [];
    const body = await pipelineSubmit(
      FIRST,
      [
        { path: 'work/evaluate.ipynb', profile: 'cpu', parameters: '' },
        {
          path: 'work/evaluate.ipynb',
          profile: 'cpu',
          parameters: '{"split": "test"}'
        }
      ],
      async path => {
        read.push(path);
        return EVALUATE;
      },
      trans
    );
    expect(read).toEqual(['work/evaluate.ipynb', 'work/evaluate.ipynb']);
    expect(body.name).toBe('train and evaluate');
    expect(body.steps.map(s => s.name)).toEqual([
      'train',
      'evaluate',
      'evaluate-2'
    ]);
    expect(body.steps[0]).toEqual({
      name: 'train',
      notebook: FIRST.notebook,
      notebook_path: 'work/train.ipynb',
      profile: 'gpu-1',
      priority: 'high',
      parameters: { epochs: 3 }
    });
    const second = body.steps[1];
    expect(second.profile).toBe('cpu');
    expect(second.notebook_path).toBe('work/evaluate.ipynb');
    expect(second.parameters).toBeUndefined();
    expect(second.after).toBeUndefined(); // the previous step
    const cell = second.notebook.cells[0] as nbformat.ICodeCell;
    expect(cell.outputs).toEqual([]);
    expect(cell.execution_count).toBeNull();
    expect(cell.source).toBe('print(accuracy)');
    expect(body.steps[2].parameters).toEqual({ split: 'test' });
  });

  it('names the step whose parameters are not a JSON object', async () => {
    await expect(
      pipelineSubmit(
        FIRST,
        [{ path: 'evaluate.ipynb', profile: 'cpu', parameters: '[1, 2]' }],
        async () => EVALUATE,
        trans
      )
    ).rejects.toThrow(
      'The parameters of step evaluate.ipynb must be a JSON object such as {"lr": 0.1}.'
    );
  });

  it('says which notebook could not be read', async () => {
    await expect(
      pipelineSubmit(
        FIRST,
        [{ path: 'missing.ipynb', profile: 'cpu', parameters: '' }],
        async () => {
          throw new Error('No such file or directory: missing.ipynb');
        },
        trans
      )
    ).rejects.toThrow(
      'Could not read missing.ipynb: No such file or directory: missing.ipynb'
    );
  });

  it('makes step names the sidecar accepts', () => {
    expect(stepName('a folder/my notebook (v2).ipynb', new Set())).toBe(
      'my-notebook-v2-'
    );
    expect(stepName('', new Set(['step']))).toBe('step-2');
  });
});

describe('the dialog with steps', () => {
  it('adds a step row per "Add step" and hands the steps to Submit', async () => {
    const form = new SubmitForm({
      initial: {
        profile: 'cpu',
        priority: 'normal',
        name: 'pipe',
        parameters: [],
        stream: false
      },
      loadProfiles: async () => [CPU],
      loadPriorities: async () => ({
        classes: ['normal'],
        allowed: ['normal'],
        default: 'normal'
      }),
      steps: true
    });
    const dialog = new SubmitDialog(form, async values => ({
      ...pipeline(),
      name: `${values.name} (${values.steps?.length} more)`
    }));
    const closed = dialog.launch();
    await until(() => document.querySelector('select[name="profile"]'));
    expect(document.querySelector('.nbq-StepsSection')).toBeNull();
    document
      .querySelector<HTMLButtonElement>('.nbq-SubmitDialog-addStep')!
      .click();
    const path = await until(() =>
      document.querySelector<HTMLInputElement>('input[name="step-path"]')
    );
    const setter = Object.getOwnPropertyDescriptor(
      HTMLInputElement.prototype,
      'value'
    )!.set!;
    setter.call(path, 'evaluate.ipynb');
    path.dispatchEvent(new Event('input', { bubbles: true }));
    await until(() => (form.getValue().steps?.[0].path ? true : null));
    expect(form.getValue().steps).toEqual([
      { path: 'evaluate.ipynb', profile: 'cpu', parameters: '' }
    ]);

    dialog.resolve();
    expect((await closed).button.accept).toBe(true);
    expect(dialog.job).toBeNull();
    expect(dialog.pipeline?.name).toBe('pipe (1 more)');
  });
});

const T0 = Date.parse('2026-11-30T10:00:00.000Z');

function step(overrides: Partial<IPipelineStep>): IPipelineStep {
  return {
    name: 'train',
    after: [],
    profile: 'cpu',
    state: 'waiting',
    job_id: null,
    outputs: {},
    ...overrides
  };
}

function pipeline(overrides: Partial<IPipeline> = {}): IPipeline {
  return {
    id: 'p-1',
    name: 'nightly',
    owner: 'alice',
    state: 'running',
    reason: null,
    attempt: 1,
    created_at: new Date(T0).toISOString(),
    finished_at: null,
    schedule_id: null,
    steps: [
      step({ name: 'prepare', state: 'succeeded', job_id: 'j-1' }),
      step({
        name: 'train',
        after: ['prepare'],
        state: 'running',
        job_id: 'j-2'
      }),
      step({ name: 'evaluate', after: ['train'] }),
      step({ name: 'report', after: ['evaluate'] })
    ],
    ...overrides
  };
}

function job(
  id: string,
  overrides: Partial<IJob> & Record<string, unknown>
): IJob {
  return {
    id,
    name: id,
    owner: 'alice',
    profile: 'cpu',
    queue: 'cpu',
    priority: 'normal',
    parameters: {},
    notebook_path: `${id}.ipynb`,
    state: 'succeeded',
    reason: null,
    created_at: new Date(T0).toISOString(),
    started_at: null,
    finished_at: null,
    position: null,
    last_seq: 0,
    has_result: false,
    cancel_requested: false,
    held: false,
    eta_seconds: null,
    eta_basis: '',
    eta: null,
    progress: null,
    ...overrides
  } as IJob;
}

const JOBS = [
  job('j-1', { pipeline_id: 'p-1', pipeline_step: 'prepare' }),
  job('j-2', { pipeline_id: 'p-1', pipeline_step: 'train', state: 'running' }),
  job('j-3', { pipeline_id: null }),
  job('j-4', { pipeline_id: 'p-unknown' })
];

describe('groupRows', () => {
  it("gathers a pipeline's jobs under it, steps without a job included", () => {
    const byId = new Map(JOBS.map(j => [j.id, j]));
    const rows = JOBS.map(j => rowOf(j, T0, 'alice'));
    const items = groupRows(
      rows,
      id => byId.get(id),
      id => (id === 'p-1' ? pipeline() : undefined)
    );
    expect(
      items.map(item =>
        item.kind === 'job'
          ? item.row.id
          : `${item.pipeline.id}: ${item.steps
              .map(s => `${s.step.name}=${s.row?.id ?? s.step.state}`)
              .join(' ')}`
      )
    ).toEqual([
      'p-1: prepare=j-1 train=j-2 evaluate=waiting report=waiting',
      'j-3',
      'j-4'
    ]);
  });

  it('follows the running step, else the queued one', () => {
    expect(liveStepJobId(pipeline())).toBe('j-2');
    const queued = pipeline({
      steps: [
        step({ name: 'a', state: 'succeeded', job_id: 'j-1' }),
        step({ name: 'b', state: 'queued', job_id: 'j-5' })
      ]
    });
    expect(liveStepJobId(queued)).toBe('j-5');
    expect(liveStepJobId(pipeline({ state: 'failed', steps: [] }))).toBeNull();
  });
});

describe('the Jobs panel with pipelines', () => {
  it('shows a header per pipeline and the waiting and skipped steps, live', async () => {
    const jobChanged = new Signal<object, IJob>({});
    const jobsSource = {
      getInfo: async () => ({ user: 'alice', admin: false }),
      getQueues: async () => [],
      getProfiles: async () => [],
      listJobsPage: async () => ({ jobs: JOBS, next_cursor: null }),
      jobChanged,
      connected: new Signal({})
    } as unknown as JobsSource;
    const pipelineChanged = new Signal<object, IPipeline>({});
    const acted: string[] = [];
    const pipelinesSource = {
      pipelines: {
        list: async () => [pipeline()],
        cancel: async (id: string) => {
          acted.push(`cancel ${id}`);
          return pipeline({ state: 'cancelled' });
        },
        rerun: async (id: string) => {
          acted.push(`rerun ${id}`);
          throw new Error('Pipeline p-1 is still running');
        }
      },
      pipelineChanged,
      connected: new Signal({})
    } as unknown as PipelinesSource;
    const jobs = new JobsModel(jobsSource);
    const pipelines = new PipelinesModel(pipelinesSource);
    const followed: string[] = [];
    const panel = new JobsPanel(jobs, {} as JobActions, undefined, {
      pipelines,
      schedules: new SchedulesModel({
        schedules: { list: async () => [] }
      } as never),
      openPipelineLive: p => followed.push(liveStepJobId(p) ?? 'none'),
      confirm: async () => true
    });
    Widget.attach(panel, document.body);
    await Promise.all([jobs.refresh(), pipelines.refresh()]);

    const group = await until(() =>
      document.querySelector('.nbq-PipelineGroup[data-pipeline-id="p-1"]')
    );
    expect(group.querySelector('.nbq-PipelineGroup-name')?.textContent).toBe(
      'nightly'
    );
    expect(group.getAttribute('data-state')).toBe('running');
    const stepTexts = () =>
      Array.from(group.querySelectorAll('.nbq-PipelineStep')).map(
        s => s.textContent
      );
    expect(stepTexts()).toEqual([
      'prepare: succeeded',
      'train: running',
      'evaluate: waiting',
      'report: waiting'
    ]);
    const jobIds = () =>
      Array.from(group.querySelectorAll('.nbq-JobRow')).map(r =>
        r.getAttribute('data-job-id')
      );
    expect(jobIds()).toEqual(['j-1', 'j-2']);
    expect(
      Array.from(group.querySelectorAll('.nbq-PipelineStep-pending')).map(
        p => p.textContent
      )
    ).toEqual(['evaluatewaiting', 'reportwaiting']);
    // The other jobs stay outside any group.
    const list = document.querySelector('.nbq-JobsPanel-list')!;
    const top = Array.from(list.children).map(
      li =>
        li.getAttribute('data-job-id') ?? li.getAttribute('data-pipeline-id')
    );
    expect(top.sort()).toEqual(['j-3', 'j-4', 'p-1']);

    group
      .querySelector<HTMLButtonElement>('[data-action="pipeline-live"]')!
      .click();
    expect(followed).toEqual(['j-2']);
    expect(group.querySelector('[data-action="pipeline-rerun"]')).toBeNull();
    group
      .querySelector<HTMLButtonElement>('[data-action="pipeline-cancel"]')!
      .click();
    await until(() => (acted.length ? true : null));
    expect(acted).toEqual(['cancel p-1']);
    await until(() =>
      group.getAttribute('data-state') === 'cancelled' ? true : null
    );

    // The socket says the training failed: the rest is skipped.
    pipelineChanged.emit(
      pipeline({
        state: 'failed',
        reason: "step 'train' failed: CUDA out of memory",
        steps: [
          step({ name: 'prepare', state: 'succeeded', job_id: 'j-1' }),
          step({ name: 'train', state: 'failed', job_id: 'j-2' }),
          step({ name: 'evaluate', state: 'skipped' }),
          step({ name: 'report', state: 'skipped' })
        ]
      })
    );
    await until(() =>
      group.getAttribute('data-state') === 'failed' ? true : null
    );
    expect(stepTexts()).toEqual([
      'prepare: succeeded',
      'train: failed',
      'evaluate: skipped',
      'report: skipped'
    ]);
    expect(group.querySelector('[data-action="pipeline-live"]')).toBeNull();
    expect(group.querySelector('[data-action="pipeline-cancel"]')).toBeNull();

    // A failed pipeline offers a re-run; a refusal shows in the panel.
    group
      .querySelector<HTMLButtonElement>('[data-action="pipeline-rerun"]')!
      .click();
    const alert = await until(() =>
      document.querySelector('.nbq-JobsPanel-error')
    );
    expect(alert.textContent).toBe(
      'Could not re-run pipeline p-1: Pipeline p-1 is still running'
    );
    expect(acted).toEqual(['cancel p-1', 'rerun p-1']);
    Widget.detach(panel);
  });
});
