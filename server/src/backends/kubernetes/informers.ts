/**
 * What the backend watches on the API server, each through one Watched (watch.ts): the pool's
 * nodes and the pods holding them (for the free capacity; capacity mode only), and nbqueue's
 * own Jobs and pods in the job namespace (for each job's state).
 */
import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObject,
  V1Job,
  V1Node,
  V1Pod,
  Watch
} from '@kubernetes/client-node';
import { apiMessage } from './client';
import type { KubernetesBackendConfig } from './config';
import { OWNED_SELECTOR } from './names';
import { WatchHandlers, WatchSource, Watched } from './watch';

/** Pods that hold room on a node: placed there and not ended. */
const HOLDING = 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed';

export interface ClusterHandlers {
  /** The pool may have more room now (a node changed, a pod holding room went). */
  capacity(): void;
  /** One of nbqueue's pods changed (`deleted`: it is gone). */
  pod(pod: V1Pod, deleted: boolean): void;
  /** One of nbqueue's Jobs changed (`deleted`: it is gone). */
  job(job: V1Job, deleted: boolean): void;
  log(line: string): void;
}

/** An API collection to watch: its path, its selectors and its list call. */
interface Collection<T extends KubernetesObject> {
  path: string;
  list: (selectors: {
    labelSelector?: string;
    fieldSelector?: string;
  }) => Promise<{ items: T[] }>;
  labelSelector?: string;
  fieldSelector?: string;
}

/** A WatchSource on the API server of `kubeConfig`. */
function apiSource<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  c: Collection<T>
): WatchSource<T> {
  const watch = new Watch(kubeConfig);
  const selectors = {
    labelSelector: c.labelSelector,
    fieldSelector: c.fieldSelector
  };
  return {
    list: () => c.list(selectors),
    watch: (resourceVersion, onEvent, onDone) =>
      watch.watch(
        c.path,
        { resourceVersion, ...selectors },
        (type: string, obj: T) => onEvent(type, obj),
        onDone
      )
  };
}

/** The same handler for every change, told whether the object is gone. */
function changes<T>(f: (obj: T, deleted: boolean) => void): WatchHandlers<T> {
  return {
    added: obj => f(obj, false),
    modified: obj => f(obj, false),
    deleted: obj => f(obj, true)
  };
}

export class ClusterView {
  readonly nodes: Watched<V1Node>;
  /** Pods holding a node of the pool: the job namespace's, or (pool_pods: cluster) all. */
  readonly placedPods: Watched<V1Pod>;
  readonly ownPods: Watched<V1Pod>;
  readonly ownJobs: Watched<V1Job>;
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly config: KubernetesBackendConfig,
    handlers: ClusterHandlers
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    const core = this.core;
    const batch = kc.makeApiClient(BatchV1Api);
    const namespace = config.namespace;
    const watched = <T extends KubernetesObject>(
      what: string,
      collection: Collection<T>,
      on: WatchHandlers<T>
    ): Watched<T> =>
      new Watched<T>({
        source: apiSource(kc, collection),
        stallSeconds: config.watch_stall_seconds,
        on,
        onError: err =>
          handlers.log(
            `watch of ${what} failed, restarting: ${apiMessage(err)}`
          )
      });
    const capacity = () => handlers.capacity();
    this.nodes = watched<V1Node>(
      'nodes',
      { path: '/api/v1/nodes', list: () => core.listNode() },
      { added: capacity, modified: capacity, deleted: capacity }
    );
    // When other workloads share the pool, they take room too (pool_pods: cluster).
    const everywhere = config.pool_pods === 'cluster';
    this.placedPods = watched<V1Pod>(
      'placed pods',
      {
        path: everywhere
          ? '/api/v1/pods'
          : `/api/v1/namespaces/${namespace}/pods`,
        list: ({ fieldSelector }) =>
          everywhere
            ? core.listPodForAllNamespaces({ fieldSelector })
            : core.listNamespacedPod({ namespace, fieldSelector }),
        fieldSelector: HOLDING
      },
      { deleted: capacity }
    );
    this.ownPods = watched<V1Pod>(
      'job pods',
      {
        path: `/api/v1/namespaces/${namespace}/pods`,
        list: ({ labelSelector }) =>
          core.listNamespacedPod({ namespace, labelSelector }),
        labelSelector: OWNED_SELECTOR
      },
      changes((pod: V1Pod, deleted) => handlers.pod(pod, deleted))
    );
    this.ownJobs = watched<V1Job>(
      'jobs',
      {
        path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
        list: ({ labelSelector }) =>
          batch.listNamespacedJob({ namespace, labelSelector }),
        labelSelector: OWNED_SELECTOR
      },
      changes((job: V1Job, deleted) => handlers.job(job, deleted))
    );
  }

  private all(): Array<Watched<V1Node> | Watched<V1Pod> | Watched<V1Job>> {
    return [this.nodes, this.placedPods, this.ownPods, this.ownJobs];
  }

  /** Lists everything watched; the caches are complete when this resolves. */
  async start(): Promise<void> {
    const namespace = this.config.namespace;
    try {
      await this.core.listNamespacedPod({ namespace, limit: 1 });
    } catch (err) {
      throw new Error(
        `The Kubernetes backend cannot read pods in namespace '${namespace}': ${apiMessage(err)}. Check backend.kubernetes (namespace, kubeconfig) and that deploy/kubernetes/rbac.yaml is applied.`
      );
    }
    // Kueue mode: Kueue admits, so the pool's room is not needed.
    const watched =
      this.config.mode === 'capacity'
        ? this.all()
        : [this.ownJobs, this.ownPods];
    await Promise.all(watched.map(w => w.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map(w => w.stop()));
  }
}
