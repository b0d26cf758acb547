/**
 * The Jobs table: sorting by each column, the file-browser selection
 * (click, Shift-click, Ctrl/Cmd-click, select all), the filters, and sort and
 * filters kept through a reload in a (fake) IStateDB; and the widget drawn
 * from the same model, live.
 */
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { IJob } from '../service/model';
import { jobFixture } from './fixtures';
import {
  cellText,
  DEFAULT_TABLE_STATE,
  matchesFilters,
  parseTableState,
  progressOf,
  sortRows,
  tableRowOf,
  toggleSort
} from '../table/columns';
import { JobsTable } from '../table/JobsTable';
import { JobsTableModel, TABLE_STATE_KEY } from '../table/model';
import { TableSelection } from '../table/selection';

const T0 = Date.parse('2026-11-23T14:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

function job(id: string, overrides: Partial<IJob> = {}): IJob {
  return jobFixture({
    id,
    profile: 'gpu-2',
    queue: 'gpu-2',
    created_at: iso(0),
    ...overrides
  });
}

const JOBS = [
  job('a', {
    name: 'Beta',
    state: 'running',
    started_at: iso(0),
    progress: { cell: 4, cells: 8, cell_started_at: iso(0) }
  } as Partial<IJob>),
  job('b', {
    name: 'alpha',
    position: 2,
    eta_seconds: 600,
    owner: 'bob',
    waiting: { summary: 'waits behind 1 running job', reasons: [] }
  } as Partial<IJob>),
  job('c', { name: 'gamma', position: 1, eta_seconds: 60, queue: 'cpu' }),
  job('d', {
    name: 'delta',
    state: 'succeeded',
    started_at: iso(0),
    finished_at: iso(30)
  } as Partial<IJob>)
];

/** The JobsModel part the table reads: jobs, user, changes. */
class FakeJobs {
  jobs: IJob[] = [...JOBS];
  user: string | null = 'alice';
  changed = new Signal<this, void>(this);
}

/** IStateDB's fetch and save, over a Map, as it lives across a reload. */
class FakeStateDB {
  data = new Map<string, unknown>();
  fetch = async (id: string) => this.data.get(id) as never;
  save = async (id: string, value: unknown) => {
    this.data.set(id, JSON.parse(JSON.stringify(value)));
  };
}

const NOW = T0 + 100_000;
const rowsOf = (jobs: IJob[]) => jobs.map(j => tableRowOf(j, NOW, 'alice'));
const names = (rows: { name: string }[]) => rows.map(r => r.name);

describe('Jobs table sorting', () => {
  it('sorts by name, case-insensitively, both ways', () => {
    const rows = rowsOf(JOBS);
    const up = { column: 'name', direction: 'ascending' } as const;
    expect(names(sortRows(rows, up, NOW))).toEqual([
      'alpha',
      'Beta',
      'delta',
      'gamma'
    ]);
    expect(names(sortRows(rows, toggleSort(up, 'name'), NOW))).toEqual([
      'gamma',
      'delta',
      'Beta',
      'alpha'
    ]);
  });

  it('sorts numbers as numbers, with empty cells last either way', () => {
    const rows = rowsOf(JOBS);
    const byPosition = sortRows(
      rows,
      { column: 'position', direction: 'ascending' },
      NOW
    );
    expect(names(byPosition)).toEqual(['gamma', 'alpha', 'Beta', 'delta']);
    const byEta = sortRows(
      rows,
      { column: 'eta', direction: 'descending' },
      NOW
    );
    expect(names(byEta).slice(0, 2)).toEqual(['alpha', 'gamma']);
    const byElapsed = sortRows(
      rows,
      { column: 'elapsed', direction: 'descending' },
      NOW
    );
    // Running 100 s, finished after 30 s, then the queued ones.
    expect(names(byElapsed).slice(0, 2)).toEqual(['Beta', 'delta']);
  });

  it('orders states as a queue reads: running, queued, then ended', () => {
    const rows = rowsOf(JOBS);
    const sorted = sortRows(rows, DEFAULT_TABLE_STATE.sort, NOW);
    expect(sorted.map(r => r.label)).toEqual([
      'running',
      'queued',
      'queued',
      'succeeded'
    ]);
  });

  it('a new column sorts ascending; the same column again reverses', () => {
    expect(
      toggleSort({ column: 'name', direction: 'descending' }, 'owner')
    ).toEqual({ column: 'owner', direction: 'ascending' });
  });

  it("shows a running job's cell, '—' otherwise", () => {
    const [running, queued, , done] = rowsOf(JOBS);
    expect(cellText(running, 'progress')).toMatch(/^cell 4 of 8 · /);
    expect(running.progressShare).toBe(3 / 8);
    expect(cellText(done, 'progress')).toBe('—');
    expect(cellText(queued, 'progress')).toBe('—');
    expect(progressOf({ ...JOBS[0], state: 'succeeded' } as IJob)).toBe(null);
    expect(
      progressOf({
        ...JOBS[0],
        progress: { cell: 1, cells: 0, cell_started_at: iso(0) }
      } as IJob)
    ).toBe(null);
    expect(cellText(queued, 'waiting')).toBe('waits behind 1 running job');
    expect(cellText(queued, 'position')).toBe('#2');
  });
});

describe('Jobs table selection', () => {
  const order = ['a', 'b', 'c', 'd'];

  it('a click selects one row, Ctrl/Cmd-click toggles, Shift-click a range', () => {
    const selection = new TableSelection();
    selection.click('b', order);
    expect([...selection.ids]).toEqual(['b']);
    selection.click('d', order, { toggle: true });
    expect([...selection.ids].sort()).toEqual(['b', 'd']);
    selection.click('d', order, { toggle: true });
    expect([...selection.ids]).toEqual(['b']);
    selection.click('a', order);
    selection.click('c', order, { shift: true });
    expect([...selection.ids].sort()).toEqual(['a', 'b', 'c']);
    // From the same anchor, upwards this time, replacing the range.
    selection.click('d', order);
    selection.click('b', order, { shift: true });
    expect([...selection.ids].sort()).toEqual(['b', 'c', 'd']);
  });

  it('selects all rows shown, and forgets rows filtered out', () => {
    const selection = new TableSelection();
    selection.selectAll(order);
    expect(selection.ids.size).toBe(4);
    selection.keepOnly(['a', 'c']);
    expect([...selection.ids]).toEqual(['a', 'c']);
  });
});

describe('Jobs table filters', () => {
  it('filters by state, queue, owner and text', () => {
    const keep = (filters: Partial<typeof DEFAULT_TABLE_STATE.filters>) =>
      JOBS.filter(j =>
        matchesFilters(j, { ...DEFAULT_TABLE_STATE.filters, ...filters })
      ).map(j => j.id);
    expect(keep({ state: 'queued' })).toEqual(['b', 'c']);
    expect(keep({ queue: 'cpu' })).toEqual(['c']);
    expect(keep({ owner: 'bob' })).toEqual(['b']);
    expect(keep({ text: 'DEL' })).toEqual(['d']);
    expect(keep({ text: 'behind' })).toEqual(['b']);
    expect(keep({ state: 'finished', owner: 'bob' })).toEqual([]);
  });

  it('reads a saved state defensively, field by field', () => {
    expect(parseTableState(undefined)).toEqual(DEFAULT_TABLE_STATE);
    expect(
      parseTableState({
        sort: { column: 'nope', direction: 'descending' },
        filters: { state: 'bogus', queue: 'cpu', owner: 3 }
      })
    ).toEqual({
      sort: { column: 'state', direction: 'descending' },
      filters: { state: 'all', queue: 'cpu', owner: '', text: '' }
    });
  });
});

describe('JobsTableModel', () => {
  it('keeps sort and filters through a reload (IStateDB)', async () => {
    const db = new FakeStateDB();
    const first = new JobsTableModel({ jobs: new FakeJobs(), state: db });
    await first.restore();
    first.sortBy('name');
    first.sortBy('name');
    first.setFilters({ state: 'queued', text: 'a' });
    await Promise.resolve();
    expect(db.data.get(TABLE_STATE_KEY)).toEqual({
      sort: { column: 'name', direction: 'descending' },
      filters: { state: 'queued', queue: '', owner: '', text: 'a' }
    });

    // The page reloads: a new model on the same state database.
    const second = new JobsTableModel({ jobs: new FakeJobs(), state: db });
    expect(second.state).toEqual(DEFAULT_TABLE_STATE);
    await second.restore();
    expect(second.state).toEqual(first.state);
    expect(names(second.rows(NOW))).toEqual(['gamma', 'alpha']);
  });

  it('selects over the rows shown, and drops rows filtered out', () => {
    const model = new JobsTableModel({ jobs: new FakeJobs() });
    model.rows(NOW);
    model.click('b');
    model.click('c', { toggle: true });
    // In the order shown: cpu's queue before gpu-2's.
    expect(model.selected().map(j => j.id)).toEqual(['c', 'b']);
    model.setFilters({ queue: 'cpu' });
    model.rows(NOW);
    expect(model.selected().map(j => j.id)).toEqual(['c']);
    model.setFilters({ queue: '' });
    model.rows(NOW);
    model.selectAll();
    expect(model.selected()).toHaveLength(4);
  });
});

describe('JobsTable widget', () => {
  it('draws the rows, sorts on a header click, holds the selected queued jobs', async () => {
    const jobs = new FakeJobs();
    const model = new JobsTableModel({ jobs });
    const held: string[] = [];
    const actions = {
      hold: async (j: IJob) => void held.push(j.id),
      cancel: async () => undefined,
      release: async () => undefined,
      showMetrics: () => undefined,
      openLive: async () => undefined
    };
    const table = new JobsTable(model, actions, () => undefined);
    Widget.attach(table, document.body);
    const ids = () =>
      Array.from(table.node.querySelectorAll('.nbq-JobsTable-row')).map(
        row => (row as HTMLElement).dataset.jobId
      );
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) {
          throw new Error('timed out');
        }
        await new Promise(resolve => requestAnimationFrame(resolve));
      }
    };
    await until(() => ids().length === 4);
    expect(ids()).toEqual(['a', 'c', 'b', 'd']);

    (table.node.querySelector('[data-column="name"]') as HTMLElement).click();
    await until(() => ids()[0] === 'b');
    expect(ids()).toEqual(['b', 'a', 'd', 'c']);

    const row = (id: string) =>
      table.node.querySelector(`[data-job-id="${id}"]`) as HTMLElement;
    row('b').dispatchEvent(new MouseEvent('click', { bubbles: true }));
    row('c').dispatchEvent(
      new MouseEvent('click', { bubbles: true, shiftKey: true })
    );
    await until(() => row('c').classList.contains('jp-mod-selected'));
    const hold = table.node.querySelector(
      '.nbq-JobsTable-hold'
    ) as HTMLButtonElement;
    // Of the four rows selected, two are queued: those are held.
    expect(hold.textContent).toBe('Hold (2)');
    hold.click();
    await until(() => held.length === 2);
    expect(held.sort()).toEqual(['b', 'c']);

    // Live: a job the panel's model learns of appears.
    jobs.jobs = [...jobs.jobs, job('e', { name: 'epsilon' })];
    jobs.changed.emit();
    await until(() => ids().includes('e'));
    table.dispose();
  });
});
