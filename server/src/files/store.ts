import Database from 'better-sqlite3';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { FileEntry, LeftOut } from './archive';
import { CheckpointStore } from './checkpoints';

/**
 * A stored archive: an input bundle (the notebook's directory, uploaded at submit and
 * referenced by the jobs that use it through `spec.input_bundle`) or a job's output files.
 */
export interface StoredFiles {
  id: string;
  kind: 'input' | 'output';
  owner: string;
  /** The job an output belongs to; null for inputs (reruns share their input). */
  job_id: string | null;
  /** Size of the tar.gz. */
  bytes: number;
  /** Sum of the files' sizes. */
  total_bytes: number;
  files: FileEntry[];
  left_out: LeftOut[];
  created_at: string;
}

/** The archives' table; the retention table (server/src/retention) makes it too. */
export const FILE_TABLE = `
CREATE TABLE IF NOT EXISTS job_files (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  job_id TEXT,
  archive TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL,
  files TEXT NOT NULL,
  left_out TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS job_files_output ON job_files(job_id) WHERE kind = 'output';
`;

interface Row {
  id: string;
  kind: 'input' | 'output';
  owner: string;
  job_id: string | null;
  archive: string;
  bytes: number;
  total_bytes: number;
  files: string;
  left_out: string;
  created_at: string;
}

const toStored = (row: Row): StoredFiles => ({
  id: row.id,
  kind: row.kind,
  owner: row.owner,
  job_id: row.job_id,
  bytes: row.bytes,
  total_bytes: row.total_bytes,
  files: JSON.parse(row.files) as FileEntry[],
  left_out: JSON.parse(row.left_out) as LeftOut[],
  created_at: row.created_at
});

export const INPUT_ID = /^b-[0-9a-f]{16}$/;
/** Job ids name folders (jobs/<id>/): nothing that could leave `dir`. */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Archives on disk under `dir` (inputs/, outputs/, tmp/), described in the sidecar's SQLite
 * file (its own connection, table job_files), and each job's own folder jobs/<id>/ (its result
 * notebook, listed in the store's result_files). Jobs reference inputs from their spec, so an
 * input lives as long as a job uses it.
 */
export class FileStore {
  private readonly db: Database.Database;
  /** The checkpoints jobs save (nbqueue.checkpoint), under checkpoints/<job id>/. */
  readonly checkpoints: CheckpointStore;

  constructor(
    dbPath: string,
    readonly dir: string,
    private readonly now: () => Date = () => new Date()
  ) {
    for (const sub of ['inputs', 'outputs', 'tmp'])
      fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o700 });
    this.db = new Database(dbPath);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(FILE_TABLE);
    this.checkpoints = new CheckpointStore(this.db, dir, now);
  }

  close(): void {
    this.db.close();
  }

  /** A fresh path for an upload in progress (same filesystem as the archives: renamed in). */
  tempPath(): string {
    return path.join(this.dir, 'tmp', `${randomBytes(8).toString('hex')}.part`);
  }

  /** The job's own folder: deleteJob removes it whole, with everything kept in it. */
  jobDir(jobId: string): string {
    if (!JOB_ID.test(jobId))
      throw new Error(`Not a job id: ${JSON.stringify(jobId)}`);
    return path.join(this.dir, 'jobs', jobId);
  }

  /** Where the job's executed notebook is kept once uploaded (server/src/results). */
  resultPath(jobId: string): string {
    return path.join(this.jobDir(jobId), 'result.ipynb');
  }

  /** Moves an upload (a tempPath) in as the job's result notebook, replacing an earlier one. */
  setResult(jobId: string, tmp: string): void {
    fs.mkdirSync(this.jobDir(jobId), { recursive: true, mode: 0o700 });
    fs.renameSync(tmp, this.resultPath(jobId));
  }

  archivePath(stored: StoredFiles): string {
    return stored.kind === 'input'
      ? path.join(this.dir, 'inputs', `${stored.id}.tar.gz`)
      : path.join(this.dir, 'outputs', `${stored.job_id}.tar.gz`);
  }

  addInput(
    owner: string,
    tmp: string,
    bytes: number,
    files: FileEntry[]
  ): StoredFiles {
    const id = `b-${randomBytes(8).toString('hex')}`;
    const archive = path.join('inputs', `${id}.tar.gz`);
    fs.renameSync(tmp, path.join(this.dir, archive));
    this.insert({
      id,
      kind: 'input',
      owner,
      job_id: null,
      archive,
      bytes,
      total_bytes: files.reduce((s, f) => s + f.size, 0),
      files: JSON.stringify(files),
      left_out: '[]',
      created_at: this.now().toISOString()
    });
    return this.get(id) as StoredFiles;
  }

  input(id: string): StoredFiles | undefined {
    const stored = this.get(id);
    return stored?.kind === 'input' ? stored : undefined;
  }

  /** Stores (or replaces: the runner may retry) a job's output files. */
  setOutput(
    jobId: string,
    owner: string,
    tmp: string,
    bytes: number,
    files: FileEntry[],
    leftOut: LeftOut[]
  ): StoredFiles {
    const id = `o-${jobId}`;
    const archive = path.join('outputs', `${jobId}.tar.gz`);
    fs.renameSync(tmp, path.join(this.dir, archive));
    this.db.prepare('DELETE FROM job_files WHERE id = ?').run(id);
    this.insert({
      id,
      kind: 'output',
      owner,
      job_id: jobId,
      archive,
      bytes,
      total_bytes: files.reduce((s, f) => s + f.size, 0),
      files: JSON.stringify(files),
      left_out: JSON.stringify(leftOut),
      created_at: this.now().toISOString()
    });
    return this.get(id) as StoredFiles;
  }

  output(jobId: string): StoredFiles | undefined {
    return this.get(`o-${jobId}`);
  }

  /**
   * Forgets a job's files: its outputs, its own folder (the result notebook), its checkpoints,
   * and its input unless another job (a rerun) still uses it. Call it when the job itself is
   * deleted.
   */
  deleteJob(jobId: string, inputId?: string | null): void {
    this.checkpoints.deleteJob(jobId);
    const output = this.output(jobId);
    if (output) this.remove(output);
    fs.rmSync(this.jobDir(jobId), { recursive: true, force: true });
    if (this.hasTable('result_files'))
      this.db.prepare('DELETE FROM result_files WHERE job_id = ?').run(jobId);
    if (inputId && !this.inputInUse(inputId, jobId)) {
      const input = this.input(inputId);
      if (input) this.remove(input);
    }
  }

  /**
   * Deletes inputs uploaded more than `olderThanMs` ago that no job uses (a submit that never
   * came after its upload). Returns how many.
   */
  sweepInputs(olderThanMs: number): number {
    const before = new Date(this.now().getTime() - olderThanMs).toISOString();
    const rows = this.db
      .prepare(
        "SELECT * FROM job_files WHERE kind = 'input' AND created_at < ?"
      )
      .all(before) as Row[];
    let removed = 0;
    for (const row of rows) {
      if (this.inputInUse(row.id)) continue;
      this.remove(toStored(row));
      removed += 1;
    }
    return removed;
  }

  /** Whether the store's table `name` is in the file (a FileStore may be used alone). */
  private hasTable(name: string): boolean {
    return (
      this.db
        .prepare(
          "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        )
        .get(name) !== undefined
    );
  }

  private inputInUse(id: string, exceptJob?: string): boolean {
    if (!this.hasTable('jobs')) return false;
    return (
      this.db
        .prepare(
          "SELECT 1 FROM jobs WHERE json_extract(spec, '$.input_bundle') = ? AND id IS NOT ? LIMIT 1"
        )
        .get(id, exceptJob ?? null) !== undefined
    );
  }

  private remove(stored: StoredFiles): void {
    fs.rmSync(this.archivePath(stored), { force: true });
    this.db.prepare('DELETE FROM job_files WHERE id = ?').run(stored.id);
  }

  private get(id: string): StoredFiles | undefined {
    const row = this.db
      .prepare('SELECT * FROM job_files WHERE id = ?')
      .get(id) as Row | undefined;
    return row ? toStored(row) : undefined;
  }

  private insert(row: Row): void {
    this.db
      .prepare(
        `INSERT INTO job_files (id, kind, owner, job_id, archive, bytes, total_bytes, files, left_out, created_at)
         VALUES (@id, @kind, @owner, @job_id, @archive, @bytes, @total_bytes, @files, @left_out, @created_at)`
      )
      .run(row);
  }
}
