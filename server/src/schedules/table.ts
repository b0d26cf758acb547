/**
 * The schedules table, in the store's SQLite file (made by Store, as MetricStore is). A firing
 * is marked by one conditional update (claimFiring) before its job is submitted, so a crash
 * between the two loses that firing rather than repeating it.
 */
import type Database from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schedules (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  cron TEXT NOT NULL,
  timezone TEXT NOT NULL,
  overlap TEXT NOT NULL,
  missed TEXT NOT NULL,
  end_at TEXT,
  paused INTEGER NOT NULL DEFAULT 0,
  kind TEXT NOT NULL,
  profile TEXT,
  body TEXT NOT NULL,
  next_run_at TEXT,
  last_run_at TEXT,
  last_job_id TEXT,
  last_pipeline_id TEXT,
  last_outcome TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS schedules_owner ON schedules(owner, created_at);
`;

export type Overlap = 'skip' | 'queue' | 'cancel_previous';
export type Missed = 'skip' | 'run_once';

/** A schedule as stored; `body` is the job's Submission or the pipeline's body. */
export interface ScheduleRecord {
  id: string;
  owner: string;
  name: string;
  cron: string;
  timezone: string;
  overlap: Overlap;
  missed: Missed;
  end_at: string | null;
  paused: boolean;
  kind: 'job' | 'pipeline';
  profile: string | null;
  body: Record<string, unknown>;
  next_run_at: string | null;
  last_run_at: string | null;
  last_job_id: string | null;
  last_pipeline_id: string | null;
  last_outcome: string | null;
  created_at: string;
}

type Row = Omit<ScheduleRecord, 'paused' | 'body'> & {
  paused: number;
  body: string;
};

const toRecord = (row: Row): ScheduleRecord => ({
  ...row,
  paused: row.paused === 1,
  body: JSON.parse(row.body) as Record<string, unknown>
});

export type SchedulePatch = Partial<
  Pick<
    ScheduleRecord,
    | 'paused'
    | 'next_run_at'
    | 'last_run_at'
    | 'last_job_id'
    | 'last_pipeline_id'
    | 'last_outcome'
  >
>;

export class ScheduleTable {
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
  }

  insert(s: ScheduleRecord): void {
    this.db
      .prepare(
        `INSERT INTO schedules (id, owner, name, cron, timezone, overlap, missed, end_at, paused, kind, profile,
           body, next_run_at, last_run_at, last_job_id, last_pipeline_id, last_outcome, created_at)
         VALUES (@id, @owner, @name, @cron, @timezone, @overlap, @missed, @end_at, @paused, @kind, @profile,
           @body, @next_run_at, @last_run_at, @last_job_id, @last_pipeline_id, @last_outcome, @created_at)`
      )
      .run({ ...s, paused: s.paused ? 1 : 0, body: JSON.stringify(s.body) });
  }

  get(id: string): ScheduleRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM schedules WHERE id = ?')
      .get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Everyone's (owner undefined) or one owner's, oldest first. */
  list(owner?: string): ScheduleRecord[] {
    const rows = (
      owner === undefined
        ? this.db
            .prepare('SELECT * FROM schedules ORDER BY created_at, id')
            .all()
        : this.db
            .prepare(
              'SELECT * FROM schedules WHERE owner = ? ORDER BY created_at, id'
            )
            .all(owner)
    ) as Row[];
    return rows.map(toRecord);
  }

  /** The schedules that will fire, soonest first. */
  active(): ScheduleRecord[] {
    return (
      this.db
        .prepare(
          'SELECT * FROM schedules WHERE paused = 0 AND next_run_at IS NOT NULL ORDER BY next_run_at'
        )
        .all() as Row[]
    ).map(toRecord);
  }

  update(id: string, patch: SchedulePatch): void {
    const keys = Object.keys(patch) as (keyof SchedulePatch)[];
    if (!keys.length) return;
    const values: Record<string, unknown> = { id };
    for (const k of keys)
      values[k] = k === 'paused' ? (patch[k] ? 1 : 0) : patch[k];
    this.db
      .prepare(
        `UPDATE schedules SET ${keys.map(k => `${k} = @${k}`).join(', ')} WHERE id = @id`
      )
      .run(values);
  }

  /**
   * Marks a firing, only if the schedule is still as the loop read it (not paused, not
   * deleted, next_run_at unchanged): true when this call marked it.
   */
  claimFiring(
    id: string,
    expectedNext: string,
    patch: {
      last_run_at: string | null;
      next_run_at: string | null;
      last_outcome: string | null;
    }
  ): boolean {
    return (
      this.db
        .prepare(
          `UPDATE schedules SET last_run_at = @last_run_at, next_run_at = @next_run_at, last_outcome = @last_outcome
           WHERE id = @id AND paused = 0 AND next_run_at = @expected`
        )
        .run({ ...patch, id, expected: expectedNext }).changes === 1
    );
  }

  delete(id: string): boolean {
    return (
      this.db.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes ===
      1
    );
  }
}
