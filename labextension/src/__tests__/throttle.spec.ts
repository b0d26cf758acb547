import { IClock, Throttle } from '../metrics/throttle';

/** A clock tests move by hand. */
class ManualClock implements IClock {
  time = 0;
  timers: { at: number; callback: () => void; id: number }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this._next++;
    this.timers.push({ at: this.time + ms, callback, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter(timer => timer.id !== handle);
  }

  /** Move time on, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) {
        break;
      }
      this.timers.shift();
      this.time = due.at;
      due.callback();
    }
    this.time = end;
    await flush();
  }

  private _next = 1;
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

describe('Throttle', () => {
  it('runs at once when idle, then coalesces a burst into one run', async () => {
    const clock = new ManualClock();
    const runs: number[] = [];
    const throttle = new Throttle(
      () => void runs.push(clock.now()),
      100,
      clock
    );

    void throttle.schedule();
    expect(runs).toEqual([0]);
    for (let t = 0; t < 50; t++) {
      void throttle.schedule();
    }
    await clock.advance(99);
    expect(runs).toEqual([0]);
    await clock.advance(1);
    expect(runs).toEqual([0, 100]);
    await clock.advance(1000);
    expect(runs).toEqual([0, 100]);
  });

  it('never runs more than 10 times a second under constant updates', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const throttle = new Throttle(() => void runs++, 100, clock);
    // update_display_data every 5 ms for 2 s.
    for (let t = 0; t < 400; t++) {
      void throttle.schedule();
      await clock.advance(5);
    }
    expect(runs).toBeGreaterThanOrEqual(19);
    expect(runs).toBeLessThanOrEqual(21);
  });

  it('resolves each request after a run that started after it', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const throttle = new Throttle(() => void runs++, 100, clock);
    await throttle.schedule();
    let done = false;
    void throttle.schedule().then(() => (done = true));
    await clock.advance(50);
    expect(done).toBe(false);
    await clock.advance(50);
    expect(done).toBe(true);
    expect(runs).toBe(2);
  });

  it('waits for a slow asynchronous run before the next', async () => {
    const clock = new ManualClock();
    let release: () => void = () => undefined;
    let started = 0;
    const throttle = new Throttle(
      () => {
        started++;
        return new Promise<void>(resolve => (release = resolve));
      },
      100,
      clock
    );
    void throttle.schedule();
    void throttle.schedule();
    await clock.advance(500);
    expect(started).toBe(1);
    release();
    await clock.advance(0);
    expect(started).toBe(2);
    expect(throttle.busy).toBe(true);
    release();
    await clock.advance(0);
    expect(throttle.busy).toBe(false);
  });

  it('passes errors to the waiting callers and keeps working', async () => {
    const clock = new ManualClock();
    let fail = true;
    const throttle = new Throttle(
      () => {
        if (fail) {
          throw new Error('boom');
        }
      },
      100,
      clock
    );
    await expect(throttle.schedule()).rejects.toThrow('boom');
    fail = false;
    const next = throttle.schedule();
    await clock.advance(100);
    await expect(next).resolves.toBeUndefined();
  });

  it('runs nothing after dispose and releases the callers', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const throttle = new Throttle(() => void runs++, 100, clock);
    void throttle.schedule();
    const pending = throttle.schedule();
    throttle.dispose();
    await expect(pending).resolves.toBeUndefined();
    await clock.advance(1000);
    expect(runs).toBe(1);
    expect(clock.timers).toHaveLength(0);
  });
});
