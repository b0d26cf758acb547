import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  V1Job,
  V1Node,
  V1Pod
} from '@kubernetes/client-node';
import type { Backend, BackendObserver, LaunchRequest } from '../backend';
import type { Profile } from '../../config/schema';
import type { JobRecord } from '../../jobs/types';
import type { KubernetesBackendConfig } from './config';
import { Demand, PoolCapacity, amounts } from './capacity';
import {
  CONTAINER,
  jobManifest,
  placementFor,
  secretManifest
} from './manifest';
import { JOB_ID_LABEL, OWNED_SELECTOR, secretName } from './names';
import { outcome } from './status';
import { Watched } from './watch';

export interface KubernetesBackendOptions {
  config: KubernetesBackendConfig;
  profiles: Profile[];
  cancelGraceSeconds: number;
  /** The pool may have room now (a pod ended, a node came): the caller schedules again. */
  onCapacity?: () => void;
  /** Overrides the kubeconfig from the configuration (tests). */
  kubeConfig?: KubeConfig;
  log?: (line: string) => void;
}

/** What backend_ref holds for a Kubernetes job. */
export interface KubernetesRef {
  job: string;
  namespace: string;
}

interface Active {
  name: string;
  profile: Profile;
  cancelling: boolean;
  /** submit() is still creating the Job: a cancel meanwhile is carried out when it is done. */
  creating?: boolean;
  seenJob: boolean;
  waitingSince?: number;
  noted?: string | null;
  settle?: NodeJS.Timeout;
}

/** Time given to the Job's status to catch up with a pod that disappeared (deadline or loss?). */
const SETTLE_MS = 1500;

/** A person-readable sentence from an API error. */
export function apiMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let text = e.message ?? String(err);
  if (typeof e.body === 'string') {
    try {
      text = (JSON.parse(e.body) as { message?: string }).message ?? e.body;
    } catch {
      text = e.body;
    }
  } else if (e.body && typeof e.body === 'object') {
    text = (e.body as { message?: string }).message ?? text;
  }
  return e.code ? `${text} (HTTP ${e.code})` : text;
}

function errorCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

export function loadKubeConfig(config: KubernetesBackendConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (config.context) kc.setCurrentContext(config.context);
  return kc;
}

/**
 * Runs each nbqueue job as a batch/v1 Job on the ML node pool. Informers on the pool's nodes,
 * on the pods holding them and on nbqueue's own Jobs and pods keep what the backend knows
 * current; `fits` answers from them whether a job would find room now, so nothing is created
 * to wait as a Pending pod.
 */
export class KubernetesBackend implements Backend {
  readonly name = 'kubernetes';
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;
  private readonly config: KubernetesBackendConfig;
  private readonly active = new Map<string, Active>();
  /** The last state seen of each job's pod (kept after it is deleted: why it went matters). */
  private readonly pods = new Map<string, { pod: V1Pod; deleted: boolean }>();
  readonly nodes: Watched<V1Node>;
  readonly placedPods: Watched<V1Pod>;
  readonly ownPods: Watched<V1Pod>;
  readonly ownJobs: Watched<V1Job>;
  /** Queued jobs told that no node of their pool can hold them. */
  private readonly cannotFit = new Set<string>();
  private capacityTimer: NodeJS.Timeout | undefined;
  private unschedulableTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: KubernetesBackendOptions,
    private readonly observer: BackendObserver
  ) {
    this.config = options.config;
    this.kc = options.kubeConfig ?? loadKubeConfig(options.config);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.batch = this.kc.makeApiClient(BatchV1Api);
    const ns = this.config.namespace;
    const stallSeconds = this.config.watch_stall_seconds;
    const onError = (what: string) => (err: unknown) =>
      this.log(`watch of ${what} failed, restarting: ${apiMessage(err)}`);
    this.nodes = new Watched<V1Node>({
      kubeConfig: this.kc,
      path: '/api/v1/nodes',
      list: () => this.core.listNode(),
      stallSeconds,
      onChange: () => this.capacityChanged(),
      onError: onError('nodes')
    });
    // Pods that hold a node: the job namespace's, or (pool_pods: cluster) every namespace's,
    // when other workloads share the pool and take room too.
    const holding =
      'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed';
    const everywhere = this.options.config.pool_pods === 'cluster';
    this.placedPods = new Watched<V1Pod>({
      kubeConfig: this.kc,
      path: everywhere ? '/api/v1/pods' : `/api/v1/namespaces/${ns}/pods`,
      list: () =>
        everywhere
          ? this.core.listPodForAllNamespaces({ fieldSelector: holding })
          : this.core.listNamespacedPod({
              namespace: ns,
              fieldSelector: holding
            }),
      fieldSelector: holding,
      stallSeconds,
      onChange: (_pod, deleted) => {
        if (deleted) this.capacityChanged();
      },
      onError: onError('placed pods')
    });
    this.ownPods = new Watched<V1Pod>({
      kubeConfig: this.kc,
      path: `/api/v1/namespaces/${ns}/pods`,
      list: () =>
        this.core.listNamespacedPod({
          namespace: ns,
          labelSelector: OWNED_SELECTOR
        }),
      labelSelector: OWNED_SELECTOR,
      stallSeconds,
      onChange: (pod, deleted) => {
        const id = pod.metadata?.labels?.[JOB_ID_LABEL];
        if (!id) return;
        if (this.active.has(id)) this.pods.set(id, { pod, deleted });
        else if (deleted) this.pods.delete(id);
        this.evaluate(id);
      },
      onError: onError('job pods')
    });
    this.ownJobs = new Watched<V1Job>({
      kubeConfig: this.kc,
      path: `/apis/batch/v1/namespaces/${ns}/jobs`,
      list: () =>
        this.batch.listNamespacedJob({
          namespace: ns,
          labelSelector: OWNED_SELECTOR
        }),
      labelSelector: OWNED_SELECTOR,
      stallSeconds,
      onChange: (job, deleted) => {
        const id = job.metadata?.labels?.[JOB_ID_LABEL];
        const a = id ? this.active.get(id) : undefined;
        if (!id || !a || job.metadata?.name !== a.name) return;
        if (!deleted) a.seenJob = true;
        this.evaluate(id, deleted);
      },
      onError: onError('jobs')
    });
  }

  /** Lists everything the informers watch; the caches are complete when this resolves. */
  async start(): Promise<void> {
    const watched: Array<Watched<never>> = [
      this.ownJobs,
      this.ownPods
    ] as unknown as Array<Watched<never>>;
    if (this.config.mode === 'capacity')
      watched.push(
        this.nodes as unknown as Watched<never>,
        this.placedPods as unknown as Watched<never>
      );
    try {
      await this.core.listNamespacedPod({
        namespace: this.config.namespace,
        limit: 1
      });
    } catch (err) {
      throw new Error(
        `The Kubernetes backend cannot read pods in namespace '${this.config.namespace}': ${apiMessage(err)}. Check backend.kubernetes (namespace, kubeconfig) and that deploy/kubernetes/rbac.yaml is applied.`
      );
    }
    await Promise.all(watched.map(w => w.start()));
    this.unschedulableTimer = setInterval(() => {
      for (const id of this.active.keys()) this.evaluate(id);
    }, 5000);
    this.unschedulableTimer.unref();
  }

  private log(line: string): void {
    (
      this.options.log ??
      (l => process.stderr.write(`nbqueue kubernetes: ${l}\n`))
    )(line);
  }

  private profile(name: string): Profile {
    const p = this.options.profiles.find(x => x.name === name);
    if (!p) throw new Error(`Profile '${name}' is not configured.`);
    return p;
  }

  private demand(profile: Profile): Demand {
    const place = placementFor(this.config, profile);
    return {
      nodeSelector: place.nodeSelector,
      tolerations: place.tolerations,
      requests: { ...amounts(place.requests), pods: 1 }
    };
  }

  /**
   * Whether the job would find room on its pool now, counting the jobs already started whose
   * pods are not placed yet. Kueue mode: always (Kueue admits).
   */
  fits(job: JobRecord): boolean {
    if (this.config.mode === 'kueue') return true;
    const placed = this.placedPods.list();
    const pool = new PoolCapacity(this.nodes.list(), placed);
    const counted = new Set(
      placed.map(p => p.metadata?.labels?.[JOB_ID_LABEL]).filter(Boolean)
    );
    for (const [id, a] of this.active) {
      if (counted.has(id) || a.cancelling) continue;
      pool.take(this.demand(a.profile));
    }
    const profile = this.profile(job.profile);
    const demand = this.demand(profile);
    if (pool.take(demand)) return true;
    if (
      !this.cannotFit.has(job.id) &&
      !PoolCapacity.couldEverHold(this.nodes.list(), demand)
    ) {
      this.cannotFit.add(job.id);
      const asks = Object.entries(placementFor(this.config, profile).requests)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      const where = Object.entries(demand.nodeSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      this.observer.note?.(
        job.id,
        `No ready node of the pool (${where || 'any node'}) is big enough for profile '${profile.name}' (${asks}): the job waits until one is. Choose a smaller profile, or ask an operator to check the pool.`
      );
    }
    return false;
  }

  private capacityChanged(): void {
    if (this.capacityTimer || this.closed) return;
    this.capacityTimer = setTimeout(() => {
      this.capacityTimer = undefined;
      if (!this.closed) this.options.onCapacity?.();
    }, 200);
    this.capacityTimer.unref();
  }

  async submit({ job, token, sidecarUrl }: LaunchRequest): Promise<void> {
    const profile = this.profile(job.profile);
    const manifest = jobManifest({
      job,
      profile,
      config: this.config,
      sidecarUrl,
      graceSeconds: this.options.cancelGraceSeconds + 15
    });
    const name = manifest.metadata?.name as string;
    const namespace = this.config.namespace;
    // Counted against the pool from now on, before any await: the next fits() sees it.
    this.active.set(job.id, {
      name,
      profile,
      cancelling: false,
      creating: true,
      seenJob: false
    });
    this.observer.handle(job.id, { job: name, namespace });
    if (this.cannotFit.delete(job.id)) this.observer.note?.(job.id, null);
    let jobCreated = false;
    try {
      // The Secret first, so the pod finds it; once the Job exists it becomes the Secret's
      // owner and the garbage collector deletes the two together.
      const secret = await this.core.createNamespacedSecret({
        namespace,
        body: secretManifest(job, name, namespace, token)
      });
      let created: V1Job;
      try {
        created = await this.batch.createNamespacedJob({
          namespace,
          body: manifest
        });
      } catch (err) {
        await this.core
          .deleteNamespacedSecret({ name: secretName(name), namespace })
          .catch(() => undefined);
        throw err;
      }
      jobCreated = true;
      secret.metadata = {
        ...secret.metadata,
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name,
            uid: created.metadata?.uid as string,
            blockOwnerDeletion: false
          }
        ]
      };
      await this.core.replaceNamespacedSecret({
        name: secretName(name),
        namespace,
        body: secret
      });
    } catch (err) {
      this.active.delete(job.id);
      // A Job without its Secret's owner reference would run unobserved: take it back.
      if (jobCreated) await this.deleteJob(name);
      throw new Error(
        `Could not create the Kubernetes Job for ${job.id} in namespace '${namespace}': ${apiMessage(err)}.${errorCode(err) === 403 ? ' The sidecar lacks a permission: apply deploy/kubernetes/rbac.yaml for this namespace.' : ''}`
      );
    }
    const a = this.active.get(job.id);
    if (a) {
      a.creating = false;
      if (a.cancelling) await this.deleteJob(name);
      this.evaluate(job.id);
    }
  }

  /** The job's state from its Job and pod: report what ends it, note what holds it up. */
  private evaluate(jobId: string, jobDeleted = false): void {
    const a = this.active.get(jobId);
    if (!a || this.closed) return;
    const job = jobDeleted
      ? undefined
      : this.ownJobs.get(a.name, this.config.namespace);
    const last = this.pods.get(jobId);
    if (a.cancelling) {
      if (!a.creating && !job && (!last || last.deleted))
        this.done(
          jobId,
          'Cancelled by the user; the Kubernetes Job was deleted.'
        );
      return;
    }
    if (!job && a.seenJob && (!last || last.deleted)) {
      this.done(
        jobId,
        `The Kubernetes Job ${a.name} was deleted outside nbqueue before the runner reported a result.`
      );
      return;
    }
    const place = placementFor(this.config, a.profile);
    const o = outcome({
      job,
      pod: last?.pod,
      podDeleted: !!last?.deleted,
      memory: a.profile.memory,
      profile: a.profile.name,
      image: place.image
    });
    switch (o.kind) {
      case 'none':
        a.waitingSince = undefined;
        this.note(jobId, a, null);
        return;
      case 'waiting': {
        a.waitingSince ??= Date.now();
        const waited = (Date.now() - a.waitingSince) / 1000;
        if (
          o.unschedulable &&
          waited > this.config.unschedulable_timeout_seconds
        ) {
          void this.deleteJob(a.name);
          this.done(
            jobId,
            `${o.reason} (waited ${Math.round(waited)} s, more than unschedulable_timeout_seconds). Choose a smaller profile or ask an operator to check the pool.`
          );
        } else this.note(jobId, a, o.reason);
        return;
      }
      case 'failed':
        void this.deleteJob(a.name);
        this.done(jobId, o.reason, o.oom);
        return;
      case 'ended':
        this.done(jobId, o.reason);
        return;
      case 'lost': {
        const deletedPlainly =
          last?.deleted &&
          !last.pod.status?.conditions?.some(
            c => c.type === 'DisruptionTarget'
          );
        if (deletedPlainly && !a.settle) {
          // The Job's own status may yet say why (a deadline deletes the pod too).
          a.settle = setTimeout(() => {
            a.settle = undefined;
            this.settled(jobId);
          }, SETTLE_MS);
          a.settle.unref();
          return;
        }
        if (a.settle) return;
        this.lost(jobId, a, o.reason);
      }
    }
  }

  private settled(jobId: string): void {
    const a = this.active.get(jobId);
    if (!a) return;
    const job = this.ownJobs.get(a.name, this.config.namespace);
    const last = this.pods.get(jobId);
    const o = outcome({
      job,
      pod: last?.pod,
      podDeleted: !!last?.deleted,
      memory: a.profile.memory,
      profile: a.profile.name,
      image: placementFor(this.config, a.profile).image
    });
    if (o.kind === 'lost') this.lost(jobId, a, o.reason);
    else this.evaluate(jobId);
  }

  private lost(jobId: string, a: Active, reason: string): void {
    void this.deleteJob(a.name);
    this.active.delete(jobId);
    this.pods.delete(jobId);
    this.capacityChanged();
    const max = this.config.requeue_on_eviction;
    const requeue = this.observer.requeue;
    if (requeue && max > 0) {
      requeue.call(this.observer, jobId, reason, max);
    } else {
      this.observer.exited(
        jobId,
        `${reason} It was not queued again (backend.kubernetes.requeue_on_eviction is 0): re-run it.`
      );
    }
  }

  private note(jobId: string, a: Active, reason: string | null): void {
    if (a.noted === reason || (a.noted === undefined && reason === null))
      return;
    a.noted = reason;
    this.observer.note?.(jobId, reason);
  }

  private done(jobId: string, reason: string, oom = false): void {
    const a = this.active.get(jobId);
    if (a?.settle) clearTimeout(a.settle);
    this.active.delete(jobId);
    this.pods.delete(jobId);
    this.capacityChanged();
    if (oom && this.observer.outOfMemory)
      this.observer.outOfMemory(jobId, reason);
    else this.observer.exited(jobId, reason);
  }

  private async deleteJob(name: string): Promise<void> {
    try {
      // Background: the Job goes now; the garbage collector deletes its pods (each with its
      // termination grace period, so the runner can report) and its token Secret.
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.config.namespace,
        propagationPolicy: 'Background'
      });
    } catch (err) {
      if (errorCode(err) !== 404)
        this.log(`could not delete Job ${name}: ${apiMessage(err)}`);
    }
  }

  async cancel(job: JobRecord): Promise<void> {
    const ref = job.backend_ref as KubernetesRef | null;
    const a = this.active.get(job.id);
    if (a) a.cancelling = true;
    const name = a?.name ?? ref?.job;
    if (name) await this.deleteJob(name);
    this.evaluate(job.id);
  }

  async readopt(job: JobRecord): Promise<boolean> {
    const ref = job.backend_ref as KubernetesRef | null;
    if (!ref?.job || ref.namespace !== this.config.namespace) return false;
    const existing = this.ownJobs.get(ref.job, ref.namespace);
    if (!existing || existing.metadata?.deletionTimestamp) return false;
    let profile: Profile;
    try {
      profile = this.profile(job.profile);
    } catch {
      return false;
    }
    this.active.set(job.id, {
      name: ref.job,
      profile,
      cancelling: job.cancel_requested,
      seenJob: true
    });
    // A cancel the previous sidecar may not have carried out.
    if (job.cancel_requested) await this.deleteJob(ref.job);
    const pod = this.ownPods
      .list(ref.namespace)
      .find(p => p.metadata?.labels?.[JOB_ID_LABEL] === job.id);
    if (pod) this.pods.set(job.id, { pod, deleted: false });
    setImmediate(() => this.evaluate(job.id));
    return true;
  }

  /**
   * After the re-adoption pass: nbqueue's Jobs that no active job owns any more (left by a
   * sidecar that stopped between creating a Job and recording it, or whose job ended while it
   * was down) are deleted, so none runs unobserved. Returns their names.
   */
  async afterReadopt(): Promise<void> {
    const removed = await this.removeOrphans();
    if (removed.length)
      this.log(
        `deleted ${removed.length} orphaned Job(s): ${removed.join(', ')}`
      );
  }

  async removeOrphans(): Promise<string[]> {
    const owned = new Set([...this.active.values()].map(a => a.name));
    const orphans = this.ownJobs
      .list(this.config.namespace)
      .filter(
        j =>
          !owned.has(j.metadata?.name as string) &&
          !j.metadata?.deletionTimestamp &&
          !j.status?.conditions?.some(
            c =>
              (c.type === 'Complete' || c.type === 'Failed') &&
              c.status === 'True'
          )
      )
      .map(j => j.metadata?.name as string);
    for (const name of orphans) await this.deleteJob(name);
    return orphans;
  }

  async logs(job: JobRecord): Promise<string | null> {
    const pod = this.ownPods
      .list(this.config.namespace)
      .find(p => p.metadata?.labels?.[JOB_ID_LABEL] === job.id);
    if (!pod?.metadata?.name) return null;
    try {
      return await this.core.readNamespacedPodLog({
        name: pod.metadata.name,
        namespace: this.config.namespace,
        container: CONTAINER,
        tailLines: 5000
      });
    } catch {
      return null;
    }
  }

  /** Jobs this backend is watching (started or re-adopted, not ended). */
  activeJobs(): string[] {
    return [...this.active.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.capacityTimer);
    clearInterval(this.unschedulableTimer);
    for (const a of this.active.values()) clearTimeout(a.settle);
    await Promise.all(
      [this.nodes, this.placedPods, this.ownPods, this.ownJobs].map(w =>
        w.stop()
      )
    );
  }
}
