import type Database from 'better-sqlite3';
import type { JobEvent } from '../jobs/types';

export type MetricKind = 'user' | 'system';
export const METRIC_KINDS: readonly MetricKind[] = ['user', 'system'];

/** One stored point; `value` null stands for NaN or an infinity. */
export interface MetricRow {
  seq: number;
  name: string;
  step: number;
  value: number | null;
  time: number;
  kind: MetricKind;
}

export interface MetricQuery {
  /** Only points with seq > since (a cursor: the last seq a client has). */
  since?: number;
  kind?: MetricKind;
  /** Only points with seq <= upTo: the job's gap-free mark, so a cursor never skips one. */
  upTo?: number;
  limit?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS metrics (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  time REAL NOT NULL,
  kind TEXT NOT NULL,
  cell_id TEXT,
  cell_index INTEGER,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
`;

/** A stored point as the `metric` event it was (the event replay reads points from here). */
interface PointRow extends MetricRow {
  cell_id: string | null;
  cell_index: number | null;
}

/**
 * The metric points of every job, one row per `metric` event, in the store's SQLite database.
 * This is the only place a point is stored: the events table holds no `metric` events, and the
 * event replay (store/events.ts) reads them back from here as events, in seq order.
 * Rows are keyed like events, by (job, seq), so a re-sent batch stores nothing twice.
 */
export class MetricStore {
  private readonly insert: Database.Statement;
  private readonly exists: Database.Statement;
  private readonly range: Database.Statement;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    // A store written before the points carried their cell: add the columns (null for old rows).
    const columns = (
      db.prepare('PRAGMA table_info(metrics)').all() as { name: string }[]
    ).map(c => c.name);
    if (!columns.includes('cell_id'))
      db.exec(
        'ALTER TABLE metrics ADD COLUMN cell_id TEXT; ALTER TABLE metrics ADD COLUMN cell_index INTEGER'
      );
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO metrics (job_id, seq, name, step, value, time, kind, cell_id, cell_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
    );
    this.exists = db.prepare(
      'SELECT 1 FROM metrics WHERE job_id = ? AND seq = ?'
    );
    this.range = db.prepare(
      'SELECT seq, name, step, value, time, kind, cell_id, cell_index FROM metrics WHERE job_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?'
    );
  }

  /** Stores the metric events among `events` (call inside the events' transaction). */
  append(jobId: string, events: JobEvent[]): number {
    let inserted = 0;
    for (const ev of events)
      if (ev.type === 'metric') inserted += this.add(jobId, ev);
    return inserted;
  }

  /** Stores one `metric` event as a point; 1 when stored, 0 when its seq already was. */
  add(jobId: string, ev: JobEvent): number {
    const value = typeof ev.value === 'number' ? ev.value : null;
    return this.insert.run(
      jobId,
      ev.seq,
      ev.name,
      ev.step,
      value,
      ev.time,
      ev.kind === 'system' ? 'system' : 'user',
      typeof ev.cell_id === 'string' ? ev.cell_id : null,
      typeof ev.cell_index === 'number' ? ev.cell_index : null
    ).changes;
  }

  has(jobId: string, seq: number): boolean {
    return this.exists.get(jobId, seq) !== undefined;
  }

  /** The points with after < seq <= upTo, at most `limit`, as the `metric` events they were. */
  events(
    jobId: string,
    after: number,
    upTo: number,
    limit: number
  ): JobEvent[] {
    const rows = this.range.all(jobId, after, upTo, limit) as PointRow[];
    return rows.map(r => {
      const ev: JobEvent = {
        seq: r.seq,
        time: r.time,
        type: 'metric',
        name: r.name,
        value: r.value,
        step: r.step,
        kind: r.kind
      };
      if (r.cell_id !== null) ev.cell_id = r.cell_id;
      if (r.cell_index !== null) ev.cell_index = r.cell_index;
      return ev;
    });
  }

  list(jobId: string, query: MetricQuery = {}): MetricRow[] {
    return [...this.iterate(jobId, query)];
  }

  /** Rows in seq order without building one big array (for CSV of long series). */
  iterate(jobId: string, query: MetricQuery = {}): IterableIterator<MetricRow> {
    const where = ['job_id = ?', 'seq > ?'];
    const args: unknown[] = [jobId, query.since ?? 0];
    if (query.upTo !== undefined) {
      where.push('seq <= ?');
      args.push(query.upTo);
    }
    if (query.kind) {
      where.push('kind = ?');
      args.push(query.kind);
    }
    args.push(query.limit ?? -1);
    return this.db
      .prepare(
        `SELECT seq, name, step, value, time, kind FROM metrics WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`
      )
      .iterate(...args) as IterableIterator<MetricRow>;
  }
}
