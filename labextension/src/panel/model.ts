/**
 * The Jobs panel's model: the jobs the sidecar reported (REST list, then
 * socket `job` messages), the filters, and the rows the view draws. The
 * functions at the top are pure, so the rules are tested without a DOM.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { NbqueueService } from '../service/client';
import { describe } from '../service/errors';
import {
  IInfo,
  IJob,
  IListJobsOptions,
  IProfile,
  IQueue,
  isFinal,
  JobState,
  ReorderTarget
} from '../service/model';

/** The `data-action` of a row's buttons. */
export type JobAction =
  | 'cancel'
  | 'hold'
  | 'release'
  | 'front'
  | 'back'
  | 'priority'
  | 'move'
  | 'rerun'
  | 'live'
  | 'result'
  | 'error'
  | 'log'
  | 'metrics'
  | 'files';

export type StateFilter =
  | 'all'
  | 'active'
  | 'queued'
  | 'held'
  | 'running'
  | 'finished'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export const STATE_FILTERS: readonly StateFilter[] = [
  'all',
  'active',
  'queued',
  'held',
  'running',
  'finished',
  'succeeded',
  'failed',
  'cancelled'
];

/** What one row of the panel shows. */
export interface IJobRow {
  id: string;
  name: string;
  owner: string;
  state: JobState;
  /** The state as shown: "held" for a held queued job, "cancelling", ... */
  label: string;
  queue: string;
  profile: string;
  priority: string;
  position: number | null;
  eta: string;
  etaTitle: string;
  elapsed: string;
  /** The elapsed time changes every second. */
  ticking: boolean;
  reason: string | null;
  /** The person looking owns this job (reorder is for own jobs only). */
  own: boolean;
  actions: JobAction[];
}

/** "42s", "3m 05s", "1h 02m", "2d 03h"; negative durations count as 0. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) {
    return `${days}d ${pad(hours)}h`;
  }
  if (hours > 0) {
    return `${hours}h ${pad(minutes)}m`;
  }
  if (minutes > 0) {
    return `${minutes}m ${pad(seconds)}s`;
  }
  return `${seconds}s`;
}

/** Run time so far (running) or in all (finished); null before the start. */
export function elapsedMs(
  job: Pick<IJob, 'started_at' | 'finished_at'>,
  now: number
): number | null {
  if (!job.started_at) {
    return null;
  }
  const start = Date.parse(job.started_at);
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start;
}

/** The ETA cell: "~3m 20s", "unknown" (never a made-up number), or empty. */
export function formatEta(
  job: Pick<IJob, 'state' | 'eta_seconds' | 'held'>
): string {
  if (job.state !== 'queued') {
    return '';
  }
  if (job.eta_seconds === null || job.eta_seconds === undefined) {
    return 'unknown';
  }
  return job.eta_seconds < 1
    ? 'now'
    : `~${formatDuration(job.eta_seconds * 1000)}`;
}

export function isHeld(job: Pick<IJob, 'state' | 'held'>): boolean {
  return job.state === 'queued' && job.held === true;
}

export function matchesState(job: IJob, filter: StateFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'active':
      return !isFinal(job.state);
    case 'queued':
      return job.state === 'queued' && !isHeld(job);
    case 'held':
      return isHeld(job);
    case 'running':
      return job.state === 'running' || job.state === 'starting';
    case 'finished':
      return isFinal(job.state);
    default:
      return job.state === filter;
  }
}

/** Running first, then queued (by queue and position), then finished (newest first). */
export function compareJobs(a: IJob, b: IJob): number {
  const rank = (job: IJob) =>
    job.state === 'running' || job.state === 'starting'
      ? 0
      : job.state === 'queued'
        ? 1
        : 2;
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) {
    return byRank;
  }
  if (a.state === 'queued') {
    const byQueue = a.queue.localeCompare(b.queue);
    if (byQueue !== 0) {
      return byQueue;
    }
    const pa = a.position ?? Number.MAX_SAFE_INTEGER;
    const pb = b.position ?? Number.MAX_SAFE_INTEGER;
    if (pa !== pb) {
      return pa - pb;
    }
    return a.created_at.localeCompare(b.created_at);
  }
  const time = (job: IJob) =>
    job.finished_at ?? job.started_at ?? job.created_at;
  return time(b).localeCompare(time(a)) || b.id.localeCompare(a.id);
}

/** The filtered jobs, in the panel's order. */
export function visibleJobs(
  jobs: Iterable<IJob>,
  filter: { state: StateFilter; queue: string }
): IJob[] {
  return [...jobs]
    .filter(
      job =>
        matchesState(job, filter.state) &&
        (!filter.queue || job.queue === filter.queue)
    )
    .sort(compareJobs);
}

/** The actions a row offers; the server still decides. */
export function actionsOf(job: IJob, own: boolean): JobAction[] {
  if (job.state === 'queued') {
    const actions: JobAction[] = [isHeld(job) ? 'release' : 'hold', 'cancel'];
    if (own) {
      actions.push('front', 'back');
    }
    actions.push('priority', 'move', 'live');
    return actions;
  }
  if (job.state === 'starting' || job.state === 'running') {
    return job.cancel_requested
      ? ['live', 'log', 'metrics']
      : ['cancel', 'live', 'log', 'metrics'];
  }
  const actions: JobAction[] = ['rerun'];
  if (job.has_result) {
    actions.push('result');
  }
  // What it wrote comes back next to the notebook it was submitted from.
  if (job.notebook_path) {
    actions.push('files');
  }
  if (job.reason) {
    actions.push('error');
  }
  actions.push('log', 'metrics');
  return actions;
}

export function rowOf(job: IJob, now: number, user: string | null): IJobRow {
  const elapsed = elapsedMs(job, now);
  const own = user === null || job.owner === user;
  let label: string = job.state;
  if (isHeld(job)) {
    label = 'held';
  } else if (job.cancel_requested && !isFinal(job.state)) {
    label = 'cancelling';
  }
  return {
    id: job.id,
    name: job.name,
    owner: job.owner,
    state: job.state,
    label,
    queue: job.queue,
    profile: job.profile,
    priority: job.priority,
    position: job.state === 'queued' ? job.position : null,
    eta: formatEta(job),
    etaTitle:
      job.state === 'queued'
        ? (job.eta_basis ??
          (isHeld(job) ? 'Held jobs are not admitted until released.' : ''))
        : '',
    elapsed: elapsed === null ? '' : formatDuration(elapsed),
    ticking: elapsed !== null && !job.finished_at,
    reason: job.reason,
    own,
    actions: actionsOf(job, own)
  };
}

/** Counts for the status bar: this user's jobs only. */
export function statusCounts(
  jobs: Iterable<IJob>,
  user: string | null
): { running: number; queued: number } {
  let running = 0;
  let queued = 0;
  for (const job of jobs) {
    if (user !== null && job.owner !== user) {
      continue;
    }
    if (job.state === 'running' || job.state === 'starting') {
      running += 1;
    } else if (job.state === 'queued') {
      queued += 1;
    }
  }
  return { running, queued };
}

export function statusText(counts: { running: number; queued: number }) {
  return `${counts.running} running · ${counts.queued} queued`;
}

/** Drop on the upper half of a row: before it; lower half: after it. */
export function dropPlacement(
  clientY: number,
  rect: { top: number; height: number }
): 'before' | 'after' {
  return clientY < rect.top + rect.height / 2 ? 'before' : 'after';
}

/**
 * The reorder request for dropping `draggedId` before or after `targetId`,
 * or null when the drop means nothing: only the owner's own queued jobs of
 * one queue can change places (docs/protocol.md, "Reorder rule").
 */
export function reorderIntent(
  jobs: Iterable<IJob>,
  user: string | null,
  draggedId: string,
  targetId: string,
  placement: 'before' | 'after'
): ReorderTarget | null {
  const all = [...jobs];
  const dragged = all.find(job => job.id === draggedId);
  const target = all.find(job => job.id === targetId);
  if (!dragged || !target || dragged.id === target.id) {
    return null;
  }
  const movable = (job: IJob) =>
    job.state === 'queued' &&
    job.queue === dragged.queue &&
    job.owner === dragged.owner &&
    (user === null || job.owner === user);
  if (!movable(dragged) || !movable(target)) {
    return null;
  }
  const order = all
    .filter(movable)
    .sort(compareJobs)
    .map(job => job.id);
  const without = order.filter(id => id !== draggedId);
  const at = without.indexOf(targetId) + (placement === 'after' ? 1 : 0);
  const next = [...without.slice(0, at), draggedId, ...without.slice(at)];
  if (next.every((id, i) => id === order[i])) {
    return null;
  }
  if (at === 0) {
    return { to: 'front' };
  }
  if (at === without.length) {
    return { to: 'back' };
  }
  return { before: without[at] };
}

/** What the model needs of `NbqueueService`. */
export type JobsSource = Pick<
  NbqueueService,
  | 'getInfo'
  | 'getQueues'
  | 'getProfiles'
  | 'listJobsPage'
  | 'jobChanged'
  | 'connected'
>;

export class JobsModel {
  constructor(source: JobsSource) {
    this._source = source;
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

  visible(): IJob[] {
    return visibleJobs(this._jobs.values(), {
      state: this._stateFilter,
      queue: this._queueFilter
    });
  }

  rows(now: number): IJobRow[] {
    return this.visible().map(job => rowOf(job, now, this.user));
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
      const [active, page, queues, profiles] = await Promise.all([
        this._allPages({ all, states: ['queued', 'starting', 'running'] }),
        this._source.listJobsPage({ all, limit: JobsModel.PAGE_SIZE }),
        this._source.getQueues(),
        this._source.getProfiles()
      ]);
      if (generation !== this._generation) {
        return;
      }
      this._info = info;
      this._queues = queues;
      this._profiles = profiles;
      this._jobs = new Map([...page.jobs, ...active].map(job => [job.id, job]));
      this._nextCursor = page.next_cursor ?? null;
      this._error = null;
      this._loaded = true;
    } catch (error) {
      if (generation !== this._generation) {
        return;
      }
      this._error = `Could not list nbqueue jobs: ${describe(error)}`;
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
      this._error = `Could not list older nbqueue jobs: ${describe(error)}`;
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
  private _jobs = new Map<string, IJob>();
  private _info: IInfo | null = null;
  private _queues: IQueue[] = [];
  private _profiles: IProfile[] = [];
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
