/**
 * The retention side of the store's SQLite file (made by Store, as the pipeline and schedule
 * tables are): which finished jobs may go, how many bytes each job and each user holds, the
 * one transaction that deletes a job's rows, and the online backup of the whole file.
 *
 * Sizes are the lengths of the stored texts (spec, notebook, result, events) plus a fixed
 * 48 bytes per metric row and the archives' sizes: close to what the rows take in the file,
 * without reading SQLite's pages. A finished job's size is measured once and kept (job_sizes):
 * reading every event of every job on each usage call would take seconds on a large store.
 */
import type Database from 'better-sqlite3';
import { FILE_TABLE } from '../files/store';

/** About what one metric row takes in the file (key, name, step, value, time, kind). */
export const METRIC_ROW_BYTES = 48;

const FINAL = "('succeeded', 'failed', 'cancelled')";

/** A job a pipeline still running needs (its step's outputs are read from its events). */
const NEEDED_BY_PIPELINE = `id IN (SELECT s.job_id FROM pipeline_steps s
  JOIN pipelines p ON p.id = s.pipeline_id WHERE p.state = 'running' AND s.job_id IS NOT NULL)`;

/** The rows' bytes of the job `j.id` (the store's part of its size). */
const JOB_BYTES = `length(j.spec) + length(j.notebook)
  + COALESCE((SELECT length(r.notebook) FROM results r WHERE r.job_id = j.id), 0)
  + COALESCE((SELECT SUM(length(e.body)) FROM events e WHERE e.job_id = j.id), 0)
  + ${METRIC_ROW_BYTES} * (SELECT COUNT(*) FROM metrics m WHERE m.job_id = j.id)
  + COALESCE((SELECT f.bytes FROM job_files f WHERE f.kind = 'output' AND f.job_id = j.id), 0)`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS job_sizes (
  job_id TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** The job's size: kept once it ended, else measured (COALESCE stops at the first non-null). */
const SIZE = `COALESCE((SELECT s.bytes FROM job_sizes s WHERE s.job_id = j.id), ${JOB_BYTES})`;

/** A finished job that retention may delete, with what its rows take. */
export interface RemovableJob {
  id: string;
  owner: string;
  name: string;
  state: string;
  finished_at: string;
  /** Bytes of its rows and its output archive (its folder on disk is added by the caller). */
  bytes: number;
}

/** What deleting a job's rows leaves to delete on disk (paths relative to the files folder). */
export interface RemovedRows {
  id: string;
  archives: string[];
}

export class RetentionTable {
  constructor(private readonly db: Database.Database) {
    // The archives' table is the file store's (its own connection); made here too, so a store
    // opened without one (tests, `nbqueue serve` before the files exist) can delete jobs.
    db.exec(FILE_TABLE);
    db.exec(SCHEMA);
  }

  /**
   * Finished jobs retention may delete, oldest end first: ended before `endedBefore` (if
   * given), of `owner` (if given), and not needed by a running pipeline.
   */
  removable(
    filter: { endedBefore?: string; owner?: string; limit?: number } = {}
  ): RemovableJob[] {
    const where = [`j.state IN ${FINAL}`, 'j.finished_at IS NOT NULL'];
    const args: unknown[] = [];
    if (filter.endedBefore !== undefined) {
      where.push('j.finished_at < ?');
      args.push(filter.endedBefore);
    }
    if (filter.owner !== undefined) {
      where.push('j.owner = ?');
      args.push(filter.owner);
    }
    where.push(`NOT j.${NEEDED_BY_PIPELINE}`);
    args.push(filter.limit ?? -1);
    return this.db
      .prepare(
        `SELECT j.id, j.owner, j.name, j.state, j.finished_at, ${SIZE} AS bytes FROM jobs j
         WHERE ${where.join(' AND ')} ORDER BY j.finished_at, j.position_key LIMIT ?`
      )
      .all(...args) as RemovableJob[];
  }

  /** Every owner of a job or an archive. */
  owners(): string[] {
    return (
      this.db
        .prepare(
          'SELECT owner FROM jobs UNION SELECT owner FROM job_files ORDER BY owner'
        )
        .all() as { owner: string }[]
    ).map(r => r.owner);
  }

  /**
   * What `owner`'s rows take: their jobs (with results, events, metrics, output archives) and
   * their input archives. One user at a time: the events of one owner's jobs, by index.
   */
  ownerBytes(owner: string): { jobs: number; bytes: number; ids: string[] } {
    const rows = this.db
      .prepare(
        `SELECT j.id, ${SIZE} AS bytes,
           j.state IN ${FINAL} AND NOT EXISTS (SELECT 1 FROM job_sizes s WHERE s.job_id = j.id) AS unkept
         FROM jobs j WHERE j.owner = ?`
      )
      .all(owner) as { id: string; bytes: number; unkept: number }[];
    const keep = this.db.prepare(
      'INSERT OR IGNORE INTO job_sizes (job_id, bytes) VALUES (?, ?)'
    );
    this.db.transaction(() => {
      for (const r of rows) if (r.unkept) keep.run(r.id, r.bytes);
    })();
    const inputs = this.db
      .prepare(
        "SELECT COALESCE(SUM(bytes), 0) AS b FROM job_files WHERE kind = 'input' AND owner = ?"
      )
      .get(owner) as { b: number };
    return {
      jobs: rows.length,
      bytes: rows.reduce((s, r) => s + r.bytes, 0) + inputs.b,
      ids: rows.map(r => r.id)
    };
  }

  /** The tables holding rows of one job (the file store's exist once it was opened). */
  private jobTables(): string[] {
    const known = new Set(
      (
        this.db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
          .all() as Array<{ name: string }>
      ).map(t => t.name)
    );
    return [
      'events',
      'display_updates',
      'metrics',
      'results',
      'result_files',
      'job_checkpoints',
      'job_sizes',
      'notification_deliveries'
    ].filter(t => known.has(t));
  }

  /**
   * Deletes the rows of the finished jobs `ids` in one transaction: the job, its events,
   * display updates, metrics, result, output archive's row, its input archive's row when no
   * other job uses it, and the links of pipeline steps and schedules to it. A job that is not
   * finished (any more) is left alone. Returns the deleted jobs with the archives to delete.
   */
  deleteRows(ids: string[]): RemovedRows[] {
    const done: RemovedRows[] = [];
    this.db.transaction(() => {
      for (const id of ids) {
        const job = this.db
          .prepare(
            `SELECT json_extract(spec, '$.input_bundle') AS input FROM jobs j
             WHERE id = ? AND state IN ${FINAL} AND NOT j.${NEEDED_BY_PIPELINE}`
          )
          .get(id) as { input: string | null } | undefined;
        if (!job) continue;
        for (const table of this.jobTables())
          this.db.prepare(`DELETE FROM ${table} WHERE job_id = ?`).run(id);
        this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
        this.db
          .prepare('UPDATE pipeline_steps SET job_id = NULL WHERE job_id = ?')
          .run(id);
        this.db
          .prepare(
            'UPDATE schedules SET last_job_id = NULL WHERE last_job_id = ?'
          )
          .run(id);
        const archives = (
          this.db
            .prepare(
              "DELETE FROM job_files WHERE kind = 'output' AND job_id = ? RETURNING archive"
            )
            .all(id) as { archive: string }[]
        ).map(r => r.archive);
        if (job.input && !this.inputInUse(job.input))
          archives.push(
            ...(
              this.db
                .prepare(
                  "DELETE FROM job_files WHERE kind = 'input' AND id = ? RETURNING archive"
                )
                .all(job.input) as { archive: string }[]
            ).map(r => r.archive)
          );
        done.push({ id, archives });
      }
    })();
    return done;
  }

  private inputInUse(input: string): boolean {
    return (
      this.db
        .prepare(
          "SELECT 1 FROM jobs WHERE json_extract(spec, '$.input_bundle') = ? LIMIT 1"
        )
        .get(input) !== undefined
    );
  }

  /**
   * A consistent copy of the whole file, made with SQLite's online backup while the sidecar
   * goes on writing (better-sqlite3 copies a few pages per turn of the event loop).
   */
  backup(file: string): Promise<unknown> {
    return this.db.backup(file);
  }
}
