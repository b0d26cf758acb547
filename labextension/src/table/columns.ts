/**
 * The Jobs table's columns: what each cell shows and the key it sorts by,
 * and the filters over the jobs. Pure functions, so the rules are tested
 * without a DOM.
 */
import type { IJob } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';
import {
  elapsedMs,
  IJobRow,
  matchesState,
  rowOf,
  StateFilter,
  STATE_FILTERS
} from '../panel/rows';

const ENGLISH = nbqueueBundle();

export const COLUMNS = [
  'name',
  'state',
  'queue',
  'position',
  'waiting',
  'eta',
  'progress',
  'elapsed',
  'owner'
] as const;

export type Column = (typeof COLUMNS)[number];

export type Direction = 'ascending' | 'descending';

export interface ISort {
  column: Column;
  direction: Direction;
}

export interface ITableFilters {
  state: StateFilter;
  /** A queue's name; empty: every queue. */
  queue: string;
  /** An owner; empty: everyone. */
  owner: string;
  /** Words the name, id or waiting summary must contain; empty: any. */
  text: string;
}

/** What the table keeps across reloads (IStateDB). */
export interface ITableState {
  sort: ISort;
  filters: ITableFilters;
}

export const DEFAULT_TABLE_STATE: ITableState = {
  sort: { column: 'state', direction: 'ascending' },
  filters: { state: 'all', queue: '', owner: '', text: '' }
};

/** The headers' words. */
export function columnLabels(
  trans: TranslationBundle = ENGLISH
): Record<Column, string> {
  return {
    name: trans.__('Name'),
    state: trans.__('State'),
    queue: trans.__('Queue'),
    position: trans.__('Position'),
    waiting: trans.__('Waiting'),
    eta: trans.__('ETA'),
    progress: trans.__('Progress'),
    elapsed: trans.__('Elapsed'),
    owner: trans.__('Owner')
  };
}

/**
 * A running job's progress as the share of its code cells done before the running one, in
 * [0, 1], from the job's `progress` ({cell, cells}, docs/protocol.md); null otherwise.
 */
export function progressOf(job: IJob): number | null {
  const p = job.progress;
  if (job.state !== 'running' || !p || !(p.cells > 0)) {
    return null;
  }
  return Math.min(1, Math.max(0, (p.cell - 1) / p.cells));
}

/** One line of the table: the panel's row texts (`progress`: "cell 5 of 12 · 3 min in this
 * cell"), the share of cells done (what the column sorts by), the job. */
export interface ITableRow extends IJobRow {
  job: IJob;
  progressShare: number | null;
}

export function tableRowOf(
  job: IJob,
  now: number,
  user: string | null,
  trans: TranslationBundle = ENGLISH
): ITableRow {
  return {
    ...rowOf(job, now, user, trans),
    job,
    progressShare: progressOf(job)
  };
}

/** The text of a cell; '—' where there is nothing to show. */
export function cellText(row: ITableRow, column: Column): string {
  const dash = '—';
  switch (column) {
    case 'name':
      return row.name;
    case 'state':
      return row.label;
    case 'queue':
      return row.queue;
    case 'position':
      return row.position === null ? dash : `#${row.position}`;
    case 'waiting':
      return row.waiting ?? dash;
    case 'eta':
      return row.eta || dash;
    case 'progress':
      return row.progress || dash;
    case 'elapsed':
      return row.elapsed || dash;
    case 'owner':
      return row.owner;
  }
}

/** States in the order a person reads a queue: what runs, what waits, what ended. */
const STATE_ORDER = [
  'running',
  'starting',
  'cancelling',
  'queued',
  'held',
  'failed',
  'cancelled',
  'succeeded'
];

/** The sort key of a cell: a number or a string; null sorts last either way. */
function sortKey(
  row: ITableRow,
  column: Column,
  now: number
): number | string | null {
  switch (column) {
    case 'name':
    case 'queue':
    case 'owner':
      return row[column].toLowerCase();
    case 'state':
      return STATE_ORDER.indexOf(row.label);
    case 'position':
      return row.position;
    case 'waiting':
      return row.waiting?.toLowerCase() ?? null;
    case 'eta':
      return row.state === 'queued' ? (row.job.eta_seconds ?? null) : null;
    case 'progress':
      return row.progressShare;
    case 'elapsed':
      return elapsedMs(row.job, now);
  }
}

/** The rows in the order of `sort`; ties keep the panel's order (then id). */
export function sortRows(
  rows: readonly ITableRow[],
  sort: ISort,
  now: number
): ITableRow[] {
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, key: sortKey(row, sort.column, now) }))
    .sort((a, b) => {
      if (a.key === null || b.key === null) {
        return a.key === b.key ? a.index - b.index : a.key === null ? 1 : -1;
      }
      const byKey =
        typeof a.key === 'number' && typeof b.key === 'number'
          ? a.key - b.key
          : String(a.key).localeCompare(String(b.key));
      return byKey !== 0 ? sign * byKey : a.index - b.index;
    })
    .map(entry => entry.row);
}

export function matchesFilters(job: IJob, filters: ITableFilters): boolean {
  const text = filters.text.trim().toLowerCase();
  return (
    matchesState(job, filters.state) &&
    (!filters.queue || job.queue === filters.queue) &&
    (!filters.owner || job.owner === filters.owner) &&
    (!text ||
      [job.name, job.id, job.waiting?.summary ?? ''].some(field =>
        field.toLowerCase().includes(text)
      ))
  );
}

/**
 * A table state read back from IStateDB: anything unknown or malformed falls
 * back to the default, field by field, so a stale entry never breaks the table.
 */
export function parseTableState(value: unknown): ITableState {
  const base = DEFAULT_TABLE_STATE;
  const object = (v: unknown): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : {};
  const string = (v: unknown, fallback: string) =>
    typeof v === 'string' ? v : fallback;
  const state = object(value);
  const sort = object(state.sort);
  const filters = object(state.filters);
  const column = COLUMNS.find(c => c === sort.column) ?? base.sort.column;
  const direction: Direction =
    sort.direction === 'descending' ? 'descending' : 'ascending';
  const stateFilter =
    STATE_FILTERS.find(s => s === filters.state) ?? base.filters.state;
  return {
    sort: { column, direction },
    filters: {
      state: stateFilter,
      queue: string(filters.queue, ''),
      owner: string(filters.owner, ''),
      text: string(filters.text, '')
    }
  };
}

/** The sort after a click on a column's header: that column, or its reverse. */
export function toggleSort(sort: ISort, column: Column): ISort {
  if (sort.column === column) {
    return {
      column,
      direction: sort.direction === 'ascending' ? 'descending' : 'ascending'
    };
  }
  return { column, direction: 'ascending' };
}
