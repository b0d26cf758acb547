/**
 * An informer (list, then watch from the list's resourceVersion, with a cache) that does not
 * stall. @kubernetes/client-node's ListWatch (1.4.0, pinned in server/package.json) never
 * restarts after an error (it only calls the error callbacks), and its watch request has no
 * timeout: a connection that dies without a FIN or RST (a node or load balancer dropping it)
 * leaves the cache silently stale forever. This one resumes a watch the server closed, relists
 * at once on 410 Gone (the resourceVersion is too old), relists with backoff after an error,
 * and relists when it has been silent for `stallSeconds` (a full relist also turns what was
 * deleted meanwhile into delete events).
 */
import type {
  KubernetesListObject,
  KubernetesObject
} from '@kubernetes/client-node';

/** A watch request in progress. */
export interface WatchRequest {
  abort(): void;
}

/** Where a Watched gets its objects: a list, and a watch that starts at a resourceVersion. */
export interface WatchSource<T extends KubernetesObject> {
  list(): Promise<KubernetesListObject<T>>;
  /**
   * Watches from `resourceVersion`. `onEvent` gets each event (ADDED, MODIFIED, DELETED,
   * BOOKMARK, ERROR); `onDone` is called once when the watch ends: null when the server closed
   * it, the error otherwise (an error with code or statusCode 410: the version is gone).
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, obj: T) => void,
    onDone: (err: unknown) => void
  ): Promise<WatchRequest>;
}

/** What a Watched tells its owner, after its cache has the change. */
export interface WatchHandlers<T> {
  added?(obj: T): void;
  modified?(obj: T): void;
  deleted?(obj: T): void;
}

export interface WatchedOptions<T extends KubernetesObject> {
  source: WatchSource<T>;
  stallSeconds: number;
  on: WatchHandlers<T>;
  /** A list or watch failed (a relist follows, after a backoff), or a handler threw. */
  onError?: (err: unknown) => void;
  /** The wait before the relist after `failures` errors in a row (ms). */
  backoffMs?: (failures: number) => number;
}

const backoff = (failures: number): number =>
  Math.min(30000, 500 * 2 ** failures);

const gone = (err: unknown): boolean => {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  return e?.code === 410 || e?.statusCode === 410;
};

const nameOf = (obj: KubernetesObject): string => obj.metadata?.name ?? '';
const namespaceOf = (obj: KubernetesObject): string =>
  obj.metadata?.namespace ?? '';

export class Watched<T extends KubernetesObject> {
  /** Namespace ('' for cluster-scoped objects) -> name -> object. */
  private objects = new Map<string, Map<string, T>>();
  private resourceVersion = '';
  private request: WatchRequest | undefined;
  /** Bumped on every (re)connection: callbacks of an older watch are ignored. */
  private generation = 0;
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = true;
  /** Relists done after an error or a stall, for tests and the benchmark. */
  restarts = 0;

  constructor(private readonly options: WatchedOptions<T>) {}

  /**
   * Lists (the cache is complete when this resolves, unless the list failed: then it is
   * retried with backoff) and starts watching.
   */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
    this.lastActivity = Date.now();
    const stallMs = this.options.stallSeconds * 1000;
    this.timer = setInterval(
      () => {
        if (Date.now() - this.lastActivity > stallMs) void this.restart();
      },
      Math.max(1000, stallMs / 4)
    );
    this.timer.unref();
  }

  list(namespace?: string): ReadonlyArray<T> {
    if (namespace) return [...(this.objects.get(namespace)?.values() ?? [])];
    return [...this.objects.values()].flatMap(m => [...m.values()]);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ?? '')?.get(name);
  }

  /** Stops the watch and relists from scratch. */
  async restart(): Promise<void> {
    if (this.stopped) return;
    this.restarts += 1;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.resourceVersion = '';
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation += 1;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.retry = undefined;
    this.request?.abort();
    this.request = undefined;
  }

  /** Lists when there is no resourceVersion to resume from, then watches. */
  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.stopped;
    this.request?.abort();
    this.request = undefined;
    this.lastActivity = Date.now();
    if (!this.resourceVersion) {
      let list: KubernetesListObject<T>;
      try {
        list = await this.options.source.list();
      } catch (err) {
        if (current()) this.failed(err);
        return;
      }
      if (!current()) return;
      this.failures = 0;
      this.replace(list.items ?? []);
      this.resourceVersion = list.metadata?.resourceVersion ?? '';
    }
    let request: WatchRequest;
    try {
      request = await this.options.source.watch(
        this.resourceVersion,
        (type, obj) => {
          if (current()) this.event(type, obj);
        },
        err => {
          if (current()) this.ended(err);
        }
      );
    } catch (err) {
      if (current()) this.failed(err);
      return;
    }
    if (current()) this.request = request;
    else request.abort();
  }

  private event(type: string, obj: T): void {
    this.lastActivity = Date.now();
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.store(obj);
        break;
      case 'DELETED':
        this.remove(obj);
        break;
      case 'ERROR':
        // The server closes the watch after it: relist then rather than resume.
        if (gone(obj)) this.resourceVersion = '';
        return;
    }
    this.resourceVersion = obj.metadata?.resourceVersion ?? '';
  }

  /** The watch ended: resume (closed by the server), relist (410 Gone) or back off (error). */
  private ended(err: unknown): void {
    this.request = undefined;
    if (gone(err)) this.resourceVersion = '';
    else if (err) return this.failed(err);
    void this.connect();
  }

  private failed(err: unknown): void {
    this.options.onError?.(err);
    if (this.stopped || this.retry) return;
    const delay = (this.options.backoffMs ?? backoff)(this.failures++);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.restart();
    }, delay);
    this.retry.unref();
  }

  /** A full list: what is missing from it was deleted meanwhile. */
  private replace(items: T[]): void {
    const listed = new Set(items.map(o => `${namespaceOf(o)}/${nameOf(o)}`));
    for (const old of this.list())
      if (!listed.has(`${namespaceOf(old)}/${nameOf(old)}`)) this.remove(old);
    for (const obj of items) this.store(obj);
  }

  private store(obj: T): void {
    const ns = namespaceOf(obj);
    let objects = this.objects.get(ns);
    if (!objects) this.objects.set(ns, (objects = new Map()));
    const found = objects.get(nameOf(obj));
    const version = found?.metadata?.resourceVersion;
    if (found && version && version === obj.metadata?.resourceVersion) return;
    objects.set(nameOf(obj), obj);
    this.tell(found ? 'modified' : 'added', obj);
  }

  private remove(obj: T): void {
    const ns = namespaceOf(obj);
    const objects = this.objects.get(ns);
    if (!objects?.delete(nameOf(obj))) return;
    if (!objects.size) this.objects.delete(ns);
    this.tell('deleted', obj);
  }

  private tell(what: keyof WatchHandlers<T>, obj: T): void {
    try {
      this.options.on[what]?.(obj);
    } catch (err) {
      this.options.onError?.(err);
    }
  }
}
