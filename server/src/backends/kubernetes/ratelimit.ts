/**
 * The sidecar's own limit on its API calls (backend.kubernetes.api_qps, api_burst): a token
 * bucket, as client-go's, so a burst of admissions goes to the API server at once up to
 * `burst` calls, then at `qps` a second; the calls themselves run concurrently.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((t - this.last) / 1000) * this.qps
    );
    this.last = t;
  }

  /** Resolves when a call may go (at once while the bucket holds a token; in arrival order). */
  take(): Promise<void> {
    this.refill();
    if (!this.waiting.length && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise(resolve => {
      this.waiting.push(resolve);
      this.drain();
    });
  }

  /** Runs `call` once a token is taken. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    await this.take();
    return call();
  }

  private drain(): void {
    if (this.timer) return;
    this.refill();
    while (this.waiting.length && this.tokens >= 1) {
      this.tokens -= 1;
      (this.waiting.shift() as () => void)();
    }
    if (!this.waiting.length) return;
    const wait = Math.ceil(((1 - this.tokens) / this.qps) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }
}
