/**
 * The Jobs panel's model: rows from jobs, filters, order, elapsed and ETA
 * texts, status counts, reorder intents from drops, live updates.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import type {
  IInfo,
  IJob,
  IJobsPage,
  IListJobsOptions
} from '../service/model';
import { metricRowsOf, pointsOf } from '../panel/metricsPoints';
import { JobsModel, JobsSource } from '../panel/model';
import { dropPlacement, reorderIntent } from '../panel/reorder';
import {
  actionsOf,
  compareJobs,
  elapsedMs,
  formatDuration,
  formatEta,
  RECENT_FINISHED,
  rowOf,
  statusCounts,
  statusText,
  visibleJobs
} from '../panel/rows';
import { NotebookPanelAdapter } from '../live/panelAdapter';
import type { IAttemptEvent } from '../service/events';
import { EventLog, jobFixture } from './fixtures';

const T0 = Date.parse('2026-11-23T14:00:00.000Z');
const iso = (offsetSeconds: number) =>
  new Date(T0 + offsetSeconds * 1000).toISOString();

let counter = 0;
function job(overrides: Partial<IJob> = {}): IJob {
  counter += 1;
  return jobFixture({
    id: `j-${String(counter).padStart(4, '0')}`,
    name: `train ${counter}`,
    profile: 'gpu-2',
    queue: 'gpu-2',
    created_at: iso(counter),
    eta_basis: 'unknown: no finished jobs on profile gpu-2 yet',
    ...overrides
  });
}

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [42_000, '42s'],
    [65_000, '1m 05s'],
    [3_600_000 + 2 * 60_000 + 7_000, '1h 02m'],
    [2 * 86_400_000 + 3 * 3_600_000, '2d 03h'],
    [-5_000, '0s']
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('attempts', () => {
  const restarted = (attempt: number, cause: 'preemption' | 'node_lost') =>
    job({
      state: 'running',
      attempt,
      max_attempts: 3,
      restarts: Array.from({ length: attempt - 1 }, (_, i) => ({
        attempt: i + 1,
        started_at: iso(0),
        ended_at: iso(60),
        cause: i === attempt - 2 ? cause : 'eviction',
        reason: 'Its pod was taken off node n1.'
      }))
    });

  it("a restarted job's row says which attempt it is and why it restarted", () => {
    expect(rowOf(restarted(2, 'preemption'), T0, 'alice').attempt).toBe(
      'attempt 2 of 3, restarted after node preemption'
    );
    // The cause is the last restart's.
    expect(rowOf(restarted(3, 'node_lost'), T0, 'alice').attempt).toBe(
      'attempt 3 of 3, restarted after node loss'
    );
  });

  it('a job never restarted says nothing of attempts', () => {
    expect(rowOf(job({ state: 'running' }), T0, 'alice').attempt).toBe('');
  });

  it("the notebook's running badge names the attempt after a restart", () => {
    const adapter = new NotebookPanelAdapter({} as NotebookPanel);
    expect(adapter.badgeText()).toBe('running on nbqueue');
    adapter.restarted(new EventLog().attempt(2, 3) as IAttemptEvent);
    expect(adapter.badgeText()).toBe(
      'running on nbqueue (attempt 2 of 3, restarted after node preemption)'
    );
  });
});

describe('elapsed time', () => {
  it('counts from the start to now while running', () => {
    const running = job({ state: 'running', started_at: iso(0) });
    expect(elapsedMs(running, T0 + 90_000)).toBe(90_000);
    const row = rowOf(running, T0 + 90_000, 'alice');
    expect(row.elapsed).toBe('1m 30s');
    expect(row.ticking).toBe(true);
    // A second later the same row says one second more.
    expect(rowOf(running, T0 + 91_000, 'alice').elapsed).toBe('1m 31s');
  });

  it('is the run time once finished, and nothing before the start', () => {
    const done = job({
      state: 'succeeded',
      started_at: iso(0),
      finished_at: iso(3600)
    });
    expect(rowOf(done, T0 + 10 ** 9, 'alice')).toMatchObject({
      elapsed: '1h 00m',
      ticking: false
    });
    expect(elapsedMs(job(), T0)).toBeNull();
    expect(rowOf(job(), T0, 'alice').elapsed).toBe('');
  });
});

describe('ETA', () => {
  it('says "unknown" rather than a number when the server has none', () => {
    const queued = job({ eta_seconds: null });
    expect(formatEta(queued)).toBe('unknown');
    expect(rowOf(queued, T0, 'alice').etaTitle).toBe(
      'unknown: no finished jobs on profile gpu-2 yet'
    );
  });

  it('rounds an estimate and shows nothing for jobs that left the queue', () => {
    expect(formatEta(job({ eta_seconds: 200.4 }))).toBe('~3m 20s');
    expect(formatEta(job({ eta_seconds: 0 }))).toBe('now');
    expect(formatEta(job({ state: 'running', eta_seconds: 10 }))).toBe('');
  });
});

describe('row model', () => {
  it('copies what a row shows from the job', () => {
    const queued = job({ position: 2, eta_seconds: 30, owner: 'bob' });
    expect(rowOf(queued, T0, 'alice')).toMatchObject({
      id: queued.id,
      name: queued.name,
      owner: 'bob',
      state: 'queued',
      label: 'queued',
      queue: 'gpu-2',
      profile: 'gpu-2',
      priority: 'normal',
      position: 2,
      eta: '~30s',
      own: false
    });
  });

  it('carries the estimate range and the running cell', () => {
    const range = { seconds: 240, low: 120, high: 540 };
    const queued = job({ eta: { start: range, end: null, basis: 'x' } });
    expect(rowOf(queued, T0, 'alice')).toMatchObject({
      estimate: 'starts in ~4 min (2–9 min)',
      progress: ''
    });
    const running = job({
      state: 'running',
      eta: { start: null, end: range, basis: 'x' },
      progress: {
        cell: 5,
        cells: 12,
        cell_started_at: new Date(T0 - 180_000).toISOString()
      }
    });
    expect(rowOf(running, T0, 'alice')).toMatchObject({
      estimate: 'ends in ~4 min (2–9 min)',
      progress: 'cell 5 of 12 · 3 min in this cell'
    });
  });

  it('labels held and cancelling jobs and hides positions outside the queue', () => {
    expect(rowOf(job({ held: true }), T0, 'alice').label).toBe('held');
    expect(
      rowOf(job({ state: 'running', cancel_requested: true }), T0, 'alice')
        .label
    ).toBe('cancelling');
    expect(
      rowOf(job({ state: 'running', position: 3 }), T0, 'alice').position
    ).toBeNull();
  });

  it('offers the actions that fit the state and the owner', () => {
    expect(actionsOf(job(), true)).toEqual([
      'hold',
      'cancel',
      'front',
      'back',
      'priority',
      'move',
      'live'
    ]);
    // Someone else's job (an admin's view): no reorder.
    expect(actionsOf(job(), false)).not.toContain('front');
    expect(actionsOf(job({ held: true }), true)[0]).toBe('release');
    expect(actionsOf(job({ state: 'running' }), true)).toEqual([
      'cancel',
      'live',
      'log',
      'metrics'
    ]);
    expect(
      actionsOf(
        job({ state: 'failed', has_result: true, reason: 'Cell 3 raised' }),
        true
      )
    ).toEqual(['rerun', 'result', 'files', 'error', 'log', 'metrics']);
    expect(
      actionsOf(job({ state: 'succeeded', notebook_path: null }), true)
    ).toEqual(['rerun', 'log', 'metrics']);
    expect(actionsOf(job({ state: 'succeeded' }), true)).toEqual([
      'rerun',
      'files',
      'log',
      'metrics'
    ]);
  });
});

describe('filtering and sorting', () => {
  const running = job({ state: 'running', started_at: iso(5) });
  const second = job({ position: 2, queue: 'gpu-2' });
  const first = job({ position: 1, queue: 'gpu-2' });
  const held = job({ position: 3, held: true });
  const cpu = job({ position: 1, queue: 'cpu', profile: 'cpu' });
  const old = job({
    state: 'succeeded',
    started_at: iso(1),
    finished_at: iso(2)
  });
  const recent = job({
    state: 'failed',
    started_at: iso(1),
    finished_at: iso(50)
  });
  const all = [old, second, recent, cpu, held, running, first];

  it('puts running first, queued by queue and position, then newest finished', () => {
    expect([...all].sort(compareJobs).map(j => j.id)).toEqual(
      [running, cpu, first, second, held, recent, old].map(j => j.id)
    );
  });

  it('filters by state', () => {
    const ids = (state: Parameters<typeof visibleJobs>[1]['state']) =>
      visibleJobs(all, { state, queue: '' }).map(j => j.id);
    expect(ids('all')).toHaveLength(all.length);
    expect(ids('active')).toEqual(
      [running, cpu, first, second, held].map(j => j.id)
    );
    expect(ids('queued')).toEqual([cpu, first, second].map(j => j.id));
    expect(ids('held')).toEqual([held.id]);
    expect(ids('running')).toEqual([running.id]);
    expect(ids('finished')).toEqual([recent.id, old.id]);
    expect(ids('failed')).toEqual([recent.id]);
  });

  it('filters by queue', () => {
    expect(
      visibleJobs(all, { state: 'queued', queue: 'cpu' }).map(j => j.id)
    ).toEqual([cpu.id]);
  });
});

describe('status bar counts', () => {
  it("counts this user's running and queued jobs", () => {
    const jobs = [
      job({ state: 'running' }),
      job({ state: 'starting' }),
      job(),
      job(),
      job({ held: true }),
      job({ owner: 'bob' }),
      job({ state: 'succeeded' })
    ];
    const counts = statusCounts(jobs, 'alice');
    expect(counts).toEqual({ running: 2, queued: 3 });
    expect(statusText(counts)).toBe('2 running · 3 queued');
  });
});

describe('reorder intent from a drop', () => {
  const a = job({ position: 1 });
  const bobs = job({ position: 2, owner: 'bob' });
  const b = job({ position: 3 });
  const c = job({ position: 4 });
  const other = job({ position: 1, queue: 'cpu' });
  const running = job({ state: 'running' });
  const jobs = [c, bobs, a, b, other, running];
  const intent = (dragged: IJob, target: IJob, at: 'before' | 'after') =>
    reorderIntent(jobs, 'alice', dragged.id, target.id, at);

  it('is "front" before the first own job and "back" after the last', () => {
    expect(intent(c, a, 'before')).toEqual({ to: 'front' });
    expect(intent(a, c, 'after')).toEqual({ to: 'back' });
  });

  it('names the own job it goes before in between', () => {
    expect(intent(a, b, 'after')).toEqual({ before: c.id });
    expect(intent(c, b, 'before')).toEqual({ before: b.id });
  });

  it('is null for a drop that changes nothing', () => {
    expect(intent(a, a, 'before')).toBeNull();
    expect(intent(b, a, 'after')).toBeNull();
    expect(intent(b, c, 'before')).toBeNull();
  });

  it("is null across queues, onto others' jobs, and for jobs not queued", () => {
    expect(intent(a, other, 'before')).toBeNull();
    expect(intent(a, bobs, 'before')).toBeNull();
    expect(intent(running, a, 'before')).toBeNull();
    expect(reorderIntent(jobs, 'bob', a.id, b.id, 'after')).toBeNull();
  });

  it('takes the half of the row the pointer is over', () => {
    const rect = { top: 100, height: 40 };
    expect(dropPlacement(110, rect)).toBe('before');
    expect(dropPlacement(125, rect)).toBe('after');
  });
});

describe('metric points', () => {
  it('turns live metric events after a seq into rows, with their kind', () => {
    const log = new EventLog();
    const events = [
      log.runStarted(1),
      { ...log.metric('loss', 0.5, 0), kind: 'user' as const },
      log.metric('system/cpu_percent', 12, 0),
      log.metric('loss', null, 1)
    ];
    const rows = metricRowsOf(events, events[1].seq);
    expect(rows.map(r => [r.name, r.kind, r.value])).toEqual([
      ['system/cpu_percent', 'system', 12],
      ['loss', 'user', null]
    ]);
  });

  it('groups rows by name, labelled by job for comparisons', () => {
    const rows = [
      { seq: 1, name: 'loss', step: 0, value: 1, time: 10, kind: 'user' },
      { seq: 2, name: 'acc', step: 0, value: 0.1, time: 11, kind: 'user' },
      { seq: 3, name: 'loss', step: 1, value: 0.5, time: 12, kind: 'user' }
    ] as const;
    expect(pointsOf([...rows])).toEqual([
      { name: 'loss', steps: [0, 1], values: [1, 0.5], times: [10, 12] },
      { name: 'acc', steps: [0], values: [0.1], times: [11] }
    ]);
    expect(pointsOf([rows[0]], { id: 'j-1', name: 'run A' })[0]).toMatchObject({
      job: 'j-1',
      label: 'run A · loss'
    });
  });
});

describe('JobsModel', () => {
  class FakeSource {
    info: IInfo = {
      version: '0.1.0',
      backend: 'local',
      user: 'alice',
      admin: false,
      priorities: {
        classes: ['low', 'normal', 'high', 'urgent'],
        allowed: ['low', 'normal', 'high'],
        default: 'normal'
      },
      limits: { max_notebook_bytes: 1, max_request_bytes: 2 },
      files: {
        bundle: true,
        max_input_bytes: 1,
        collect_outputs: true,
        max_output_bytes: 1
      }
    };
    pages: IJob[] = [];
    lastAll: boolean | undefined;
    jobChanged = new Signal<FakeSource, IJob>(this);
    connected = new Signal<FakeSource, void>(this);
    getInfo = async () => this.info;
    getQueues = async () => [
      { name: 'gpu-2', profile: 'gpu-2', queued: 2, running: 1 }
    ];
    getProfiles = async () => [];
    calls: IListJobsOptions[] = [];
    listJobsPage = async (options: IListJobsOptions = {}) => {
      this.lastAll = options.all;
      this.calls.push(options);
      return { jobs: this.pages, next_cursor: null } as IJobsPage;
    };
  }

  it('lists every active job, the newest others a page at a time', async () => {
    const source = new FakeSource();
    const queued = Array.from({ length: 3 }, (_, i) =>
      job({ id: `j-q${i}`, position: i + 1 })
    );
    const old = Array.from({ length: 5 }, (_, i) =>
      job({ id: `j-old${i}`, state: 'succeeded', position: null })
    );
    // Two pages of queued jobs, two of older finished ones.
    source.listJobsPage = async (options: IListJobsOptions = {}) => {
      source.calls.push(options);
      const list = options.states ? queued : [...queued, ...old];
      const from = options.cursor ?? 0;
      const size = options.states ? 2 : 4;
      const next = from + size < list.length ? from + size : null;
      return { jobs: list.slice(from, from + size), next_cursor: next };
    };
    const model = new JobsModel(source as unknown as JobsSource);
    await model.refresh();
    const ids = () => model.jobs.map(j => j.id).sort();
    expect(ids()).toEqual([...queued.map(j => j.id), 'j-old0'].sort());
    expect(model.hasMore).toBe(true);
    expect(source.calls.filter(c => c.states).map(c => c.cursor ?? 0)).toEqual([
      0, 2
    ]);

    await model.loadMore();
    expect(ids()).toEqual(
      [...queued.map(j => j.id), ...old.slice(0, 5).map(j => j.id)].sort()
    );
    expect(model.hasMore).toBe(false);
    await model.loadMore();
    expect(model.jobs).toHaveLength(8);
  });

  it('lists, then applies live job messages to positions and counts', async () => {
    const source = new FakeSource();
    const first = job({ position: 1 });
    const second = job({ position: 2 });
    source.pages = [second, first, job({ state: 'running' })];
    const model = new JobsModel(source as unknown as JobsSource);
    let changes = 0;
    model.changed.connect(() => (changes += 1));
    await model.refresh();
    expect(model.loaded).toBe(true);
    expect(model.rows(T0).map(r => [r.id, r.position])).toEqual([
      [source.pages[2].id, null],
      [first.id, 1],
      [second.id, 2]
    ]);
    expect(model.counts()).toEqual({ running: 1, queued: 2 });

    source.jobChanged.emit({ ...second, position: 1 });
    source.jobChanged.emit({ ...first, position: 2 });
    expect(model.rows(T0).map(r => r.id)).toEqual([
      source.pages[2].id,
      second.id,
      first.id
    ]);
    source.jobChanged.emit({ ...first, state: 'cancelled', position: null });
    expect(model.counts()).toEqual({ running: 1, queued: 1 });
    expect(changes).toBe(4);
  });

  it('lists active jobs and the newest finished ones; the table has the rest', async () => {
    const source = new FakeSource();
    const finished = Array.from({ length: RECENT_FINISHED + 2 }, (_, i) =>
      job({ state: 'succeeded', finished_at: iso(1000 + i) })
    );
    const queued = job({ position: 1 });
    source.pages = [...finished, queued];
    const model = new JobsModel(source as unknown as JobsSource);
    await model.refresh();
    const ids = model.rows(T0).map(r => r.id);
    expect(ids).toHaveLength(RECENT_FINISHED + 1);
    expect(ids[0]).toBe(queued.id);
    // The newest finished first; the two oldest left to the table.
    expect(ids[1]).toBe(finished[finished.length - 1].id);
    expect(ids).not.toContain(finished[0].id);
    expect(ids).not.toContain(finished[1].id);
    expect(model.olderFinished()).toBe(2);
    // A state filter shows every job of that state.
    model.stateFilter = 'succeeded';
    expect(model.rows(T0)).toHaveLength(RECENT_FINISHED + 2);
    expect(model.olderFinished()).toBe(0);
  });

  it("shows others' jobs only to an admin who asked for all users", async () => {
    const source = new FakeSource();
    const model = new JobsModel(source as unknown as JobsSource);
    await model.refresh();
    source.jobChanged.emit(job({ owner: 'bob' }));
    expect(model.jobs).toHaveLength(0);
    expect(model.isAdmin).toBe(false);

    source.info = { ...source.info, admin: true };
    const admin = new JobsModel(source as unknown as JobsSource);
    await admin.refresh();
    expect(admin.isAdmin).toBe(true);
    admin.showAll = true;
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(source.lastAll).toBe(true);
    source.jobChanged.emit(job({ owner: 'bob' }));
    expect(admin.jobs).toHaveLength(1);
    // The status bar still counts only the admin's own jobs.
    expect(admin.counts()).toEqual({ running: 0, queued: 0 });
  });

  it('keeps the error of a failed refresh for the panel', async () => {
    const source = new FakeSource();
    source.listJobsPage = async () => {
      throw new Error('Cannot reach the nbqueue sidecar');
    };
    const model = new JobsModel(source as unknown as JobsSource);
    await model.refresh();
    expect(model.loaded).toBe(false);
    expect(model.error).toBe(
      'Could not list nbqueue jobs: Cannot reach the nbqueue sidecar'
    );
  });
});

describe('why a job waits', () => {
  const waiting = {
    summary:
      'Pool gpu-2: 4 of 4 GPUs in use: bob 4; 1 job ahead in the queue: 1 high.',
    reasons: [
      {
        code: 'pool_full' as const,
        message: 'pool gpu-2: 4 of 4 GPUs in use: bob 4',
        in_use: 4,
        capacity: 4
      },
      {
        code: 'behind' as const,
        message: '1 job ahead in the queue: 1 high',
        ahead: 1
      }
    ]
  };

  it('shows the summary of a queued job, every reason in its tooltip', () => {
    const row = rowOf(job({ position: 2, waiting }), T0, 'alice');
    expect(row.waiting).toBe(waiting.summary);
    expect(row.waitingDetail).toBe(
      'pool gpu-2: 4 of 4 GPUs in use: bob 4\n1 job ahead in the queue: 1 high'
    );
  });

  it('shows nothing once the job left the queue', () => {
    const row = rowOf(job({ state: 'running', waiting }), T0, 'alice');
    expect(row.waiting).toBeNull();
    expect(row.waitingDetail).toBe('');
  });
});
