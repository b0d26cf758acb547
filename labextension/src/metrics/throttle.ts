/**
 * Coalesces redraw requests: however often `schedule` is called, the work
 * runs at most once per interval, never twice at the same time, and each
 * caller learns when a run that includes its request has finished. The clock
 * is passed in so tests drive time by hand.
 */

export interface IClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserClock: IClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  clearTimeout: handle => window.clearTimeout(handle as number)
};

interface IWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Throttle {
  /**
   * @param work what to run; a promise keeps the next run waiting for it.
   * @param interval the least time between two starts, in ms (100: 10 a second).
   */
  constructor(
    private readonly _work: () => void | Promise<void>,
    readonly interval: number,
    private readonly _clock: IClock = browserClock
  ) {}

  /** Whether a run is waiting or in progress. */
  get busy(): boolean {
    return this._timer !== null || this._running || this._waiting.length > 0;
  }

  /**
   * Ask for a run: now if the last one started at least `interval` ago and
   * has finished, otherwise once, when it may. Resolves when a run started
   * after this call has finished.
   */
  schedule(): Promise<void> {
    const done = new Promise<void>((resolve, reject) =>
      this._waiting.push({ resolve, reject })
    );
    if (this._timer === null && !this._running && !this._disposed) {
      this._arm();
    }
    return done;
  }

  /** Stop: nothing runs any more; callers still waiting are released. */
  dispose(): void {
    this._disposed = true;
    if (this._timer !== null) {
      this._clock.clearTimeout(this._timer);
      this._timer = null;
    }
    this._waiting.splice(0).forEach(waiter => waiter.resolve());
  }

  private _arm(): void {
    const delay = this._lastStart + this.interval - this._clock.now();
    if (delay <= 0) {
      this._run();
    } else {
      this._timer = this._clock.setTimeout(() => this._run(), delay);
    }
  }

  private _run(): void {
    this._timer = null;
    const waiters = this._waiting.splice(0);
    this._lastStart = this._clock.now();
    this._running = true;
    let result: Promise<void>;
    try {
      result = Promise.resolve(this._work());
    } catch (error) {
      result = Promise.reject(error);
    }
    result
      .then(
        () => waiters.forEach(waiter => waiter.resolve()),
        error => waiters.forEach(waiter => waiter.reject(error))
      )
      .finally(() => {
        this._running = false;
        if (this._waiting.length > 0 && !this._disposed) {
          this._arm();
        }
      });
  }

  private _lastStart = -Infinity;
  private _timer: unknown = null;
  private _running = false;
  private _disposed = false;
  private _waiting: IWaiter[] = [];
}
