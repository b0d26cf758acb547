/**
 * The periodic retention sweep: once soon after the sidecar starts, then every
 * retention.sweep_interval_seconds. The timer is passed in (as the schedule loop's), and the
 * Retention's clock decides what is old, so tests step through days without waiting.
 */
import { realTimer, Timer } from '../schedules/loop';
import type { Retention } from './service';

export interface RetentionSweepOptions {
  retention: Retention;
  intervalMs: number;
  timer?: Timer;
  log?: (message: string) => void;
}

export class RetentionSweep {
  private handle: unknown;
  private running: Promise<string[]> | undefined;
  private stopped = false;
  private readonly timer: Timer;

  constructor(private readonly options: RetentionSweepOptions) {
    this.timer = options.timer ?? realTimer;
  }

  /** Schedules the first sweep at once (it does not hold up the start), then the next ones. */
  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.handle = this.timer.set(() => {
      this.handle = undefined;
      void this.runOnce().finally(() => this.schedule(this.options.intervalMs));
    }, ms);
  }

  /** One sweep (or the one already running); never throws: a failure is logged. */
  runOnce(): Promise<string[]> {
    this.running ??= this.options.retention
      .sweep()
      .catch(err => {
        (this.options.log ?? (m => console.error(m)))(
          `nbqueue retention: the sweep failed: ${(err as Error).stack ?? String(err)}`
        );
        return [] as string[];
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** No more sweeps; waits for one in progress (it stops after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) this.timer.clear(this.handle);
    this.handle = undefined;
    this.options.retention.close();
    await this.running;
  }
}
