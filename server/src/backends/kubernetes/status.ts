/**
 * What a job's Kubernetes objects say about it, as something a person can act on. Pure: the
 * backend gives it the Job and the last state of its pod from the informers.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { RestartCause } from '../../jobs/types';
import { CONTAINER } from './manifest';

export type Outcome =
  /** Nothing to report (starting, running, or Kueue not yet asked). */
  | { kind: 'none' }
  /** Still waiting, for a reason the user should see. */
  | {
      kind: 'waiting';
      reason: string;
      unschedulable?: boolean;
      /** The pod waits for its token Secret, written just after its Job (resources.ts). */
      secret?: boolean;
    }
  /** The job cannot go on: fail it with this reason (`oom`: its container was OOMKilled). */
  | { kind: 'failed'; reason: string; oom?: boolean }
  /** The pod was taken away through no fault of the job: the job may run again. */
  | { kind: 'lost'; cause: RestartCause; reason: string }
  /** The pod ended by itself: the runner has reported (or the job fails with this reason). */
  | { kind: 'ended'; reason: string };

const IMAGE_ERRORS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull'
]);
const CONFIG_ERRORS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError'
]);

function condition(job: V1Job | undefined, type: string) {
  return job?.status?.conditions?.find(
    c => c.type === type && c.status === 'True'
  );
}

function runnerStatus(pod: V1Pod) {
  return (
    pod.status?.containerStatuses?.find(c => c.name === CONTAINER) ??
    pod.status?.containerStatuses?.[0]
  );
}

export interface OutcomeInput {
  job: V1Job | undefined;
  pod: V1Pod | undefined;
  /** The pod was deleted (the informer's last view of it). */
  podDeleted: boolean;
  /** Memory limit of the job's profile and its name, for the out-of-memory message. */
  memory: string;
  profile: string;
  image: string;
}

export function outcome({
  job,
  pod,
  podDeleted,
  memory,
  profile,
  image
}: OutcomeInput): Outcome {
  const failed = condition(job, 'Failed') ?? condition(job, 'FailureTarget');
  if (failed?.reason === 'DeadlineExceeded') {
    return {
      kind: 'failed',
      reason: `The job ran longer than its limit of ${job?.spec?.activeDeadlineSeconds} s and was stopped (DeadlineExceeded). Raise active_deadline_seconds for profile '${profile}' or make the notebook shorter.`
    };
  }
  if (job?.spec?.suspend) {
    return {
      kind: 'waiting',
      reason: `Waiting for Kueue to admit it (queue ${job.metadata?.labels?.['kueue.x-k8s.io/queue-name']}).`
    };
  }
  if (pod) {
    const status = runnerStatus(pod);
    const terminated =
      status?.state?.terminated ?? status?.lastState?.terminated;
    if (terminated?.reason === 'OOMKilled') {
      return {
        kind: 'failed',
        oom: true,
        reason: `The job ran out of memory (profile '${profile}' allows ${memory}) and was killed (OOMKilled): it needs more memory, choose a larger profile.`
      };
    }
    const disruption = pod.status?.conditions?.find(
      c => c.type === 'DisruptionTarget' && c.status === 'True'
    );
    if (pod.status?.reason === 'Evicted' || disruption) {
      const why =
        pod.status?.message ||
        disruption?.message ||
        disruption?.reason ||
        'evicted';
      return {
        kind: 'lost',
        cause: lostCause(disruption?.reason, pod.status?.reason),
        reason: `Its pod was taken off node ${pod.spec?.nodeName ?? '(none)'} (${disruption?.reason ?? pod.status?.reason}: ${why}).`
      };
    }
    // Deleted outside nbqueue (nbqueue deletes only Jobs it stops following): what its runner
    // did after SIGTERM, even exiting, is not why it ended.
    if (podDeleted || pod.metadata?.deletionTimestamp) {
      return {
        kind: 'lost',
        cause: 'pod_deleted',
        reason: `Its pod was deleted from node ${pod.spec?.nodeName ?? '(none)'} while it ran (removed outside nbqueue).`
      };
    }
    const waiting = status?.state?.waiting;
    if (waiting?.reason && IMAGE_ERRORS.has(waiting.reason)) {
      return {
        kind: 'failed',
        reason: `The runner image ${image} could not be pulled (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}). Check backend.kubernetes.image and the namespace's image pull secrets.`
      };
    }
    const token = pod.spec?.containers
      ?.find(c => c.name === CONTAINER)
      ?.env?.find(e => e.name === 'NBQUEUE_JOB_TOKEN')?.valueFrom
      ?.secretKeyRef?.name;
    if (
      waiting?.reason === 'CreateContainerConfigError' &&
      token &&
      waiting.message?.includes(`secret "${token}" not found`)
    ) {
      // The kubelet tries again: the Secret follows its Job within moments.
      return {
        kind: 'waiting',
        secret: true,
        reason: `Its pod waits for its token Secret ${token}.`
      };
    }
    if (waiting?.reason && CONFIG_ERRORS.has(waiting.reason)) {
      return {
        kind: 'failed',
        reason: `The runner container could not be created (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}).`
      };
    }
    const phase = pod.status?.phase;
    if (phase === 'Failed' || (terminated && terminated.exitCode !== 0)) {
      const code = terminated?.exitCode;
      const msg = terminated?.message || pod.status?.message;
      return {
        kind: 'ended',
        reason: `The runner's pod failed${code !== undefined ? ` (exit code ${code}${terminated?.reason ? `, ${terminated.reason}` : ''})` : ''} before reporting a result.${msg ? ` ${msg}` : ''}`
      };
    }
    if (phase === 'Succeeded') {
      return {
        kind: 'ended',
        reason: 'The runner exited without reporting a result.'
      };
    }
    const scheduled = pod.status?.conditions?.find(
      c => c.type === 'PodScheduled'
    );
    if (
      phase === 'Pending' &&
      scheduled?.status === 'False' &&
      scheduled.reason === 'Unschedulable'
    ) {
      return {
        kind: 'waiting',
        unschedulable: true,
        reason: `Kubernetes cannot place its pod yet: ${scheduled.message ?? 'no node fits'}`
      };
    }
    return { kind: 'none' };
  }
  if (failed) {
    return {
      kind: 'ended',
      reason: `The Kubernetes Job failed (${failed.reason}${failed.message ? `: ${failed.message}` : ''}).`
    };
  }
  if (condition(job, 'Complete')) {
    return {
      kind: 'ended',
      reason: 'The runner exited without reporting a result.'
    };
  }
  return { kind: 'none' };
}

/**
 * What took a pod away, from its DisruptionTarget condition's reason (or its status reason):
 * the scheduler preempting it or its node shutting down (spot reclaim), an eviction (drain,
 * node pressure), its node gone or unreachable.
 */
function lostCause(
  disruption: string | undefined,
  status: string | undefined
): RestartCause {
  if (status === 'Evicted' || disruption === 'EvictionByEvictionAPI')
    return 'eviction';
  if (
    disruption === 'DeletionByPodGC' ||
    disruption === 'DeletionByTaintManager'
  )
    return 'node_lost';
  return 'preemption';
}
