/**
 * The jobs the backend runs, followed from what the informers see of their Job and pod: what
 * ends a job (reported to the observer once), what holds one up (noted while it lasts), and a
 * pod taken away through no fault of the job (the job runs again: jobs/restarts.ts).
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { BackendObserver } from '../backend';
import type { Profile } from '../../config/schema';
import type { RestartCause } from '../../jobs/types';
import type { KubernetesBackendConfig } from './config';
import { placementFor } from './manifest';
import { JOB_ID_LABEL } from './names';
import { outcome } from './status';

/** A job the backend has started or re-adopted, until it ends. */
export interface Active {
  /** Its Kubernetes Job's name. */
  name: string;
  profile: Profile;
  cancelling: boolean;
  /** submit() is still creating the Job: a cancel meanwhile is carried out when it is done. */
  creating?: boolean;
  seenJob: boolean;
  /** The uid of the attempt's pod: another pod of its Job is a replacement (podChanged). */
  podUid?: string;
  waitingSince?: number;
  noted?: string | null;
  settle?: NodeJS.Timeout;
}

/** Time given to the Job's status to catch up with a pod that disappeared (deadline or loss?). */
const SETTLE_MS = 1500;
/** How long a pod may wait for its token Secret (the sidecar writes it just after the Job). */
const SECRET_WAIT_SECONDS = 60;

export interface TrackerOptions {
  config: KubernetesBackendConfig;
  observer: BackendObserver;
  /** The Job named `name` in the job namespace, as the informer has it. */
  job(name: string): V1Job | undefined;
  deleteJob(name: string): Promise<void>;
  /** A job ended or went: its room on the pool is free. */
  freed(): void;
}

export class JobTracker {
  private readonly active = new Map<string, Active>();
  /** The last state seen of each job's pod (kept after it is deleted: why it went matters). */
  private readonly pods = new Map<string, { pod: V1Pod; deleted: boolean }>();
  private closed = false;

  constructor(private readonly options: TrackerOptions) {}

  get(jobId: string): Active | undefined {
    return this.active.get(jobId);
  }

  entries(): IterableIterator<[string, Active]> {
    return this.active.entries();
  }

  /** Follows the job from now on. */
  add(jobId: string, a: Active): void {
    this.active.set(jobId, a);
  }

  /** A re-adopted job's pod, as the informer has it (evaluated later). */
  podFound(jobId: string, pod: V1Pod): void {
    const a = this.active.get(jobId);
    if (a) a.podUid ??= pod.metadata?.uid;
    this.pods.set(jobId, { pod, deleted: false });
  }

  /** Stops following the job without a report (its Job could not be created). */
  forget(jobId: string): void {
    this.active.delete(jobId);
  }

  /** The informer saw one of nbqueue's pods change. */
  podChanged(pod: V1Pod, deleted: boolean): void {
    const id = pod.metadata?.labels?.[JOB_ID_LABEL];
    if (!id) return;
    const owner = pod.metadata?.ownerReferences?.find(r => r.kind === 'Job');
    const a = this.active.get(id);
    // A pod of an earlier attempt's Job says nothing of this attempt.
    if (a && owner && owner.name !== a.name) return;
    if (a) {
      const uid = pod.metadata?.uid;
      a.podUid ??= uid;
      if (uid && uid !== a.podUid) {
        // The Job controller replaced a pod deleted outside nbqueue (a forced deletion does
        // not wait for podReplacementPolicy): its runner would be a second one of the job.
        if (!deleted) this.replaced(id, a);
        return;
      }
      this.pods.set(id, { pod, deleted });
    } else if (deleted) this.pods.delete(id);
    this.evaluate(id);
  }

  /** The informer saw one of nbqueue's Jobs change. */
  jobChanged(job: V1Job, deleted: boolean): void {
    const id = job.metadata?.labels?.[JOB_ID_LABEL];
    const a = id ? this.active.get(id) : undefined;
    if (!id || !a || job.metadata?.name !== a.name) return;
    if (!deleted) a.seenJob = true;
    this.evaluate(id, deleted);
  }

  /** Looks at every job again (how long each has waited counts). */
  evaluateAll(): void {
    for (const id of this.active.keys()) this.evaluate(id);
  }

  /** The job's state from its Job and pod: report what ends it, note what holds it up. */
  evaluate(jobId: string, jobDeleted = false): void {
    const a = this.active.get(jobId);
    if (!a || this.closed) return;
    const { config } = this.options;
    const job = jobDeleted ? undefined : this.options.job(a.name);
    const last = this.pods.get(jobId);
    if (a.cancelling) {
      if (!a.creating && !job && (!last || last.deleted))
        this.done(
          jobId,
          'Cancelled by the user; the Kubernetes Job was deleted.'
        );
      return;
    }
    const jobGone = !job || !!job.metadata?.deletionTimestamp;
    const podGoing =
      !last || last.deleted || !!last.pod.metadata?.deletionTimestamp;
    if (jobGone && a.seenJob && podGoing) {
      this.done(
        jobId,
        `The Kubernetes Job ${a.name} was deleted outside nbqueue before the runner reported a result.`
      );
      return;
    }
    const o = outcome({
      job,
      pod: last?.pod,
      podDeleted: !!last?.deleted,
      memory: a.profile.memory,
      profile: a.profile.name,
      image: placementFor(config, a.profile).image
    });
    switch (o.kind) {
      case 'none':
        a.waitingSince = undefined;
        this.note(jobId, a, null);
        return;
      case 'waiting': {
        a.waitingSince ??= Date.now();
        const waited = (Date.now() - a.waitingSince) / 1000;
        if (o.unschedulable && waited > config.unschedulable_timeout_seconds) {
          void this.options.deleteJob(a.name);
          this.done(
            jobId,
            `${o.reason} (waited ${Math.round(waited)} s, more than unschedulable_timeout_seconds). Choose a smaller profile or ask an operator to check the pool.`
          );
        } else if (o.secret && waited > SECRET_WAIT_SECONDS) {
          void this.options.deleteJob(a.name);
          this.done(
            jobId,
            `${o.reason} It never appeared (waited ${Math.round(waited)} s). Re-run the job.`
          );
        } else this.note(jobId, a, o.reason);
        return;
      }
      case 'failed':
        void this.options.deleteJob(a.name);
        this.done(jobId, o.reason, o.oom);
        return;
      case 'ended':
        this.done(jobId, o.reason);
        return;
      case 'lost': {
        const deletedPlainly =
          (last?.deleted || last?.pod.metadata?.deletionTimestamp) &&
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
        this.lost(jobId, a, o.cause, o.reason);
      }
    }
  }

  private settled(jobId: string): void {
    const a = this.active.get(jobId);
    if (!a) return;
    const last = this.pods.get(jobId);
    const o = outcome({
      job: this.options.job(a.name),
      pod: last?.pod,
      podDeleted: !!last?.deleted,
      memory: a.profile.memory,
      profile: a.profile.name,
      image: placementFor(this.options.config, a.profile).image
    });
    if (o.kind === 'lost') this.lost(jobId, a, o.cause, o.reason);
    else this.evaluate(jobId);
  }

  /** The attempt's pod was replaced: it was deleted, so the job is lost (and the Job goes). */
  private replaced(jobId: string, a: Active): void {
    clearTimeout(a.settle);
    a.settle = undefined;
    const node = this.pods.get(jobId)?.pod.spec?.nodeName ?? '(none)';
    this.lost(
      jobId,
      a,
      'pod_deleted',
      `Its pod was deleted from node ${node} while it ran (removed outside nbqueue).`
    );
  }

  private lost(
    jobId: string,
    a: Active,
    cause: RestartCause,
    reason: string
  ): void {
    const { observer } = this.options;
    // The next attempt's Job is created only once this one and its pod are gone (fits).
    void this.options.deleteJob(a.name);
    this.active.delete(jobId);
    this.pods.delete(jobId);
    this.options.freed();
    if (observer.restart) observer.restart(jobId, cause, reason);
    else observer.exited(jobId, reason);
  }

  private note(jobId: string, a: Active, reason: string | null): void {
    if (a.noted === reason || (a.noted === undefined && reason === null))
      return;
    a.noted = reason;
    this.options.observer.note?.(jobId, reason);
  }

  private done(jobId: string, reason: string, oom = false): void {
    const { observer } = this.options;
    const a = this.active.get(jobId);
    if (a?.settle) clearTimeout(a.settle);
    this.active.delete(jobId);
    this.pods.delete(jobId);
    this.options.freed();
    if (oom && observer.outOfMemory) observer.outOfMemory(jobId, reason);
    else observer.exited(jobId, reason);
  }

  /** Reports nothing more (the backend is closing). */
  close(): void {
    this.closed = true;
    for (const a of this.active.values()) clearTimeout(a.settle);
  }
}
