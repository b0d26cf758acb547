import type { PipelineView } from '../api/contract/pipelines';
import type { Store } from '../store/store';
import type { JobQueries } from './queries';
import type { JobEvent, JobRecord, JobView } from './types';

/** Who hears about changes: the live (socket.io) layer. */
export interface JobListener {
  jobChanged(job: JobView): void;
  eventsAppended(job: JobRecord, events: JobEvent[]): void;
  /** A pipeline (server/src/pipelines) changed: its new view. */
  pipelineChanged?(pipeline: PipelineView): void;
  /**
   * Whether it wants, now, the views of queued jobs whose position, ETA or waiting moved (the
   * throttled queue publish); absent: never. With none wanting them, the queue is not read.
   */
  queueMoves?(): boolean;
}

export interface JobPublisherOptions {
  store: Store;
  queries: JobQueries;
}

/** Queue positions and ETAs are sent at most this often (ms). */
const PUBLISH_QUEUE_MS = 100;

/**
 * Tells subscribers what changed: a job's new view, a job's new events, and (throttled) the
 * positions and ETAs that moved in the queue. Listeners subscribe when they exist, so nothing
 * here waits for them; with none, nothing is read or sent (queue moves: while one wants them).
 */
export class JobPublisher {
  private readonly listeners = new Set<JobListener>();
  private queueTimer: NodeJS.Timeout | undefined;
  /** What was last sent for each queued job, so unchanged ones are not sent again. */
  private readonly published = new Map<string, string>();

  constructor(private readonly options: JobPublisherOptions) {}

  /** Adds a listener; the function returned removes it. */
  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The listeners that want queue moves now. */
  private movesHeard(): JobListener[] {
    return [...this.listeners].filter(l => l.queueMoves?.());
  }

  /** The job's state, reason or flags changed: its new view goes out now. */
  jobChanged(id: string): void {
    if (!this.listeners.size) return;
    const job = this.options.store.getJob(id);
    if (!job) return;
    const view = this.options.queries.view(job);
    for (const listener of this.listeners) listener.jobChanged(view);
  }

  pipelineChanged(pipeline: PipelineView): void {
    for (const listener of this.listeners) listener.pipelineChanged?.(pipeline);
  }

  eventsAppended(job: JobRecord, events: JobEvent[]): void {
    for (const listener of this.listeners) listener.eventsAppended(job, events);
  }

  /**
   * Queue positions and ETAs move for everyone in a queue when one job comes or goes; only the
   * jobs whose position, ETA or waiting summary changed are sent.
   */
  queueChanged(): void {
    // A burst of changes (10,000 submits) is published once per interval, not once per change:
    // each publish reads and orders the whole queue.
    if (this.queueTimer || !this.movesHeard().length) return;
    this.queueTimer = setTimeout(() => {
      this.queueTimer = undefined;
      if (this.options.store.isOpen()) this.publishQueueNow();
    }, PUBLISH_QUEUE_MS);
    this.queueTimer.unref();
  }

  private publishQueueNow(): void {
    // A client that connects later reads the jobs list first: nothing is lost by not sending.
    const listeners = this.movesHeard();
    if (!listeners.length) return;
    const { store, queries } = this.options;
    const info = queries.queueInfo();
    const seen = new Set<string>();
    for (const row of info.rows) {
      seen.add(row.id);
      const eta = row.held ? null : (info.eta(row.id)?.seconds ?? null);
      // Why it waits changes with the pools too (a job ended elsewhere, a user's running jobs).
      const waiting = info.waiting(row.id)?.summary ?? null;
      const key = `${info.position(row.id)}|${eta}|${row.held}|${row.priority}|${row.queue}|${waiting}`;
      if (this.published.get(row.id) === key) continue;
      this.published.set(row.id, key);
      const job = store.getJob(row.id);
      if (!job) continue;
      const view = queries.view(job, info);
      for (const listener of listeners) listener.jobChanged(view);
    }
    for (const id of this.published.keys())
      if (!seen.has(id)) this.published.delete(id);
  }
}
