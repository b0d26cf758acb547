/**
 * Pipelines in SQLite, in the store's database (its own tables, like the metric store): one
 * row per pipeline, one per step. A step keeps the submission its job is made from, so a
 * pipeline can go on (and re-run) after a restart with nothing held in memory.
 */
import type Database from 'better-sqlite3';
import type { Submission } from '../api/contract/submit';
import type { PipelineState, StepState } from '../api/contract/pipelines';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pipelines (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  attempt INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT,
  schedule_id TEXT
);
CREATE INDEX IF NOT EXISTS pipelines_owner ON pipelines(owner, created_at);
CREATE INDEX IF NOT EXISTS pipelines_state ON pipelines(state);
CREATE TABLE IF NOT EXISTS pipeline_steps (
  pipeline_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  after TEXT NOT NULL,
  profile TEXT NOT NULL,
  state TEXT NOT NULL,
  job_id TEXT,
  outputs TEXT NOT NULL,
  submission TEXT NOT NULL,
  PRIMARY KEY (pipeline_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pipeline_steps_job ON pipeline_steps(job_id);
`;

export interface PipelineRecord {
  id: string;
  owner: string;
  name: string;
  state: PipelineState;
  reason: string | null;
  attempt: number;
  created_at: string;
  finished_at: string | null;
  schedule_id: string | null;
}

export interface StepRecord {
  pipeline_id: string;
  idx: number;
  name: string;
  after: string[];
  profile: string;
  state: StepState;
  job_id: string | null;
  outputs: Record<string, unknown>;
}

interface StepRow {
  pipeline_id: string;
  idx: number;
  name: string;
  after: string;
  profile: string;
  state: string;
  job_id: string | null;
  outputs: string;
}

const STEP_COLUMNS =
  'pipeline_id, idx, name, after, profile, state, job_id, outputs';

const toStep = (row: StepRow): StepRecord => ({
  ...row,
  after: JSON.parse(row.after) as string[],
  state: row.state as StepState,
  outputs: JSON.parse(row.outputs) as Record<string, unknown>
});

export type PipelinePatch = Partial<
  Pick<PipelineRecord, 'state' | 'reason' | 'attempt' | 'finished_at'>
>;
export type StepPatch = Partial<
  Pick<StepRecord, 'state' | 'job_id' | 'outputs'>
>;

export class PipelineStore {
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
  }

  insert(
    pipeline: PipelineRecord,
    steps: Array<{
      name: string;
      after: string[];
      submission: Submission;
    }>
  ): void {
    const step = this.db.prepare(
      `INSERT INTO pipeline_steps (${STEP_COLUMNS}, submission)
       VALUES (?, ?, ?, ?, ?, 'waiting', NULL, '{}', ?)`
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO pipelines (id, owner, name, state, reason, attempt, created_at, finished_at, schedule_id)
           VALUES (@id, @owner, @name, @state, @reason, @attempt, @created_at, @finished_at, @schedule_id)`
        )
        .run(pipeline);
      steps.forEach((s, idx) =>
        step.run(
          pipeline.id,
          idx,
          s.name,
          JSON.stringify(s.after),
          s.submission.profile,
          JSON.stringify(s.submission)
        )
      );
    })();
  }

  get(id: string): PipelineRecord | undefined {
    return this.db.prepare('SELECT * FROM pipelines WHERE id = ?').get(id) as
      PipelineRecord | undefined;
  }

  list(
    filter: { owner?: string; state?: PipelineState } = {}
  ): PipelineRecord[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.owner !== undefined) {
      where.push('owner = ?');
      args.push(filter.owner);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    return this.db
      .prepare(
        `SELECT * FROM pipelines ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, rowid DESC`
      )
      .all(...args) as PipelineRecord[];
  }

  steps(pipelineId: string): StepRecord[] {
    return (
      this.db
        .prepare(
          `SELECT ${STEP_COLUMNS} FROM pipeline_steps WHERE pipeline_id = ? ORDER BY idx`
        )
        .all(pipelineId) as StepRow[]
    ).map(toStep);
  }

  /** The step whose current job is `jobId`, if any. */
  stepOfJob(jobId: string): StepRecord | undefined {
    const row = this.db
      .prepare(`SELECT ${STEP_COLUMNS} FROM pipeline_steps WHERE job_id = ?`)
      .get(jobId) as StepRow | undefined;
    return row ? toStep(row) : undefined;
  }

  submission(pipelineId: string, idx: number): Submission {
    const row = this.db
      .prepare(
        'SELECT submission FROM pipeline_steps WHERE pipeline_id = ? AND idx = ?'
      )
      .get(pipelineId, idx) as { submission: string };
    return JSON.parse(row.submission) as Submission;
  }

  update(id: string, patch: PipelinePatch): void {
    const keys = Object.keys(patch) as (keyof PipelinePatch)[];
    if (!keys.length) return;
    this.db
      .prepare(
        `UPDATE pipelines SET ${keys.map(k => `${k} = @${k}`).join(', ')} WHERE id = @id`
      )
      .run({ ...patch, id });
  }

  updateStep(pipelineId: string, idx: number, patch: StepPatch): void {
    const keys = Object.keys(patch) as (keyof StepPatch)[];
    if (!keys.length) return;
    const values: Record<string, unknown> = { pipeline_id: pipelineId, idx };
    for (const k of keys)
      values[k] = k === 'outputs' ? JSON.stringify(patch[k]) : patch[k];
    this.db
      .prepare(
        `UPDATE pipeline_steps SET ${keys.map(k => `${k} = @${k}`).join(', ')} WHERE pipeline_id = @pipeline_id AND idx = @idx`
      )
      .run(values);
  }

  /**
   * A job's outputs: the last `output_value` per name among its stored events. Read from the
   * events when the step's job ends rather than kept as they are ingested: the events are
   * already the record (stored once, gap-free, idempotent on retries), so there is no second
   * copy to keep in step with them and nothing added to the runner's hot path; the read is
   * one indexed scan of one job's events, once per step.
   */
  jobOutputs(jobId: string): Record<string, unknown> {
    const rows = this.db
      .prepare(
        `SELECT body FROM events WHERE job_id = ? AND json_extract(body, '$.type') = 'output_value' ORDER BY seq`
      )
      .all(jobId) as { body: string }[];
    const outputs: Record<string, unknown> = {};
    for (const { body } of rows) {
      const event = JSON.parse(body) as { name: string; value: unknown };
      outputs[event.name] = event.value;
    }
    return outputs;
  }
}
