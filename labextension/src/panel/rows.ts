/**
 * The rows of the Jobs panel: which jobs show under a filter, in which
 * order, and what each row says and offers. Pure functions, so the rules are
 * tested without a DOM.
 */
import { attemptText } from '../jobs/attempt';
import { estimateText, progressText } from './estimates';
import { FINAL_STATES, IJob, isFinal, JobState } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';

/** The texts' default: English. */
const ENGLISH = nbqueueBundle();

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

/** What the state filter offers: groups of states, then each final state. */
export type StateFilter =
  | 'all'
  | 'active'
  | 'queued'
  | 'held'
  | 'running'
  | 'finished'
  | (typeof FINAL_STATES)[number];

export const STATE_FILTERS: readonly StateFilter[] = [
  'all',
  'active',
  'queued',
  'held',
  'running',
  'finished',
  ...FINAL_STATES
];

/** What a row's state label (`IJobRow.label`) can say: a state or more. */
export type StateLabel = JobState | 'held' | 'cancelling';

/** The words of a row's state label. */
export function stateLabels(
  trans: TranslationBundle = ENGLISH
): Record<StateLabel, string> {
  return {
    queued: trans.__('queued'),
    starting: trans.__('starting'),
    running: trans.__('running'),
    succeeded: trans.__('succeeded'),
    failed: trans.__('failed'),
    cancelled: trans.__('cancelled'),
    held: trans.__('held'),
    cancelling: trans.__('cancelling')
  };
}

/** The words of the state filter's options. */
export function stateFilterLabels(
  trans: TranslationBundle = ENGLISH
): Record<StateFilter, string> {
  return {
    ...stateLabels(trans),
    all: trans.__('all'),
    active: trans.__('active'),
    finished: trans.__('finished')
  };
}

/** What one row of the panel shows. */
export interface IJobRow {
  id: string;
  name: string;
  owner: string;
  state: JobState;
  /** The state as shown: "held" for a held queued job, "cancelling", ... */
  label: StateLabel;
  queue: string;
  profile: string;
  priority: string;
  position: number | null;
  eta: string;
  etaTitle: string;
  /** "starts in ~4 min (2–9 min)", "ends in ~12 min (5–30 min)"; empty if none. */
  estimate: string;
  /** "cell 5 of 12 · 3 min in this cell" for a running job; empty if not known. */
  progress: string;
  elapsed: string;
  /** The elapsed time changes every second. */
  ticking: boolean;
  reason: string | null;
  /** "attempt 2 of 3, restarted after node preemption"; empty if never restarted. */
  attempt: string;
  /** Why a queued job waits: one sentence, and every reason (for its tooltip). */
  waiting: string | null;
  waitingDetail: string;
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
  job: Pick<IJob, 'state' | 'eta_seconds' | 'held'>,
  trans: TranslationBundle = ENGLISH
): string {
  if (job.state !== 'queued') {
    return '';
  }
  if (job.eta_seconds === null || job.eta_seconds === undefined) {
    return trans.__('unknown');
  }
  return job.eta_seconds < 1
    ? trans.__('now')
    : trans.__('~%1', formatDuration(job.eta_seconds * 1000));
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

/** How many finished jobs the sidebar lists under "all"; the table has every one. */
export const RECENT_FINISHED = 10;

/**
 * The sidebar under "all": every active job and the `recent` newest finished
 * ones (jobs in the panel's order: finished last, newest first); and how many
 * finished jobs that leaves to the Jobs table.
 */
export function recentTail(
  jobs: readonly IJob[],
  recent: number = RECENT_FINISHED
): { jobs: IJob[]; older: number } {
  let finished = 0;
  const kept = jobs.filter(job => !isFinal(job.state) || ++finished <= recent);
  return { jobs: kept, older: jobs.length - kept.length };
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

export function rowOf(
  job: IJob,
  now: number,
  user: string | null,
  trans: TranslationBundle = ENGLISH
): IJobRow {
  const elapsed = elapsedMs(job, now);
  const own = user === null || job.owner === user;
  let label: StateLabel = job.state;
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
    eta: formatEta(job, trans),
    estimate: estimateText(job, trans),
    progress: progressText(job, now, trans),
    etaTitle:
      job.state === 'queued'
        ? (job.eta_basis ??
          (isHeld(job)
            ? trans.__('Held jobs are not admitted until released.')
            : ''))
        : '',
    elapsed: elapsed === null ? '' : formatDuration(elapsed),
    ticking: elapsed !== null && !job.finished_at,
    reason: job.reason,
    attempt: attemptText(job, trans),
    waiting: job.state === 'queued' ? (job.waiting?.summary ?? null) : null,
    waitingDetail:
      job.state === 'queued'
        ? (job.waiting?.reasons ?? []).map(r => r.message).join('\n')
        : '',
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

export function statusText(
  counts: { running: number; queued: number },
  trans: TranslationBundle = ENGLISH
): string {
  return trans.__('%1 running · %2 queued', counts.running, counts.queued);
}
