/**
 * The firing loop: wakes at the soonest next_run_at, fires what is due, sleeps again. The clock
 * and the timer are passed in, so tests step through days (and DST changes) without waiting.
 *
 * What is due is computed from the stored next_run_at, so a restart neither loses nor repeats
 * a firing: a firing time more than `graceMs` old when the loop sees it was missed (the sidecar
 * was down), and the schedule's `missed` says what to do; each firing is marked in the store
 * (claimFiring) before its job is submitted.
 */
import { nextRun, parseCron } from './cron';
import type { ScheduleService } from './service';
import type { ScheduleRecord, ScheduleTable } from './table';

export interface Timer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimer: Timer = {
  set: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clear: handle => clearTimeout(handle as NodeJS.Timeout)
};

export interface ScheduleLoopOptions {
  table: ScheduleTable;
  service: ScheduleService;
  now: () => Date;
  timer?: Timer;
  /** How late a firing may be seen and still be on time (default 60 s). */
  graceMs?: number;
  /** The longest sleep, so a changed wall clock is noticed (default 60 s). */
  maxSleepMs?: number;
  /** Where a firing's refusal goes besides the schedule's last_outcome (the log). */
  log?: (message: string) => void;
}

/** How many missed firing times are stepped through at most to find the latest. */
const MAX_STEPS = 100000;

export class ScheduleLoop {
  private handle: unknown;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: ScheduleLoopOptions) {}

  private get timer(): Timer {
    return this.options.timer ?? realTimer;
  }

  /** Fires what came due while the sidecar was down, then sleeps until the next one. */
  start(): Promise<void> {
    this.stopped = false;
    return this.tick();
  }

  /** No more wake-ups; resolves when a firing under way has ended (before the store closes). */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) this.timer.clear(this.handle);
    this.handle = undefined;
    return this.running ?? Promise.resolve();
  }

  /** A schedule changed: look again (a tick already running looks again when it ends). */
  wake(): void {
    if (this.stopped) return;
    void this.tick();
  }

  /** Fires every due schedule once, then re-arms the timer. Ticks never overlap. */
  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      // Yields first, so `running` is set before the finally below clears it.
      await null;
      try {
        do {
          this.again = false;
          for (const s of this.options.table.active()) {
            if (
              Date.parse(s.next_run_at as string) > this.options.now().getTime()
            )
              break;
            await this.fire(s);
          }
        } while (this.again);
      } finally {
        this.running = undefined;
        this.arm();
      }
    })();
    return this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.handle !== undefined) this.timer.clear(this.handle);
    const soonest = this.options.table.active()[0];
    const max = this.options.maxSleepMs ?? 60000;
    const wait = soonest
      ? Math.min(
          max,
          Math.max(
            0,
            Date.parse(soonest.next_run_at as string) -
              this.options.now().getTime()
          )
        )
      : max;
    this.handle = this.timer.set(() => {
      this.handle = undefined;
      void this.tick();
    }, wait);
  }

  /**
   * The firing times due now: from the stored next_run_at up to now (not past end_at). The
   * latest is on time if it is within the grace; otherwise all of them were missed.
   */
  private due(
    s: ScheduleRecord,
    now: Date
  ): { latest: Date; onTime: boolean; count: number } {
    const cron = parseCron(s.cron, s.timezone);
    const end = s.end_at ? Date.parse(s.end_at) : Infinity;
    let latest = new Date(s.next_run_at as string);
    let count = 1;
    for (let i = 0; i < MAX_STEPS; i++) {
      const next = nextRun(cron, latest);
      if (!next || next.getTime() > now.getTime() || next.getTime() > end)
        break;
      latest = next;
      count += 1;
    }
    const grace = this.options.graceMs ?? 60000;
    return { latest, onTime: now.getTime() - latest.getTime() <= grace, count };
  }

  private async fire(s: ScheduleRecord): Promise<void> {
    const { service, table } = this.options;
    const now = this.options.now();
    const { latest, onTime, count } = this.due(s, now);
    const next = service.nextAfter(s, now);
    const when = latest.toISOString();
    let outcome: string | null = null;
    let submit = true;
    if (!onTime) {
      const missed = `${count} firing time${count > 1 ? 's' : ''} up to ${when} passed while the sidecar was down`;
      if (s.missed === 'skip') {
        submit = false;
        outcome = `skipped: ${missed} (missed: skip)`;
      } else outcome = `${missed}; ran once for ${when} (missed: run_once)`;
    }
    const previous = submit ? service.previousActive(s) : undefined;
    if (previous && s.overlap === 'skip') {
      submit = false;
      outcome = `skipped ${when}: ${previous} (overlap: skip)`;
    }
    // Marked before anything is submitted: a crash after this loses the firing, never repeats it.
    if (
      !table.claimFiring(s.id, s.next_run_at as string, {
        last_run_at: when,
        next_run_at: next,
        last_outcome: outcome
      })
    )
      return;
    if (!submit) return;
    try {
      if (previous && s.overlap === 'cancel_previous')
        await service.cancelPrevious(s);
      service.submit(table.get(s.id) ?? s, latest);
      if (outcome) table.update(s.id, { last_outcome: outcome });
    } catch (err) {
      const message = `refused at ${when}: ${(err as Error).message}`;
      table.update(s.id, { last_outcome: message });
      this.options.log?.(`nbqueue: schedule ${s.id} ${message}`);
    }
  }
}
