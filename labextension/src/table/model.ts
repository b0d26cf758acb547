/**
 * The Jobs table's own state: sort order, filters and selection over the
 * jobs of the panel's `JobsModel`. Sort and filters are saved in IStateDB on
 * every change and read back on `restore()`, so they survive a page reload.
 */
import type { IStateDB } from '@jupyterlab/statedb';
import type { ReadonlyJSONValue } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import type { IJob } from '../service/model';
import { compareJobs } from '../panel/rows';
import { nbqueueBundle, TranslationBundle } from '../translation';
import {
  Column,
  DEFAULT_TABLE_STATE,
  ITableFilters,
  ITableRow,
  ITableState,
  matchesFilters,
  parseTableState,
  sortRows,
  tableRowOf,
  toggleSort
} from './columns';
import { IClickModifiers, TableSelection } from './selection';

/** The IStateDB key of the table's sort and filters. */
export const TABLE_STATE_KEY = 'nbqueue-labextension:jobs-table';

/** What the table reads of the panel's `JobsModel`. */
export interface IJobsSource {
  readonly jobs: IJob[];
  readonly user: string | null;
  readonly changed: ISignal<unknown, void>;
}

export namespace JobsTableModel {
  export interface IOptions {
    /** The Jobs panel's model (jobs, user, changes). */
    jobs: IJobsSource;
    /** Where sort and filters are kept; none: they last as long as the page. */
    state?: Pick<IStateDB, 'fetch' | 'save'> | null;
    trans?: TranslationBundle;
  }
}

export class JobsTableModel {
  constructor(options: JobsTableModel.IOptions) {
    this._jobs = options.jobs;
    this._db = options.state ?? null;
    this._trans = options.trans ?? nbqueueBundle();
    this._jobs.changed.connect(this._emit, this);
  }

  /** Emitted on every change of the jobs, sort, filters or selection. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get state(): ITableState {
    return this._state;
  }

  get filters(): ITableFilters {
    return this._state.filters;
  }

  /** Change some filters; rows no longer shown leave the selection. */
  setFilters(filters: Partial<ITableFilters>): void {
    this._set({
      ...this._state,
      filters: { ...this._state.filters, ...filters }
    });
  }

  /** A click on a column's header. */
  sortBy(column: Column): void {
    this._set({ ...this._state, sort: toggleSort(this._state.sort, column) });
  }

  /** Read the saved sort and filters (once, when the table opens). */
  async restore(): Promise<void> {
    if (!this._db) {
      return;
    }
    try {
      const saved = await this._db.fetch(TABLE_STATE_KEY);
      if (saved !== undefined && !this._touched) {
        this._state = parseTableState(saved);
        this._emit();
      }
    } catch (error) {
      console.warn('nbqueue: could not read the Jobs table state', error);
    }
  }

  /** The rows shown: filtered, sorted. */
  rows(now: number): ITableRow[] {
    const user = this._jobs.user;
    const rows = this._jobs.jobs
      .filter(job => matchesFilters(job, this._state.filters))
      // Ties of the sort keep the panel's order.
      .sort(compareJobs)
      .map(job => tableRowOf(job, now, user, this._trans));
    const sorted = sortRows(rows, this._state.sort, now);
    this._order = sorted.map(row => row.id);
    this._selection.keepOnly(this._order);
    return sorted;
  }

  /** The owners and queues of the jobs known, for the filters' menus. */
  choices(): { owners: string[]; queues: string[] } {
    const owners = new Set<string>();
    const queues = new Set<string>();
    for (const job of this._jobs.jobs) {
      owners.add(job.owner);
      queues.add(job.queue);
    }
    return { owners: [...owners].sort(), queues: [...queues].sort() };
  }

  isSelected(id: string): boolean {
    return this._selection.has(id);
  }

  /** The selected jobs, in the order shown. */
  selected(): IJob[] {
    const byId = new Map(this._jobs.jobs.map(job => [job.id, job]));
    return this._order
      .filter(id => this._selection.has(id))
      .map(id => byId.get(id))
      .filter((job): job is IJob => job !== undefined);
  }

  click(id: string, modifiers: IClickModifiers = {}): void {
    this._selection.click(id, this._order, modifiers);
    this._emit();
  }

  selectAll(): void {
    this._selection.selectAll(this._order);
    this._emit();
  }

  clearSelection(): void {
    this._selection.clear();
    this._emit();
  }

  dispose(): void {
    Signal.clearData(this);
    this._jobs.changed.disconnect(this._emit, this);
  }

  private _set(state: ITableState): void {
    this._touched = true;
    this._state = state;
    this._emit();
    this._db
      ?.save(TABLE_STATE_KEY, state as unknown as ReadonlyJSONValue)
      .catch(error =>
        console.warn('nbqueue: could not save the Jobs table state', error)
      );
  }

  private _emit(): void {
    this._changed.emit();
  }

  private _jobs: IJobsSource;
  private _db: Pick<IStateDB, 'fetch' | 'save'> | null;
  private _trans: TranslationBundle;
  private _state: ITableState = DEFAULT_TABLE_STATE;
  /** Changed by the person before the saved state came back: theirs wins. */
  private _touched = false;
  private _order: string[] = [];
  private _selection = new TableSelection();
  private _changed = new Signal<this, void>(this);
}
