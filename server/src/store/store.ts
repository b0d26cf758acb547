import Database from 'better-sqlite3';
import { MetricStore } from '../metrics/store';
import { NotificationTable } from '../notifications/table';
import { EventCaps, EventTable } from './events';
import { PipelineStore } from '../pipelines/store';
import { ResultTable } from '../results/table';
import { RetentionTable } from '../retention/table';
import { ScheduleTable } from '../schedules/table';
import type {
  JobEvent,
  JobRecord,
  JobSpec,
  JobState,
  Notebook,
  RestartRecord
} from '../jobs/types';
import { privateFile } from './privateFile';
import { QueueRow, QueueRows } from './queueRows';
import { RestartChange, RestartTable } from './restarts';

export type { QueueRow };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  profile TEXT NOT NULL,
  queue TEXT NOT NULL,
  priority TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  position_key REAL NOT NULL,
  spec TEXT NOT NULL,
  notebook TEXT NOT NULL,
  token_hash TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  backend_ref TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0,
  held INTEGER NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 1,
  restarts TEXT NOT NULL DEFAULT '[]',
  -- The token of the attempt a restart took away, good only for storing checkpoints while its
  -- pod terminates (the on_preempt callbacks); gone once the next attempt's runner asks for the
  -- checkpoint to restore, or the job ends.
  draining_token_hash TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, created_at);
CREATE INDEX IF NOT EXISTS jobs_position ON jobs(position_key);
-- The jobs list's order: a page is read from the index, not sorted from the whole table.
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at, position_key);
CREATE TABLE IF NOT EXISTS events (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
-- The latest update_display_data of each display: earlier ones are superseded (see appendEvents).
CREATE TABLE IF NOT EXISTS display_updates (
  job_id TEXT NOT NULL,
  display_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (job_id, display_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results (
  job_id TEXT PRIMARY KEY,
  notebook TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

interface JobRow {
  id: string;
  owner: string;
  name: string;
  profile: string;
  queue: string;
  priority: string;
  state: string;
  reason: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  position_key: number;
  spec: string;
  cancel_requested: number;
  backend_ref: string | null;
  last_seq: number;
  held: number;
  has_result: number;
  attempt: number;
  restarts: string;
}

// A job's last_seq, as clients see it, is its last stored event: past a cap (store/events.ts)
// that is the truncation marker, though the runner's mark goes on.
const JOB_COLUMNS = `id, owner, name, profile, queue, priority, state, reason, created_at, started_at, finished_at,
  position_key, spec, cancel_requested, backend_ref, MIN(last_seq, COALESCE(events_capped_seq, last_seq)) AS last_seq, held, attempt, restarts,
  (EXISTS(SELECT 1 FROM results r WHERE r.job_id = jobs.id)
    OR EXISTS(SELECT 1 FROM result_files f WHERE f.job_id = jobs.id)) AS has_result`;

function toRecord(row: JobRow): JobRecord {
  return {
    ...row,
    state: row.state as JobState,
    spec: JSON.parse(row.spec) as JobSpec,
    cancel_requested: row.cancel_requested === 1,
    held: row.held === 1,
    backend_ref: row.backend_ref
      ? (JSON.parse(row.backend_ref) as Record<string, unknown>)
      : null,
    has_result: row.has_result === 1,
    restarts: JSON.parse(row.restarts) as RestartRecord[]
  };
}

export type JobPatch = Partial<
  Pick<
    JobRecord,
    | 'state'
    | 'reason'
    | 'started_at'
    | 'finished_at'
    | 'cancel_requested'
    | 'backend_ref'
    | 'priority'
    | 'queue'
    | 'profile'
    | 'position_key'
    | 'held'
  >
> & { token_hash?: string | null; draining_token_hash?: null };

/**
 * The persistent store: jobs, their events and their results in one SQLite file (WAL).
 * Every write is a single statement or a transaction, so a crash never leaves half a batch.
 */
export class Store {
  private readonly db: Database.Database;
  /** Metric points, in their own table of the same database (server/src/metrics). */
  readonly metrics: MetricStore;
  /** A job's events; metric points are read from `metrics` (store/events.ts). */
  private readonly events: EventTable;
  /** Pipelines and their steps, in their own tables (server/src/pipelines). */
  readonly pipelines: PipelineStore;
  /** Schedules, in their own table of the same database (server/src/schedules). */
  readonly schedules: ScheduleTable;
  /** Result notebooks kept as files, in their own table (server/src/results). */
  readonly results: ResultTable;
  /** Deleting finished jobs, their sizes, the online backup (server/src/retention). */
  readonly retention: RetentionTable;
  private readonly restarts: RestartTable;
  /** Notification settings and deliveries (server/src/notifications). */
  readonly notifications: NotificationTable;
  private readonly queueRows: QueueRows;

  constructor(file: string) {
    if (file !== ':memory:') privateFile(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // SQLite gives its -wal and -shm files the database file's mode: 0600 too.
    if (file !== ':memory:') privateFile(file);
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.migrate();
    this.metrics = new MetricStore(this.db);
    this.events = new EventTable(this.db, this.metrics);
    this.pipelines = new PipelineStore(this.db);
    this.schedules = new ScheduleTable(this.db);
    this.results = new ResultTable(this.db);
    // After the results table: a restart forgets a result the old runner uploaded.
    this.restarts = new RestartTable(this.db);
    this.retention = new RetentionTable(this.db);
    this.notifications = new NotificationTable(this.db);
    this.queueRows = new QueueRows(this.db);
  }

  /** Brings a store written by an older version up to this schema. */
  private migrate(): void {
    const columns = (
      this.sql('PRAGMA table_info(jobs)').all() as { name: string }[]
    ).map(c => c.name);
    for (const [name, type] of [
      ['held', 'INTEGER NOT NULL DEFAULT 0'],
      ['attempt', 'INTEGER NOT NULL DEFAULT 1'],
      ['restarts', "TEXT NOT NULL DEFAULT '[]'"],
      ['draining_token_hash', 'TEXT']
    ])
      if (!columns.includes(name))
        this.db.exec(`ALTER TABLE jobs ADD COLUMN ${name} ${type}`);
  }

  /** False once closed (a timer that fires after shutdown checks it). */
  /** Statements compiled once per SQL text: compiling costs more than running most of them. */
  private readonly statements = new Map<string, Database.Statement>();

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }

  getSetting(key: string): string | undefined {
    const row = this.sql('SELECT value FROM settings WHERE key = ?').get(
      key
    ) as { value: string } | undefined;
    return row?.value;
  }

  /** Removes a setting, overwriting its bytes (secure_delete) so no copy lingers in the file. */
  deleteSetting(key: string): void {
    if (this.getSetting(key) === undefined) return;
    this.db.pragma('secure_delete = ON');
    this.sql('DELETE FROM settings WHERE key = ?').run(key);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  setSetting(key: string, value: string): void {
    this.sql(
      'INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'
    ).run(key, value);
  }

  nextPositionKey(): number {
    const row = this.sql('SELECT MAX(position_key) AS m FROM jobs').get() as {
      m: number | null;
    };
    return (row.m ?? 0) + 1;
  }

  insertJob(job: JobRecord, notebook: Notebook): void {
    this.writeJob(job, notebook);
    this.jobInserted(job);
  }

  /**
   * Inserts jobs that arrived together in one transaction (group commit): one write to the
   * log for all of them. All or none are stored; the queue hears of them once committed.
   */
  insertJobs(jobs: Array<{ job: JobRecord; notebook: Notebook }>): void {
    this.db.transaction(() => {
      for (const { job, notebook } of jobs) this.writeJob(job, notebook);
    })();
    for (const { job } of jobs) this.jobInserted(job);
  }

  private writeJob(job: JobRecord, notebook: Notebook): void {
    this.sql(
      `INSERT INTO jobs (id, owner, name, profile, queue, priority, state, reason, created_at, started_at, finished_at,
          position_key, spec, notebook, cancel_requested, backend_ref, last_seq)
         VALUES (@id, @owner, @name, @profile, @queue, @priority, @state, @reason, @created_at, @started_at, @finished_at,
          @position_key, @spec, @notebook, 0, NULL, 0)`
    ).run({
      ...job,
      spec: JSON.stringify(job.spec),
      notebook: JSON.stringify(notebook)
    });
  }

  private jobInserted(job: JobRecord): void {
    if (job.state === 'queued')
      this.queueRows.set(job.id, {
        id: job.id,
        owner: job.owner,
        profile: job.profile,
        queue: job.queue,
        priority: job.priority,
        position_key: job.position_key,
        held: job.held ? 1 : 0,
        attempt: job.attempt
      });
    else this.queueRows.changes += 1;
  }

  /**
   * The queued jobs (of one profile, if given), light: no spec, no JSON to parse. This is the
   * hot path (every submit answers a position and runs the scheduler), so the rows are kept in
   * memory (store/queueRows.ts): read once, then kept in step with every change to a job.
   */
  listQueue(profile?: string): QueueRow[] {
    const rows = this.queueRows.list();
    return profile === undefined
      ? rows
      : rows.filter(r => r.profile === profile);
  }

  /**
   * Calls `listener` after each change of a queued row: the row as it is now, or undefined when
   * the job left the queue. The function returned stops it.
   */
  watchQueue(
    listener: (id: string, row: QueueRow | undefined) => void
  ): () => void {
    return this.queueRows.watch(listener);
  }

  /** Counts every change to a job other than a queued insert (a start, an end, a hold). */
  get changes(): number {
    return this.queueRows.changes;
  }

  getJob(id: string): JobRecord | undefined {
    const row = this.sql(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`).get(
      id
    ) as JobRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  getTokenHash(id: string): string | null {
    const row = this.sql('SELECT token_hash FROM jobs WHERE id = ?').get(id) as
      { token_hash: string | null } | undefined;
    return row?.token_hash ?? null;
  }

  /** Voids the token of the attempt a restart took away (the next one is restoring). */
  endDraining(id: string): void {
    this.sql('UPDATE jobs SET draining_token_hash = NULL WHERE id = ?').run(id);
  }

  /** The token of the attempt a restart took away (store/restarts.ts), while it drains. */
  getDrainingTokenHash(id: string): string | null {
    const row = this.sql(
      'SELECT draining_token_hash FROM jobs WHERE id = ?'
    ).get(id) as { draining_token_hash: string | null } | undefined;
    return row?.draining_token_hash ?? null;
  }

  getNotebook(id: string): Notebook | undefined {
    const row = this.sql('SELECT notebook FROM jobs WHERE id = ?').get(id) as
      { notebook: string } | undefined;
    return row ? (JSON.parse(row.notebook) as Notebook) : undefined;
  }

  listJobs(
    filter: {
      owner?: string;
      states?: JobState[];
      queue?: string;
      limit?: number;
      offset?: number;
    } = {}
  ): JobRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.owner !== undefined) {
      where.push('owner = ?');
      args.push(filter.owner);
    }
    if (filter.queue !== undefined) {
      where.push('queue = ?');
      args.push(filter.queue);
    }
    if (filter.states?.length) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      args.push(...filter.states);
    }
    let page = '';
    if (filter.limit !== undefined) {
      // Bound, not written into the text: one compiled statement serves every page.
      page = ' LIMIT ? OFFSET ?';
      args.push(Math.floor(filter.limit), Math.floor(filter.offset ?? 0));
    }
    const sql = `SELECT ${JOB_COLUMNS} FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, position_key DESC${page}`;
    return (this.sql(sql).all(...args) as JobRow[]).map(toRecord);
  }

  /** How many jobs are in one of `states` (of one profile, if given). */
  countJobs(states: JobState[], profile?: string): number {
    const sql = `SELECT COUNT(*) AS n FROM jobs WHERE state IN (${states.map(() => '?').join(', ')})${profile === undefined ? '' : ' AND profile = ?'}`;
    const args: unknown[] =
      profile === undefined ? states : [...states, profile];
    return (this.sql(sql).get(...args) as { n: number }).n;
  }

  /**
   * Admission as one conditional change: the job becomes `starting` only if it is still queued,
   * not held and on `profile`, as it was when the scheduler decided. False when a cancel, hold
   * or move got there first (the caller then leaves it alone).
   */
  claimForStart(
    id: string,
    profile: string,
    tokenHash: string,
    startedAt: string
  ): boolean {
    const changed = this.sql(
      `UPDATE jobs SET state = 'starting', started_at = ?, token_hash = ?
       WHERE id = ? AND state = 'queued' AND held = 0 AND profile = ?`
    ).run(startedAt, tokenHash, id, profile).changes;
    if (changed) {
      this.queueRows.changes += 1;
      this.queueRows.set(id, undefined);
    }
    return changed === 1;
  }

  /** A running job runs again (store/restarts.ts): its marker event, or null if it had ended. */
  restartJob(id: string, change: RestartChange): JobEvent | null {
    const marker = this.restarts.restart(id, change);
    this.queueRows.refresh(id);
    return marker;
  }

  updateJob(id: string, patch: JobPatch): void {
    const keys = Object.keys(patch) as (keyof JobPatch)[];
    if (!keys.length) return;
    const values: Record<string, unknown> = { id };
    for (const k of keys) {
      const v = patch[k];
      if (k === 'backend_ref')
        values[k] = v === null ? null : JSON.stringify(v);
      else if (k === 'cancel_requested' || k === 'held') values[k] = v ? 1 : 0;
      else values[k] = v;
    }
    this.sql(
      `UPDATE jobs SET ${keys.map(k => `${k} = @${k}`).join(', ')} WHERE id = @id`
    ).run(values);
    this.queueRows.refresh(id);
  }

  /**
   * Stores the events not stored yet (idempotent per seq; metric points in the metrics table
   * only) and advances the job's gap-free high-water mark, within the job's `caps`
   * (store/events.ts). Returns the mark before and after, so the caller can fan out exactly
   * the events that became deliverable.
   */
  appendEvents(
    jobId: string,
    events: JobEvent[],
    caps?: EventCaps
  ): { before: number; after: number; inserted: number } {
    return this.events.append(jobId, events, caps);
  }

  /** Events with after < seq <= upTo (upTo defaults to the gap-free mark), in order. */
  listEvents(
    jobId: string,
    after: number,
    limit: number,
    upTo?: number
  ): JobEvent[] {
    const max =
      upTo ??
      (
        this.sql('SELECT last_seq FROM jobs WHERE id = ?').get(jobId) as
          { last_seq: number } | undefined
      )?.last_seq ??
      0;
    return this.events.list(jobId, after, limit, max);
  }

  /** The job's latest event of `type` (where a running job is: server/src/jobs/progress.ts). */
  latestEvent(jobId: string, type: string): JobEvent | undefined {
    return this.events.latest(jobId, type);
  }

  /** Seconds from start to finish of the latest succeeded jobs of a profile, newest first. */
  recentDurations(profile: string, limit = 50): number[] {
    const rows = this.sql(
      `SELECT (julianday(finished_at) - julianday(started_at)) * 86400 AS s FROM jobs
         WHERE profile = ? AND state = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL
         ORDER BY finished_at DESC LIMIT ?`
    ).all(profile, limit) as { s: number }[];
    return rows.map(r => r.s);
  }

  /** The latest succeeded runs of a profile, newest first: who ran each and for how long. */
  recentRuns(
    profile: string,
    limit: number
  ): { owner: string; seconds: number }[] {
    return this.sql(
      `SELECT owner, (julianday(finished_at) - julianday(started_at)) * 86400 AS seconds FROM jobs
         WHERE profile = ? AND state = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL
         ORDER BY finished_at DESC LIMIT ?`
    ).all(profile, limit) as { owner: string; seconds: number }[];
  }

  /**
   * Stores a result sent inline with the finish (runners before the result upload) once: the
   * first finish wins, a retried finish changes nothing.
   */
  saveResult(jobId: string, notebook: Notebook): boolean {
    return (
      this.sql(
        'INSERT OR IGNORE INTO results (job_id, notebook) VALUES (?, ?)'
      ).run(jobId, JSON.stringify(notebook)).changes === 1
    );
  }

  getResult(jobId: string): string | undefined {
    const row = this.sql('SELECT notebook FROM results WHERE job_id = ?').get(
      jobId
    ) as { notebook: string } | undefined;
    return row?.notebook;
  }
}
