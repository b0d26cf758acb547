/**
 * An informer (list + watch + cache) that does not stall. @kubernetes/client-node's ListWatch
 * (1.4.0, pinned in server/package.json) never restarts after an error (it only calls the
 * error callbacks), and its watch request has no timeout: a connection that dies without a
 * FIN or RST (a node or load balancer dropping it) leaves the cache silently stale forever.
 * This wrapper restarts it with backoff after an error, and relists when it has been silent
 * for `stallSeconds` (a full relist also turns what was deleted meanwhile into delete events).
 */
import {
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  ListWatch,
  Watch
} from '@kubernetes/client-node';

export interface WatchedOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** API path of the collection, e.g. /api/v1/namespaces/jobs/pods. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  stallSeconds: number;
  /** Called for every add, update and delete (deleted = true), after the cache has it. */
  onChange: (obj: T, deleted: boolean) => void;
  onError?: (err: unknown) => void;
}

export class Watched<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** Restarts done (after an error or a stall), for tests and the benchmark. */
  restarts = 0;

  constructor(private readonly options: WatchedOptions<T>) {
    this.lw = new ListWatch<T>(
      options.path,
      new Watch(options.kubeConfig),
      options.list,
      false,
      options.labelSelector,
      options.fieldSelector
    );
    const touch = () => {
      this.lastActivity = Date.now();
      this.failures = 0;
    };
    this.lw.on('add', obj => (touch(), options.onChange(obj, false)));
    this.lw.on('update', obj => (touch(), options.onChange(obj, false)));
    this.lw.on('delete', obj => (touch(), options.onChange(obj, true)));
    this.lw.on('connect', () => touch());
    this.lw.on('error', err => {
      options.onError?.(err);
      this.restartSoon();
    });
  }

  /** Lists (the cache is complete when this resolves) and starts watching. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.lw.start();
    this.lastActivity = Date.now();
    const period = Math.max(1000, (this.options.stallSeconds * 1000) / 4);
    this.timer = setInterval(() => {
      if (Date.now() - this.lastActivity > this.options.stallSeconds * 1000)
        void this.restart();
    }, period);
    this.timer.unref();
  }

  list(namespace?: string): ReadonlyArray<T> {
    return this.lw.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  private restartSoon(): void {
    if (this.stopped || this.retry) return;
    const delay = Math.min(30000, 500 * 2 ** this.failures++);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.restart();
    }, delay);
    this.retry.unref();
  }

  /** Stops the watch and relists from scratch. */
  async restart(): Promise<void> {
    if (this.stopped) return;
    this.restarts += 1;
    this.lastActivity = Date.now();
    await this.lw.stop();
    // An empty resourceVersion makes ListWatch relist instead of resuming the old watch.
    (this.lw as unknown as { resourceVersion: string }).resourceVersion = '';
    try {
      await this.lw.start();
    } catch (err) {
      this.options.onError?.(err);
      this.restartSoon();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    await this.lw.stop();
  }
}
