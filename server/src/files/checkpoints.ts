import type Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';

/** What a checkpoint holds: one file as it was saved, or a folder as an uncompressed tar. */
export type CheckpointKind = 'file' | 'folder';

/** A checkpoint a job saved (`nbqueue.checkpoint.save`), numbered per job from 1. */
export interface Checkpoint {
  seq: number;
  /** The saved file's or folder's own name (no directories). */
  name: string;
  kind: CheckpointKind;
  /** Bytes stored (a folder's tar included). */
  bytes: number;
  /** Regular files in it (1 for a file). */
  files: number;
  created_at: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS job_checkpoints (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  files INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
`;

/** A checkpoint's name: a plain file or folder name, as the runner sends it. */
export const CHECKPOINT_NAME = /^(?!\.{1,2}$)[^/\\\0]{1,255}$/;

/**
 * Checkpoints on disk under `<files dir>/checkpoints/<job id>/` (the job's file area, deleted
 * with the job's files), described in the table job_checkpoints of the sidecar's SQLite file.
 * Only the newest `keep` of a job are kept.
 */
export class CheckpointStore {
  constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
    private readonly now: () => Date
  ) {
    fs.mkdirSync(path.join(dir, 'checkpoints'), {
      recursive: true,
      mode: 0o700
    });
    db.exec(SCHEMA);
  }

  private jobDir(jobId: string): string {
    // Job ids are the sidecar's own (j-…); never a path of the caller's.
    if (!/^[\w.-]+$/.test(jobId) || jobId.startsWith('.'))
      throw new Error(`not a job id: ${jobId}`);
    return path.join(this.dir, 'checkpoints', jobId);
  }

  /** Where a checkpoint's bytes are. */
  filePath(jobId: string, checkpoint: Checkpoint): string {
    return path.join(
      this.jobDir(jobId),
      `${checkpoint.seq}${checkpoint.kind === 'folder' ? '.tar' : '.bin'}`
    );
  }

  /**
   * Takes the upload at `tmp` (same filesystem) as the job's next checkpoint, then forgets all
   * but the newest `keep`.
   */
  add(
    jobId: string,
    tmp: string,
    entry: Omit<Checkpoint, 'seq' | 'created_at'>,
    keep: number
  ): Checkpoint {
    fs.mkdirSync(this.jobDir(jobId), { recursive: true, mode: 0o700 });
    const insert = this.db.transaction((): Checkpoint => {
      const row = this.db
        .prepare(
          'SELECT COALESCE(MAX(seq), 0) AS last FROM job_checkpoints WHERE job_id = ?'
        )
        .get(jobId) as { last: number };
      const checkpoint: Checkpoint = {
        seq: row.last + 1,
        ...entry,
        created_at: this.now().toISOString()
      };
      fs.renameSync(tmp, this.filePath(jobId, checkpoint));
      this.db
        .prepare(
          `INSERT INTO job_checkpoints (job_id, seq, name, kind, bytes, files, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`
        )
        .run(
          jobId,
          checkpoint.seq,
          checkpoint.name,
          checkpoint.kind,
          checkpoint.bytes,
          checkpoint.files,
          checkpoint.created_at
        );
      return checkpoint;
    });
    const added = insert();
    for (const old of this.list(jobId).slice(keep)) this.remove(jobId, old);
    return added;
  }

  /** A job's checkpoints, newest first. */
  list(jobId: string): Checkpoint[] {
    return this.db
      .prepare(
        'SELECT seq, name, kind, bytes, files, created_at FROM job_checkpoints WHERE job_id = ? ORDER BY seq DESC'
      )
      .all(jobId) as Checkpoint[];
  }

  get(jobId: string, seq: number): Checkpoint | undefined {
    return this.db
      .prepare(
        'SELECT seq, name, kind, bytes, files, created_at FROM job_checkpoints WHERE job_id = ? AND seq = ?'
      )
      .get(jobId, seq) as Checkpoint | undefined;
  }

  latest(jobId: string): Checkpoint | undefined {
    return this.list(jobId)[0];
  }

  /** Forgets every checkpoint of a job, and its folder. */
  deleteJob(jobId: string): void {
    this.db.prepare('DELETE FROM job_checkpoints WHERE job_id = ?').run(jobId);
    fs.rmSync(this.jobDir(jobId), { recursive: true, force: true });
  }

  private remove(jobId: string, checkpoint: Checkpoint): void {
    // A download in progress keeps reading the file it opened.
    fs.rmSync(this.filePath(jobId, checkpoint), { force: true });
    this.db
      .prepare('DELETE FROM job_checkpoints WHERE job_id = ? AND seq = ?')
      .run(jobId, checkpoint.seq);
  }
}
