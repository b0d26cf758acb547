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
import type { WaitingReason } from '../../queue/waiting';
import type { JobRecord } from '../../jobs/types';
import { Admission } from './admission';
import { errorCode, loadKubeConfig, pooledApiClient } from './client';
import type { KubernetesBackendConfig } from './config';
import { ClusterView } from './informers';
import { jobManifest, secretManifest } from './manifest';
import { JOB_ID_LABEL, labelValue } from './names';
import { CreateFailure, JobResources } from './resources';
import { TokenBucket } from './ratelimit';
import { JobTracker } from './tracker';
import type { Watched } from './watch';

export { apiMessage, loadKubeConfig } from './client';

export interface KubernetesBackendOptions {
  config: KubernetesBackendConfig;
  profiles: Profile[];
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

/**
 * Runs each nbqueue job as a batch/v1 Job on the ML node pool. Informers on the pool's nodes,
 * on the pods holding them and on nbqueue's own Jobs and pods keep what the backend knows
 * current (informers.ts); `fits` answers from them whether a job would find room now
 * (admission.ts), so nothing is created to wait as a Pending pod; the tracker (tracker.ts)
 * turns each job's Job and pod into what the observer is told.
 */
export class KubernetesBackend implements Backend {
  readonly name = 'kubernetes';
  private readonly config: KubernetesBackendConfig;
  private readonly view: ClusterView;
  private readonly tracker: JobTracker;
  private readonly admission: Admission;
  private readonly resources: JobResources;
  readonly nodes: Watched<V1Node>;
  readonly placedPods: Watched<V1Pod>;
  readonly ownPods: Watched<V1Pod>;
  readonly ownJobs: Watched<V1Job>;
  private capacityTimer: NodeJS.Timeout | undefined;
  private unschedulableTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /**
   * Jobs whose Job a restart found without its token Secret (the previous sidecar stopped
   * between the two writes): that Job is deleted and the job queued again; its next Job waits
   * until the first and its pod are gone.
   */
  private readonly secretless = new Set<string>();

  constructor(
    private readonly options: KubernetesBackendOptions,
    private readonly observer: BackendObserver
  ) {
    this.config = options.config;
    const kc = options.kubeConfig ?? loadKubeConfig(options.config);
    const namespace = this.config.namespace;
    const log = (line: string) => this.log(line);
    this.resources = new JobResources(
      pooledApiClient(kc, CoreV1Api),
      pooledApiClient(kc, BatchV1Api),
      namespace,
      log,
      new TokenBucket(this.config.api_qps, this.config.api_burst)
    );
    this.tracker = new JobTracker({
      config: this.config,
      observer,
      job: name => this.ownJobs.get(name, namespace),
      deleteJob: name => this.resources.deleteJob(name),
      freed: () => this.capacityChanged()
    });
    this.admission = new Admission(this.config, observer);
    this.view = new ClusterView(kc, this.config, {
      capacity: () => this.capacityChanged(),
      pod: (pod, deleted) => {
        this.tracker.podChanged(pod, deleted);
        // A restarted job may wait for its earlier attempt's pod to go (fits).
        if (deleted) this.capacityChanged();
      },
      job: (job, deleted) => {
        this.tracker.jobChanged(job, deleted);
        if (deleted) this.capacityChanged();
      },
      log
    });
    this.nodes = this.view.nodes;
    this.placedPods = this.view.placedPods;
    this.ownPods = this.view.ownPods;
    this.ownJobs = this.view.ownJobs;
  }

  /** Lists everything the informers watch; the caches are complete when this resolves. */
  async start(): Promise<void> {
    await this.view.start();
    this.unschedulableTimer = setInterval(
      () => this.tracker.evaluateAll(),
      5000
    );
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

  /**
   * Whether the job would find room on its pool now, counting the jobs already started whose
   * pods are not placed yet. Kueue mode: always (Kueue admits).
   */
  fits(job: JobRecord): boolean {
    // One runner per job: a restarted job's next attempt starts only once its earlier
    // attempt's Job and pod are gone (the pod has its grace period to stop).
    if (
      (job.attempt > 1 || this.secretless.has(job.id)) &&
      this.leftover(job.id)
    )
      return false;
    if (this.config.mode === 'kueue') return true;
    return this.admission.fits(
      job,
      this.profile(job.profile),
      this.nodes.list(),
      this.placedPods.list(),
      this.tracker.entries()
    );
  }

  /** Whether any Job or pod of the job is still there (an earlier attempt's). */
  private leftover(jobId: string): boolean {
    const id = labelValue(jobId);
    const ns = this.config.namespace;
    const mine = (o: V1Job | V1Pod) =>
      o.metadata?.labels?.[JOB_ID_LABEL] === id;
    return this.ownJobs.list(ns).some(mine) || this.ownPods.list(ns).some(mine);
  }

  /** Units of the profile's GPU resource free on its nodes; Kueue mode: null (Kueue counts). */
  gpuFree(profile: Profile): number | null {
    if (this.config.mode === 'kueue') return null;
    return this.admission.gpuFree(
      profile,
      this.nodes.list(),
      this.placedPods.list(),
      this.tracker.entries()
    );
  }

  waitingReason(jobId: string): WaitingReason | undefined {
    return this.admission.refusal(jobId);
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
      sidecarUrl
    });
    const name = manifest.metadata?.name as string;
    const namespace = this.config.namespace;
    // Counted against the pool from now on, before any await: the next fits() sees it.
    this.tracker.add(job.id, {
      name,
      profile,
      cancelling: false,
      creating: true,
      seenJob: false
    });
    this.observer.handle(job.id, { job: name, namespace });
    this.admission.started(job.id);
    this.secretless.delete(job.id);
    try {
      await this.resources.create(
        manifest,
        secretManifest(job, name, namespace, token)
      );
    } catch (err) {
      const failure =
        err instanceof CreateFailure ? err : new CreateFailure(err, false);
      this.tracker.forget(job.id);
      // A Job without its token Secret would wait for it, unobserved: take it back.
      if (failure.jobCreated) await this.resources.deleteJob(name);
      throw new Error(
        `Could not create the Kubernetes Job for ${job.id} in namespace '${namespace}': ${failure.message}.${errorCode(failure.error) === 403 ? ' The sidecar lacks a permission: apply deploy/kubernetes/rbac.yaml for this namespace.' : ''}`
      );
    }
    const a = this.tracker.get(job.id);
    if (a) {
      a.creating = false;
      if (a.cancelling) await this.resources.deleteJob(name);
      this.tracker.evaluate(job.id);
    }
  }

  async cancel(job: JobRecord): Promise<void> {
    const ref = job.backend_ref as KubernetesRef | null;
    const a = this.tracker.get(job.id);
    if (a) a.cancelling = true;
    const name = a?.name ?? ref?.job;
    if (name) await this.resources.deleteJob(name);
    this.tracker.evaluate(job.id);
  }

  async readopt(job: JobRecord): Promise<boolean> {
    const ref = job.backend_ref as KubernetesRef | null;
    if (!ref?.job || ref.namespace !== this.config.namespace) return false;
    const existing = this.ownJobs.get(ref.job, ref.namespace);
    if (!existing || existing.metadata?.deletionTimestamp) return false;
    // Stopped between the Job and its Secret: no runner can start; neverStarted replaces it.
    if (
      job.state === 'starting' &&
      (await this.resources.hasSecret(ref.job)) === false
    ) {
      this.secretless.add(job.id);
      return false;
    }
    let profile: Profile;
    try {
      profile = this.profile(job.profile);
    } catch {
      return false;
    }
    this.tracker.add(job.id, {
      name: ref.job,
      profile,
      cancelling: job.cancel_requested,
      seenJob: true
    });
    // A cancel the previous sidecar may not have carried out.
    if (job.cancel_requested) await this.resources.deleteJob(ref.job);
    const pod = this.podOf(job.id);
    if (pod) this.tracker.podFound(job.id, pod);
    setImmediate(() => this.tracker.evaluate(job.id));
    return true;
  }

  async neverStarted(job: JobRecord): Promise<boolean> {
    const ref = job.backend_ref as KubernetesRef | null;
    // Named before anything is created: without a name, nothing was.
    if (!ref?.job) return true;
    if (ref.namespace !== this.config.namespace) return false;
    if (this.secretless.has(job.id)) {
      await this.resources.deleteJob(ref.job);
      return true;
    }
    if (this.ownJobs.get(ref.job, ref.namespace)) return false;
    return this.resources.removeUnstarted(ref.job);
  }

  private podOf(jobId: string): V1Pod | undefined {
    return this.ownPods
      .list(this.config.namespace)
      .find(p => p.metadata?.labels?.[JOB_ID_LABEL] === jobId);
  }

  /**
   * After the re-adoption pass: nbqueue's Jobs that no active job owns any more (left by a
   * sidecar that stopped between creating a Job and recording it, or whose job ended while it
   * was down) are deleted, so none runs unobserved.
   */
  async afterReadopt(): Promise<void> {
    const removed = await this.removeOrphans();
    if (removed.length)
      this.log(
        `deleted ${removed.length} orphaned Job(s): ${removed.join(', ')}`
      );
  }

  /** Deletes the Jobs no active job owns; returns their names. */
  async removeOrphans(): Promise<string[]> {
    const owned = new Set([...this.tracker.entries()].map(([, a]) => a.name));
    return this.resources.removeOrphans(
      this.ownJobs.list(this.config.namespace),
      owned
    );
  }

  async logs(job: JobRecord): Promise<string | null> {
    const pod = this.podOf(job.id)?.metadata?.name;
    return pod ? this.resources.logs(pod) : null;
  }

  /** Jobs this backend is watching (started or re-adopted, not ended). */
  activeJobs(): string[] {
    return [...this.tracker.entries()].map(([id]) => id);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.capacityTimer);
    clearInterval(this.unschedulableTimer);
    this.tracker.close();
    await this.view.stop();
  }
}
