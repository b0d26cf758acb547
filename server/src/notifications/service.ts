/**
 * Notifications when a job ends: each user's settings (GET/PUT/DELETE /api/notifications), and
 * the deliveries, sent in the background. A job's end records one delivery per channel in the
 * store (table.ts) and wakes the sender; the sender works through due deliveries a few at a
 * time (notifications.concurrency), each attempt bounded by notifications.timeout_seconds, and
 * tries a failed one again later with a doubling wait, up to notifications.max_attempts. What
 * happens is told in the job's own event stream as `log` events. Nothing here is awaited by
 * the job's end or the queue: the publisher's call only writes a row and sets a timer.
 */
import type { Identity } from '../auth/auth';
import type { JobPublisher } from '../jobs/publisher';
import type { JobRecord } from '../jobs/types';
import type { Store } from '../store/store';
import type { NotificationSettings } from './config';
import { DeliveryError } from './delivery';
import type { Mailer } from './email';
import { hostRules, HostRule } from './hosts';
import { mailOf, webhookOf } from './message';
import type { Channel, Delivery, EndState, NotificationTable } from './table';
import { key } from './table';
import { postWebhook, WebhookOptions } from './webhook';

export interface NotificationsView {
  email: string | null;
  webhook: string | null;
  on: EndState[];
  /** Whether this sidecar can send mail (notifications.smtp is set). */
  email_available: boolean;
  /** The hosts webhooks may name (notifications.allowed_webhook_hosts). */
  webhook_hosts: string[];
}

export interface NotificationServiceOptions {
  store: Store;
  publisher: JobPublisher;
  settings: NotificationSettings;
  /** Absent: no notifications.smtp, so no mail. */
  mailer?: Mailer;
  /** Where links start (notifications.link_base_url, else the hub's or the sidecar's URL). */
  linkBase: () => string;
  now?: () => Date;
  /** Host resolution for webhooks (tests); dns.lookup by default. */
  resolve?: WebhookOptions['resolve'];
  log?: (message: string) => void;
}

const DEFAULT_ON: EndState[] = ['succeeded', 'failed', 'cancelled'];
/** After a restart, jobs that ended this long ago without a record still get theirs. */
const CATCH_UP_MS = 24 * 3600 * 1000;
const MAX_WAIT_MS = 3600 * 1000;

export class NotificationService {
  private readonly rules: HostRule[];
  private readonly busy = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: NotificationServiceOptions) {
    this.rules = hostRules(options.settings.allowed_webhook_hosts);
  }

  private get table(): NotificationTable {
    return this.options.store.notifications;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  get(who: Identity): NotificationsView {
    const mine = this.table.get(who.user);
    return {
      email: mine?.email ?? null,
      webhook: mine?.webhook ?? null,
      on: mine?.on ?? DEFAULT_ON,
      email_available: !!this.options.mailer,
      webhook_hosts: this.options.settings.allowed_webhook_hosts
    };
  }

  /** The caller's own settings (the contract checked the email and the webhook's host). */
  set(
    who: Identity,
    body: { email?: string | null; webhook?: string | null; on?: EndState[] }
  ): NotificationsView {
    this.table.set(who.user, {
      email: body.email ?? null,
      webhook: body.webhook ?? null,
      on: [...new Set(body.on ?? DEFAULT_ON)],
      // Jobs that ended before now are never notified by these settings.
      since: this.now().toISOString()
    });
    return this.get(who);
  }

  /** Listens for job ends; sends what a stopped sidecar left pending. */
  start(): void {
    this.stopListening = this.options.publisher.subscribe({
      jobChanged: job => {
        if (
          job.finished_at &&
          this.table.record(job.id, this.now().toISOString())
        )
          this.wake();
      },
      eventsAppended: () => undefined
    });
    const after = new Date(this.now().getTime() - CATCH_UP_MS).toISOString();
    for (const id of this.table.unrecorded(after))
      this.table.record(id, this.now().toISOString());
    this.wake();
  }

  /** Stops listening and sending; waits for the attempts under way (each bounded). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopListening?.();
    clearTimeout(this.timer);
    await Promise.allSettled([...this.busy.values()]);
  }

  /** Starts due deliveries while there is room, and sets a timer for the next one. */
  private wake(): void {
    if (this.stopped || !this.options.store.isOpen()) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const { concurrency, timeout_seconds } = this.options.settings;
    const now = this.now();
    const room = concurrency - this.busy.size;
    if (room > 0)
      for (const d of this.table.due(
        now.toISOString(),
        room,
        new Set(this.busy.keys())
      )) {
        // Leased while it is sent: not due again unless the sidecar stops meanwhile.
        const lease = now.getTime() + 2 * timeout_seconds * 1000 + 1000;
        this.table.update(d, { ...d, next_at: new Date(lease).toISOString() });
        const k = key(d);
        this.busy.set(
          k,
          this.attempt(d).finally(() => {
            this.busy.delete(k);
            this.wake();
          })
        );
      }
    if (this.busy.size >= concurrency) return; // the next attempt to end wakes this again
    const next = this.table.nextDue();
    if (next === undefined) return;
    const wait = Math.min(
      Math.max(Date.parse(next) - now.getTime(), 10),
      MAX_WAIT_MS
    );
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }

  private async attempt(d: Delivery): Promise<void> {
    const { store, settings } = this.options;
    const job = store.getJob(d.job_id);
    if (!job) {
      this.table.update(d, {
        state: 'failed',
        attempts: d.attempts,
        next_at: d.next_at,
        last_error: 'the job was deleted'
      });
      return;
    }
    const attempts = d.attempts + 1;
    const what = describeTarget(d.channel, d.target);
    try {
      await this.send(d.channel, d.target, job);
      this.table.update(d, {
        state: 'sent',
        attempts,
        next_at: this.now().toISOString(),
        last_error: null
      });
      this.logToJob(job, 'info', `Notification sent by ${what}.`);
    } catch (err) {
      const message =
        err instanceof DeliveryError
          ? err.message
          : `unexpected error: ${(err as Error).message}`;
      const last =
        (err instanceof DeliveryError && err.permanent) ||
        attempts >= settings.max_attempts;
      const waitMs = Math.min(
        settings.retry_seconds * 1000 * 2 ** (attempts - 1),
        MAX_WAIT_MS
      );
      this.table.update(d, {
        state: last ? 'failed' : 'pending',
        attempts,
        next_at: new Date(
          this.now().getTime() + (last ? 0 : waitMs)
        ).toISOString(),
        last_error: message
      });
      this.logToJob(
        job,
        last ? 'error' : 'warning',
        `Notification by ${what} failed (attempt ${attempts} of ${settings.max_attempts}): ${message}. ${last ? 'Not trying again.' : `Trying again in ${+(waitMs / 1000).toFixed(1)} s.`}`
      );
    }
  }

  private async send(
    channel: Channel,
    target: string,
    job: JobRecord
  ): Promise<void> {
    const end = { job, linkBase: this.options.linkBase() };
    if (channel === 'email') {
      if (!this.options.mailer)
        throw new DeliveryError(
          'this sidecar has no mail server any more (notifications.smtp)',
          true
        );
      await this.options.mailer({ to: target, ...mailOf(end) });
      return;
    }
    await postWebhook(target, webhookOf(end), {
      rules: this.rules,
      timeoutMs: this.options.settings.timeout_seconds * 1000,
      resolve: this.options.resolve
    });
  }

  /** One `log` event after the job's last, told to whoever follows the job. */
  private logToJob(
    job: JobRecord,
    level: 'info' | 'warning' | 'error',
    message: string
  ): void {
    const { store, publisher } = this.options;
    if (level !== 'info') this.options.log?.(`Job ${job.id}: ${message}`);
    const fresh = store.isOpen() ? store.getJob(job.id) : undefined;
    if (!fresh) return; // deleted meanwhile
    const event = {
      seq: fresh.last_seq + 1,
      time: Date.now(),
      type: 'log',
      level,
      message
    };
    const { before, after } = store.appendEvents(job.id, [event]);
    if (after > before)
      publisher.eventsAppended(
        store.getJob(job.id) as JobRecord,
        store.listEvents(job.id, before, after - before, after)
      );
  }
}

/** The webhook's host only (its path is a secret); the mail's domain only. */
function describeTarget(channel: Channel, target: string): string {
  if (channel === 'webhook') {
    try {
      return `webhook to ${new URL(target).host}`;
    } catch {
      return 'webhook';
    }
  }
  return `email to ${target.replace(/^[^@]*/, '…')}`;
}
