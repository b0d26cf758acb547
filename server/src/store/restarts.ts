/**
 * A job that runs again after its pod was taken away (jobs/restarts.ts decides), as one
 * transaction that changes nothing unless the job is still starting or running and not
 * cancelled: an ended job is never admitted again, whoever asks and whenever.
 */
import type Database from 'better-sqlite3';
import type { JobEvent, RestartRecord } from '../jobs/types';

export interface RestartChange {
  /** The attempt that ended, added to the job's restarts. */
  ended: RestartRecord;
  /** The job's reason while it waits and runs again. */
  reason: string;
  /** The marker event, less its seq (the next after the job's gap-free mark). */
  marker: Omit<JobEvent, 'seq'>;
}

interface Row {
  queue: string;
  attempt: number;
  restarts: string;
  last_seq: number;
  position_key: number;
}

export class RestartTable {
  private readonly statements: Record<string, Database.Statement>;

  constructor(private readonly db: Database.Database) {
    const sql = (text: string) => db.prepare(text);
    this.statements = {
      get: sql(
        `SELECT queue, attempt, restarts, last_seq, position_key FROM jobs
         WHERE id = ? AND state IN ('starting', 'running') AND cancel_requested = 0`
      ),
      front: sql(
        "SELECT MIN(position_key) AS m FROM jobs WHERE state = 'queued' AND queue = ?"
      ),
      events: sql('DELETE FROM events WHERE job_id = ? AND seq > ?'),
      displays: sql('DELETE FROM display_updates WHERE job_id = ? AND seq > ?'),
      metrics: sql('DELETE FROM metrics WHERE job_id = ? AND seq > ?'),
      result: sql('DELETE FROM results WHERE job_id = ?'),
      // A result uploaded as a file (server/src/results): the next attempt uploads its own.
      resultFile: sql('DELETE FROM result_files WHERE job_id = ?'),
      marker: sql('INSERT INTO events (job_id, seq, body) VALUES (?, ?, ?)'),
      requeue: sql(
        `UPDATE jobs SET state = 'queued', reason = @reason, attempt = @attempt,
           restarts = @restarts, position_key = @position_key, last_seq = @seq,
           started_at = NULL, finished_at = NULL, token_hash = NULL, backend_ref = NULL,
           draining_token_hash = token_hash
         WHERE id = @id`
      )
    };
  }

  /**
   * Queues the job again at the front of its queue (before every job queued there), with its
   * next attempt number. Its token and backend handle go: the old runner is refused from now
   * on, except that it may still store checkpoints (its on_preempt callbacks, while its pod
   * terminates) until the next attempt's runner asks for the one to restore
   * (draining_token_hash). The events that runner sent past a gap go too (the gap will never be filled, and the
   * next attempt numbers on from the gap-free mark), and so does a result it sent. The marker
   * event follows the last event kept. Returns the marker, or null when nothing changed.
   */
  restart(id: string, change: RestartChange): JobEvent | null {
    const s = this.statements;
    return this.db.transaction(() => {
      const row = s.get.get(id) as Row | undefined;
      if (!row) return null;
      const front = (s.front.get(row.queue) as { m: number | null }).m;
      for (const table of [s.events, s.displays, s.metrics])
        table.run(id, row.last_seq);
      s.result.run(id);
      s.resultFile.run(id);
      const seq = row.last_seq + 1;
      const marker = { seq, ...change.marker } as JobEvent;
      s.marker.run(id, seq, JSON.stringify(marker));
      s.requeue.run({
        id,
        reason: change.reason,
        attempt: row.attempt + 1,
        restarts: JSON.stringify([
          ...(JSON.parse(row.restarts) as RestartRecord[]),
          change.ended
        ]),
        position_key:
          front === null
            ? row.position_key
            : Math.min(row.position_key, front - 1),
        seq
      });
      return marker;
    })();
  }
}
