import type Database from 'better-sqlite3';
import type { JobEvent } from '../jobs/types';
import type { MetricStore } from '../metrics/store';

/** Per-job caps on stored events (limits.events_per_job, limits.event_bytes_per_job). */
export interface EventCaps {
  events: number;
  bytes: number;
}

const NO_CAPS: EventCaps = { events: Infinity, bytes: Infinity };

/** What each job has stored (columns of `jobs`, added to a store written by an older version). */
const USAGE_COLUMNS: [string, string][] = [
  ['event_count', 'INTEGER NOT NULL DEFAULT 0'],
  ['event_bytes', 'INTEGER NOT NULL DEFAULT 0'],
  // The seq of the truncation marker once a cap was passed; later events are not stored.
  ['events_capped_seq', 'INTEGER'],
  // The highest seq not stored because of the cap (the gap-free mark passes it all the same).
  ['events_dropped_to', 'INTEGER NOT NULL DEFAULT 0']
];

interface Usage {
  last_seq: number;
  event_count: number;
  event_bytes: number;
  events_capped_seq: number | null;
  events_dropped_to: number;
}

/**
 * A job's events in the `events` table, except `metric` events: each point is stored once, as a
 * row of the metrics table (server/src/metrics), and read back from there in seq order by
 * `list`, so replay, the metrics API, metrics.csv and the charts all see the same points.
 */
export class EventTable {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly metrics: MetricStore
  ) {
    const columns = (
      db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[]
    ).map(c => c.name);
    for (const [name, type] of USAGE_COLUMNS)
      if (!columns.includes(name))
        db.exec(`ALTER TABLE jobs ADD COLUMN ${name} ${type}`);
  }

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private stored(jobId: string, seq: number): boolean {
    return (
      this.sql('SELECT 1 FROM events WHERE job_id = ? AND seq = ?').get(
        jobId,
        seq
      ) !== undefined || this.metrics.has(jobId, seq)
    );
  }

  /**
   * Stores the events not stored yet (idempotent per seq) and advances the job's gap-free
   * high-water mark. Past a cap, the event that passes it is replaced by one truncation marker
   * and later ones are not stored (the mark passes them all the same, so the runner goes on).
   * Returns the mark before and after, so the caller can fan out exactly the events that
   * became deliverable, and how many events were taken (stored, or left out past the cap).
   */
  append(
    jobId: string,
    events: JobEvent[],
    caps: EventCaps = NO_CAPS
  ): { before: number; after: number; inserted: number } {
    const insert = this.sql(
      'INSERT OR IGNORE INTO events (job_id, seq, body) VALUES (?, ?, ?)'
    );
    return this.db.transaction(() => {
      const usage = this.sql(
        `SELECT last_seq, event_count, event_bytes, events_capped_seq, events_dropped_to
           FROM jobs WHERE id = ?`
      ).get(jobId) as Usage;
      let { event_count: count, event_bytes: bytes } = usage;
      let capped = usage.events_capped_seq;
      let droppedTo = usage.events_dropped_to;
      let inserted = 0;
      const seen = new Set<number>();
      for (const ev of events) {
        seen.add(ev.seq);
        if (capped !== null && ev.seq > capped) {
          if (ev.seq > droppedTo) inserted += 1;
          droppedTo = Math.max(droppedTo, ev.seq);
          continue;
        }
        const body = JSON.stringify(ev);
        const size = Buffer.byteLength(body);
        if (
          capped === null &&
          (count + 1 > caps.events || bytes + size > caps.bytes) &&
          !this.stored(jobId, ev.seq)
        ) {
          const marker = this.marker(jobId, ev, count, caps);
          const text = JSON.stringify(marker);
          insert.run(jobId, ev.seq, text);
          capped = ev.seq;
          count += 1;
          bytes += Buffer.byteLength(text);
          inserted += 1;
          continue;
        }
        const added =
          ev.type === 'metric'
            ? this.metrics.add(jobId, ev)
            : insert.run(jobId, ev.seq, body).changes;
        if (!added) continue;
        inserted += 1;
        count += 1;
        bytes += size;
        if (ev.type === 'update_display_data')
          this.supersedeDisplayUpdate(jobId, ev);
      }
      const before = usage.last_seq;
      let after = before;
      for (;;) {
        const next = after + 1;
        const present =
          seen.has(next) ||
          (capped !== null && next > capped && next <= droppedTo) ||
          this.stored(jobId, next);
        if (!present) break;
        after = next;
      }
      this.sql(
        `UPDATE jobs SET last_seq = ?, event_count = ?, event_bytes = ?, events_capped_seq = ?,
           events_dropped_to = ? WHERE id = ?`
      ).run(after, count, bytes, capped, droppedTo, jobId);
      return { before, after, inserted };
    })();
  }

  /**
   * The one visible sign that a job passed a cap: a stream output on stderr in the cell the
   * first left-out event belongs to (or the last cell that had an event), else a `log` warning.
   * It takes that event's seq, so replay stays gap-free.
   */
  private marker(
    jobId: string,
    ev: JobEvent,
    count: number,
    caps: EventCaps
  ): JobEvent {
    const which =
      count + 1 > caps.events
        ? `${caps.events} events (limits.events_per_job)`
        : `${caps.bytes} bytes of events (limits.event_bytes_per_job)`;
    const text = `Output truncated: this job passed ${which}; the rest is in the result notebook.\n`;
    let cell =
      typeof ev.cell_id === 'string'
        ? { cell_id: ev.cell_id, cell_index: ev.cell_index }
        : undefined;
    if (!cell) {
      const row = this.sql(
        `SELECT json_extract(body, '$.cell_id') AS cell_id, json_extract(body, '$.cell_index') AS cell_index
           FROM events WHERE job_id = ? AND seq < ? AND json_extract(body, '$.cell_id') IS NOT NULL
           ORDER BY seq DESC LIMIT 1`
      ).get(jobId, ev.seq) as
        { cell_id: string; cell_index: number | null } | undefined;
      if (row)
        cell = {
          cell_id: row.cell_id,
          cell_index: row.cell_index ?? undefined
        };
    }
    if (!cell)
      return {
        seq: ev.seq,
        time: ev.time,
        type: 'log',
        level: 'warning',
        message: text.trim()
      };
    return {
      seq: ev.seq,
      time: ev.time,
      type: 'output',
      ...cell,
      output: { output_type: 'stream', name: 'stderr', text }
    };
  }

  /**
   * A chart updated live sends its whole data on every update, so keeping each one would grow
   * a job's events quadratically. Only the latest update of a display id matters for anyone
   * replaying the events (a later update replaces what an earlier one set), so the earlier one
   * is replaced by a small marker that keeps its seq: replay stays gap-free.
   */
  private supersedeDisplayUpdate(jobId: string, ev: JobEvent): void {
    const displayId = (ev as { display_id?: unknown }).display_id;
    if (typeof displayId !== 'string') return;
    const latest = this.sql(
      'SELECT seq FROM display_updates WHERE job_id = ? AND display_id = ?'
    ).get(jobId, displayId) as { seq: number } | undefined;
    const [older, newer] =
      latest === undefined || latest.seq < ev.seq
        ? [latest?.seq, ev.seq]
        : [ev.seq, latest.seq];
    if (newer === ev.seq)
      this.sql(
        'INSERT OR REPLACE INTO display_updates (job_id, display_id, seq) VALUES (?, ?, ?)'
      ).run(jobId, displayId, ev.seq);
    if (older !== undefined)
      this.sql('UPDATE events SET body = ? WHERE job_id = ? AND seq = ?').run(
        JSON.stringify({
          seq: older,
          type: 'update_display_data',
          display_id: displayId,
          superseded_by: newer
        }),
        jobId,
        older
      );
  }

  /** The job's latest stored event of one type (the runner's run_started, cell_started). */
  latest(jobId: string, type: string): JobEvent | undefined {
    const row = this.sql(
      "SELECT body FROM events WHERE job_id = ? AND json_extract(body, '$.type') = ? ORDER BY seq DESC LIMIT 1"
    ).get(jobId, type) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as JobEvent) : undefined;
  }

  /**
   * Events with after < seq <= upTo, in seq order, at most `limit`: the events table and the
   * metric points merged. (A store written before points were stored once has a metric event
   * in both; the events table's copy is taken.)
   */
  list(jobId: string, after: number, limit: number, upTo: number): JobEvent[] {
    const rows = this.sql(
      'SELECT seq, body FROM events WHERE job_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?'
    ).all(jobId, after, upTo, limit) as { seq: number; body: string }[];
    const points = this.metrics.events(jobId, after, upTo, limit);
    const out: JobEvent[] = [];
    let i = 0;
    let j = 0;
    while (out.length < limit && (i < rows.length || j < points.length)) {
      const a = rows[i]?.seq ?? Infinity;
      const b = points[j]?.seq ?? Infinity;
      if (a <= b) {
        out.push(JSON.parse(rows[i].body) as JobEvent);
        i += 1;
        if (a === b) j += 1;
      } else {
        out.push(points[j]);
        j += 1;
      }
    }
    return out;
  }
}
