import type Database from 'better-sqlite3';

export interface QueueRow {
  id: string;
  owner: string;
  profile: string;
  queue: string;
  priority: string;
  position_key: number;
  held: number;
  /** Above 1: a restarted job, waiting to run again (it goes first). */
  attempt: number;
}

type Listener = (id: string, row: QueueRow | undefined) => void;

const COLUMNS =
  'id, owner, profile, queue, priority, position_key, held, attempt';

/**
 * The queued rows kept in memory (light: no spec, no JSON), read once and then kept in step
 * with every change to a job (the store tells it); listeners (the queue index) hear of each
 * change. Also counts every change other than a queued insert (a start, an end, a hold): what
 * cached views of the running jobs are kept against.
 */
export class QueueRows {
  private rows: Map<string, QueueRow> | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly all: Database.Statement;
  private readonly one: Database.Statement;
  changes = 0;

  constructor(db: Database.Database) {
    this.all = db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE state = 'queued'`);
    this.one = db.prepare(
      `SELECT ${COLUMNS} FROM jobs WHERE id = ? AND state = 'queued'`
    );
  }

  list(): QueueRow[] {
    this.rows ??= new Map((this.all.all() as QueueRow[]).map(r => [r.id, r]));
    return [...this.rows.values()];
  }

  watch(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The job's queue row is now `row` (undefined: it is not queued). */
  set(id: string, row: QueueRow | undefined): void {
    if (this.rows) {
      if (row) this.rows.set(id, row);
      else this.rows.delete(id);
    }
    for (const listener of this.listeners) listener(id, row);
  }

  /** Reads the job's row again after a change to it. */
  refresh(id: string): void {
    this.changes += 1;
    this.set(id, this.one.get(id) as QueueRow | undefined);
  }
}
