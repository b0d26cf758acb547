/**
 * Notification settings per user and one delivery row per job end and channel, in the store's
 * SQLite file (made by Store, as the schedule table is). A delivery is recorded before it is
 * sent and marked sent after, so a restart sends what was pending and never what was sent.
 */
import type Database from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS notification_settings (
  owner TEXT PRIMARY KEY,
  email TEXT,
  webhook TEXT,
  on_states TEXT NOT NULL,
  -- Jobs that end from then on are notified: the time the settings were last set.
  since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notification_deliveries (
  job_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  owner TEXT NOT NULL,
  target TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at TEXT NOT NULL,
  last_error TEXT,
  PRIMARY KEY (job_id, channel)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notification_deliveries_due ON notification_deliveries(state, next_at);
`;

export type Channel = 'email' | 'webhook';
export type EndState = 'succeeded' | 'failed' | 'cancelled';

export interface UserNotifications {
  email: string | null;
  webhook: string | null;
  on: EndState[];
  since: string;
}

export interface Delivery {
  job_id: string;
  channel: Channel;
  owner: string;
  target: string;
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_at: string;
  last_error: string | null;
}

const FINAL = "('succeeded', 'failed', 'cancelled')";

export class NotificationTable {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
  }

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  get(owner: string): UserNotifications | undefined {
    const row = this.sql(
      'SELECT email, webhook, on_states, since FROM notification_settings WHERE owner = ?'
    ).get(owner) as
      | {
          email: string | null;
          webhook: string | null;
          on_states: string;
          since: string;
        }
      | undefined;
    return (
      row && {
        email: row.email,
        webhook: row.webhook,
        on: JSON.parse(row.on_states) as EndState[],
        since: row.since
      }
    );
  }

  /** Sets a user's settings; none (no email, no webhook) deletes them and their pending sends. */
  set(owner: string, settings: UserNotifications): void {
    this.db.transaction(() => {
      if (!settings.email && !settings.webhook) {
        this.sql('DELETE FROM notification_settings WHERE owner = ?').run(
          owner
        );
        this.sql(
          "DELETE FROM notification_deliveries WHERE owner = ? AND state = 'pending'"
        ).run(owner);
        return;
      }
      this.sql(
        `INSERT INTO notification_settings (owner, email, webhook, on_states, since)
         VALUES (@owner, @email, @webhook, @on, @since)
         ON CONFLICT(owner) DO UPDATE SET email = @email, webhook = @webhook,
           on_states = @on, since = @since`
      ).run({
        owner,
        email: settings.email,
        webhook: settings.webhook,
        on: JSON.stringify(settings.on),
        since: settings.since
      });
    })();
  }

  /**
   * Records the deliveries a job's end calls for (once per job and channel, whatever calls
   * it again); returns how many were new.
   */
  record(jobId: string, now: string): number {
    const job = this.sql(
      `SELECT j.owner, j.state, j.finished_at, s.email, s.webhook, s.on_states, s.since
         FROM jobs j JOIN notification_settings s ON s.owner = j.owner
        WHERE j.id = ? AND j.state IN ${FINAL}`
    ).get(jobId) as
      | {
          owner: string;
          state: EndState;
          finished_at: string | null;
          email: string | null;
          webhook: string | null;
          on_states: string;
          since: string;
        }
      | undefined;
    if (!job || !job.finished_at || job.finished_at < job.since) return 0;
    if (!(JSON.parse(job.on_states) as string[]).includes(job.state)) return 0;
    let added = 0;
    const insert = this.sql(
      `INSERT OR IGNORE INTO notification_deliveries (job_id, channel, owner, target, state, next_at)
       VALUES (?, ?, ?, ?, 'pending', ?)`
    );
    for (const [channel, target] of [
      ['email', job.email],
      ['webhook', job.webhook]
    ] as const)
      if (target)
        added += insert.run(jobId, channel, job.owner, target, now).changes;
    return added;
  }

  /**
   * Jobs that ended after their owner's settings were set and since `after`, with no delivery
   * recorded: a sidecar that stopped between a job's end and its record.
   */
  unrecorded(after: string): string[] {
    return (
      this.sql(
        `SELECT j.id FROM notification_settings s JOIN jobs j ON j.owner = s.owner
          WHERE j.state IN ${FINAL} AND j.finished_at >= s.since AND j.finished_at >= ?
            AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.job_id = j.id)`
      ).all(after) as { id: string }[]
    ).map(r => r.id);
  }

  /** Pending deliveries due by `now`, soonest first, leaving out `busy` ones. */
  due(now: string, limit: number, busy: ReadonlySet<string>): Delivery[] {
    const rows = this.sql(
      `SELECT * FROM notification_deliveries WHERE state = 'pending' AND next_at <= ?
        ORDER BY next_at LIMIT ?`
    ).all(now, limit + busy.size) as Delivery[];
    return rows.filter(d => !busy.has(key(d))).slice(0, limit);
  }

  /** When the next pending delivery is due (undefined: none). */
  nextDue(): string | undefined {
    return (
      (
        this.sql(
          "SELECT MIN(next_at) AS t FROM notification_deliveries WHERE state = 'pending'"
        ).get() as { t: string | null }
      ).t ?? undefined
    );
  }

  /** The outcome of one attempt (the row may be gone: its job deleted, settings cleared). */
  update(
    d: Pick<Delivery, 'job_id' | 'channel'>,
    patch: Pick<Delivery, 'state' | 'attempts' | 'next_at' | 'last_error'>
  ): void {
    this.sql(
      `UPDATE notification_deliveries SET state = @state, attempts = @attempts,
         next_at = @next_at, last_error = @last_error
       WHERE job_id = @job_id AND channel = @channel AND state = 'pending'`
    ).run({ ...patch, job_id: d.job_id, channel: d.channel });
  }

  deliveries(jobId: string): Delivery[] {
    return this.sql(
      'SELECT * FROM notification_deliveries WHERE job_id = ? ORDER BY channel'
    ).all(jobId) as Delivery[];
  }
}

export const key = (d: Pick<Delivery, 'job_id' | 'channel'>) =>
  `${d.job_id}/${d.channel}`;
