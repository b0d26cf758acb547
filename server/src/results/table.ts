import type Database from 'better-sqlite3';

/** A result notebook kept as a file in the job's area (files/store.ts), as the store lists it. */
export interface ResultFile {
  job_id: string;
  bytes: number;
  sha256: string;
  created_at: string;
}

/**
 * Which jobs have a result notebook on disk, in the sidecar's SQLite file. Results sent inline
 * by older runners stay in the `results` table (the notebook as text): both are served.
 */
export const RESULT_FILES_SCHEMA = `
CREATE TABLE IF NOT EXISTS result_files (
  job_id TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
`;

export class ResultTable {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date = () => new Date()
  ) {
    db.exec(RESULT_FILES_SCHEMA);
  }

  /** Records (or replaces: an upload retried before the finish) a job's result file. */
  set(jobId: string, bytes: number, sha256: string): ResultFile {
    const row: ResultFile = {
      job_id: jobId,
      bytes,
      sha256,
      created_at: this.now().toISOString()
    };
    this.db
      .prepare(
        `INSERT INTO result_files (job_id, bytes, sha256, created_at)
         VALUES (@job_id, @bytes, @sha256, @created_at)
         ON CONFLICT (job_id) DO UPDATE SET bytes = excluded.bytes, sha256 = excluded.sha256,
           created_at = excluded.created_at`
      )
      .run(row);
    return row;
  }

  get(jobId: string): ResultFile | undefined {
    return this.db
      .prepare('SELECT * FROM result_files WHERE job_id = ?')
      .get(jobId) as ResultFile | undefined;
  }
}
