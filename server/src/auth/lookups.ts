/**
 * What the hub authenticator remembers between requests, bounded whatever callers send: answers
 * of the hub per token (least recently used first out, each with its expiry) and, per client
 * address, how many tokens the hub did not know (a sliding window).
 */

interface Entry<V> {
  value: V;
  expires: number;
}

/** A map of at most `max` entries, each valid until its expiry; the least recently used goes. */
export class ExpiringLru<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= this.now()) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** At most `limit` events per key in any `windowMs`; keys beyond `maxKeys` forget the oldest. */
export class SlidingWindowLimit {
  private readonly hits: ExpiringLru<number[]>;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    maxKeys: number,
    private readonly now: () => number = Date.now
  ) {
    this.hits = new ExpiringLru(maxKeys, now);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.hits.get(key) ?? []).filter(t => t > since);
  }

  /** Whether `key` has used up its events in the current window. */
  exceeded(key: string): boolean {
    return this.recent(key).length >= this.limit;
  }

  record(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    this.hits.set(key, times.slice(-this.limit), this.windowMs);
  }
}
