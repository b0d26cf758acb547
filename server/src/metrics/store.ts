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
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
`;

/**
 * The metric points of every job, one row per `metric` event, in the store's SQLite database.
 * Rows are keyed like events, by (job, seq), so a re-sent batch stores nothing twice.
 */
export class MetricStore {
  private readonly insert: Database.Statement;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO metrics (job_id, seq, name, step, value, time, kind) VALUES (?, ?, ?, ?, ?, ?, ?)'
    );
  }

  /** Stores the metric events among `events` (call inside the events' transaction). */
  append(jobId: string, events: JobEvent[]): number {
    let inserted = 0;
    for (const ev of events) {
      if (ev.type !== 'metric') continue;
      const value = typeof ev.value === 'number' ? ev.value : null;
      inserted += this.insert.run(
        jobId,
        ev.seq,
        ev.name,
        ev.step,
        value,
        ev.time,
        ev.kind === 'system' ? 'system' : 'user'
      ).changes;
    }
    return inserted;
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
