/**
 * The Jobs panel's model: the jobs the sidecar reported (REST list, then
 * socket `job` messages), the filters, and the rows the view draws (see
 * rows.ts for the rules).
 */
import { ISignal, Signal } from '@lumino/signaling';

import { describe } from '../service/errors';
import {
  ACTIVE_STATES,
  IInfo,
  IJob,
  IListJobsOptions,
  IProfile,
  IQueue,
  IUsage,
  ReorderTarget
} from '../service/model';
import type { INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { reorderIntent } from './reorder';
import {
  IJobRow,
  recentTail,
  rowOf,
  StateFilter,
  statusCounts,
  visibleJobs
} from './rows';

/** What the model needs of the sidecar client. */
export type JobsSource = Pick<
  INbqueueService,
  | 'getInfo'
  | 'getQueues'
  | 'getProfiles'
  | 'listJobsPage'
  | 'jobChanged'
  | 'connected'
> &
  // Optional: a sidecar older than the usage route, or a test's source, has none.
  Partial<Pick<INbqueueService, 'getUsage'>>;

export class JobsModel {
  constructor(source: JobsSource, trans: TranslationBundle = nbqueueBundle()) {
    this._source = source;
    this._trans = trans;
    source.jobChanged.connect(this._onJob, this);
    // After a reconnect, `job` messages sent meanwhile reached no one.
    source.connected.connect(() => {
      if (this._loaded) {
        void this.refresh();
      }
    }, this);
  }

  /** Emitted on every change of jobs, filters, info or error. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get info(): IInfo | null {
    return this._info;
  }

  get isAdmin(): boolean {
    return this._info?.admin === true;
  }

  get user(): string | null {
    return this._info?.user ?? null;
  }

  get jobs(): IJob[] {
    return [...this._jobs.values()];
  }

  get queues(): IQueue[] {
    return this._queues;
  }

  /** What this user's jobs take in the sidecar's store; null until known. */
  get usage(): IUsage | null {
    return this._usage;
  }

  get profiles(): IProfile[] {
    return this._profiles;
  }

  /** Why the last refresh failed, for the panel; null when it worked. */
  get error(): string | null {
    return this._error;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get showAll(): boolean {
    return this._showAll;
  }

  set showAll(value: boolean) {
    if (value !== this._showAll) {
      this._showAll = value;
      void this.refresh();
    }
  }

  get stateFilter(): StateFilter {
    return this._stateFilter;
  }

  set stateFilter(value: StateFilter) {
    this._stateFilter = value;
    this._changed.emit();
  }

  get queueFilter(): string {
    return this._queueFilter;
  }

  set queueFilter(value: string) {
    this._queueFilter = value;
    this._changed.emit();
  }

  /** Jobs ticked for "Compare metrics". */
  get selected(): ReadonlySet<string> {
    return this._selected;
  }

  setSelected(id: string, selected: boolean): void {
    if (selected) {
      this._selected.add(id);
    } else {
      this._selected.delete(id);
    }
    this._changed.emit();
  }

  get(id: string): IJob | undefined {
    return this._jobs.get(id);
  }

  /**
   * The jobs the sidebar lists. Under "all", the active ones and only the
   * newest finished ones: the Jobs table lists every job.
   */
  visible(): IJob[] {
    const jobs = visibleJobs(this._jobs.values(), {
      state: this._stateFilter,
      queue: this._queueFilter
    });
    return this._stateFilter === 'all' ? recentTail(jobs).jobs : jobs;
  }

  /** Finished jobs left out of the sidebar's "all" (see `visible`). */
  olderFinished(): number {
    if (this._stateFilter !== 'all') {
      return 0;
    }
    return recentTail(
      visibleJobs(this._jobs.values(), {
        state: 'all',
        queue: this._queueFilter
      })
    ).older;
  }

  rows(now: number): IJobRow[] {
    return this.visible().map(job => rowOf(job, now, this.user, this._trans));
  }

  counts(): { running: number; queued: number } {
    return statusCounts(this._jobs.values(), this.user);
  }

  reorderIntent(
    draggedId: string,
    targetId: string,
    placement: 'before' | 'after'
  ): ReorderTarget | null {
    return reorderIntent(
      this._jobs.values(),
      this.user,
      draggedId,
      targetId,
      placement
    );
  }

  /** Whether older jobs than those listed exist (see `loadMore`). */
  get hasMore(): boolean {
    return this._nextCursor !== null;
  }

  /**
   * Read everything again from the sidecar: every queued and running job (all
   * pages: their positions matter), and the newest page of the others.
   */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    try {
      const info = this._info ?? (await this._source.getInfo());
      const all = this._showAll && info.admin;
      const [active, page, queues, profiles, usage] = await Promise.all([
        this._allPages({ all, states: [...ACTIVE_STATES] }),
        this._source.listJobsPage({ all, limit: JobsModel.PAGE_SIZE }),
        this._source.getQueues(),
        this._source.getProfiles(),
        // A line of the panel: its failure does not fail the list.
        this._source.getUsage?.().catch(() => null) ?? null
      ]);
      if (generation !== this._generation) {
        return;
      }
      this._info = info;
      this._queues = queues;
      this._profiles = profiles;
      this._usage = usage;
      this._jobs = new Map([...page.jobs, ...active].map(job => [job.id, job]));
      this._nextCursor = page.next_cursor ?? null;
      this._error = null;
      this._loaded = true;
    } catch (error) {
      if (generation !== this._generation) {
        return;
      }
      this._error = this._trans.__(
        'Could not list nbqueue jobs: %1',
        describe(error)
      );
    }
    this._changed.emit();
  }

  /** The next page of older jobs, added to those listed. */
  async loadMore(): Promise<void> {
    if (this._nextCursor === null) {
      return;
    }
    const generation = this._generation;
    try {
      const page = await this._source.listJobsPage({
        all: this._showAll && this.isAdmin,
        limit: JobsModel.PAGE_SIZE,
        cursor: this._nextCursor
      });
      if (generation !== this._generation) {
        return;
      }
      for (const job of page.jobs) {
        if (!this._jobs.has(job.id)) {
          this._jobs.set(job.id, job);
        }
      }
      this._nextCursor = page.next_cursor ?? null;
    } catch (error) {
      this._error = this._trans.__(
        'Could not list older nbqueue jobs: %1',
        describe(error)
      );
    }
    this._changed.emit();
  }

  /** How many jobs one page (of the newest, or of older ones) lists. */
  static readonly PAGE_SIZE = 200;

  private async _allPages(options: IListJobsOptions): Promise<IJob[]> {
    const jobs: IJob[] = [];
    let cursor: number | undefined;
    do {
      const page = await this._source.listJobsPage({
        ...options,
        limit: 1000,
        cursor
      });
      jobs.push(...page.jobs);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return jobs;
  }

  /** A job the server answered to an action: shown before its `job` message. */
  update(job: IJob): void {
    this._onJob(null, job);
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _onJob(_: unknown, job: IJob): void {
    // Admins' sockets get everyone's jobs; show them only in "all users".
    const user = this.user;
    if (!this._showAll && user !== null && job.owner !== user) {
      return;
    }
    this._jobs.set(job.id, { ...this._jobs.get(job.id), ...job });
    this._changed.emit();
  }

  private _source: JobsSource;
  private _trans: TranslationBundle;
  private _jobs = new Map<string, IJob>();
  private _info: IInfo | null = null;
  private _queues: IQueue[] = [];
  private _profiles: IProfile[] = [];
  private _usage: IUsage | null = null;
  private _error: string | null = null;
  private _loaded = false;
  private _nextCursor: number | null = null;
  private _generation = 0;
  private _showAll = false;
  private _stateFilter: StateFilter = 'all';
  private _queueFilter = '';
  private _selected = new Set<string>();
  private _changed = new Signal<this, void>(this);
}
