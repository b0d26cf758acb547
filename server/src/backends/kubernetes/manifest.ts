import type { V1Job, V1Secret } from '@kubernetes/client-node';
import { type Profile, gpuShape } from '../../config/schema';
import type { JobRecord } from '../../jobs/types';
import type { KubernetesBackendConfig, Toleration } from './config';
import {
  JOB_ID_LABEL,
  KUEUE_QUEUE_LABEL,
  MANAGED_BY,
  MANAGER,
  NAME_ANNOTATION,
  PROFILE_LABEL,
  USER_ANNOTATION,
  USER_LABEL,
  jobName,
  labelValue,
  secretName
} from './names';

export const TOKEN_KEY = 'token';
export const CONTAINER = 'runner';
/** The init container that restores the job's environment into the shared cache. */
export const PREPARE_CONTAINER = 'prepare-environment';
const CACHE_VOLUME = 'nbqueue-environments';

/** Where one profile's pods go and what they ask for: the backend defaults, then the profile's. */
export interface Placement {
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  priorityClass?: string;
  activeDeadlineSeconds: number;
  /** The runner's time after SIGTERM before it is killed (terminationGracePeriodSeconds). */
  terminationGraceSeconds: number;
  image: string;
  requests: Record<string, string>;
}

export function placementFor(
  config: KubernetesBackendConfig,
  profile: Profile
): Placement {
  const own = profile.kubernetes ?? {};
  const requests: Record<string, string> = {
    cpu: String(profile.cpus),
    memory: profile.memory
  };
  const gpu = gpuShape(profile);
  if (gpu.count > 0) requests[gpu.resource] = String(gpu.count);
  const nodeSelector = { ...(own.node_selector ?? config.node_selector) };
  // A GPU model: only the nodes labelled with it (requests and limits say how many units).
  if (gpu.type) nodeSelector[config.gpu_type_label] = gpu.type;
  return {
    nodeSelector,
    tolerations: own.tolerations ?? config.tolerations,
    priorityClass: own.priority_class ?? config.priority_class,
    activeDeadlineSeconds:
      own.active_deadline_seconds ?? config.active_deadline_seconds,
    terminationGraceSeconds:
      own.termination_grace_seconds ?? config.termination_grace_seconds,
    image: own.image ?? config.image,
    requests
  };
}

export interface JobManifestInput {
  job: JobRecord;
  profile: Profile;
  config: KubernetesBackendConfig;
  /** The sidecar's own URL: used when backend.kubernetes.sidecar_url is not set. */
  sidecarUrl: string;
}

function labels(job: JobRecord): Record<string, string> {
  return {
    [MANAGED_BY]: MANAGER,
    [JOB_ID_LABEL]: labelValue(job.id),
    [USER_LABEL]: labelValue(job.owner) || 'unknown',
    [PROFILE_LABEL]: labelValue(job.profile)
  };
}

/**
 * A claim's sub_path for one job: `{username}` becomes its owner's folder name, every character
 * outside [a-z0-9_] written as -XX (its UTF-8 bytes in hex), as kubespawner escapes names: two
 * users never share a folder, and no name can climb out of its own ("..", "/").
 */
export function userPath(subPath: string, owner: string): string {
  const safe = Array.from(owner)
    .map(c =>
      /[a-z0-9_]/.test(c)
        ? c
        : Array.from(new TextEncoder().encode(c))
            .map(b => `-${b.toString(16).padStart(2, '0')}`)
            .join('')
    )
    .join('');
  return subPath.split('{username}').join(safe);
}

/**
 * The batch/v1 Job that runs one nbqueue job: one pod, never restarted or retried (the runner
 * reports its own failures), on the profile's pool, as a non-root user without a service
 * account token; the runner's token comes from the job's Secret.
 */
export function jobManifest({
  job,
  profile,
  config,
  sidecarUrl
}: JobManifestInput): V1Job {
  const place = placementFor(config, profile);
  const name = jobName(job.id, job.owner, job.name, job.attempt);
  const meta = {
    labels: labels(job),
    annotations: { [USER_ANNOTATION]: job.owner, [NAME_ANNOTATION]: job.name }
  };
  const kueue = config.mode === 'kueue';
  const uid = config.run_as_user;
  const cache = config.environment_cache;
  const env = [
    { name: 'NBQUEUE_URL', value: config.sidecar_url ?? sidecarUrl },
    { name: 'NBQUEUE_JOB_ID', value: job.id },
    {
      name: 'NBQUEUE_JOB_TOKEN',
      valueFrom: { secretKeyRef: { name: secretName(name), key: TOKEN_KEY } }
    },
    { name: 'PYTHONUNBUFFERED', value: '1' },
    ...(cache
      ? [{ name: 'NBQUEUE_ENV_CACHE_DIR', value: cache.mount_path }]
      : []),
    ...Object.entries(config.env).map(([name, value]) => ({ name, value }))
  ];
  const cacheMount = (readOnly: boolean) =>
    cache
      ? [
          {
            name: CACHE_VOLUME,
            mountPath: cache.mount_path,
            readOnly,
            ...(cache.sub_path ? { subPath: cache.sub_path } : {})
          }
        ]
      : [];
  const volumeMounts = [
    ...config.volumes.map((v, i) => ({
      name: `nbqueue-volume-${i}`,
      mountPath: v.mount_path,
      readOnly: v.read_only,
      ...(v.sub_path ? { subPath: userPath(v.sub_path, job.owner) } : {})
    })),
    ...cacheMount(true)
  ];
  const volumes = [
    ...config.volumes.map((v, i) => ({
      name: `nbqueue-volume-${i}`,
      persistentVolumeClaim: { claimName: v.claim_name, readOnly: v.read_only }
    })),
    ...(cache
      ? [
          {
            name: CACHE_VOLUME,
            persistentVolumeClaim: { claimName: cache.claim_name }
          }
        ]
      : [])
  ];
  const containerSecurity = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] }
  };
  // Its limits: the job's CPU and memory (a pod's requests are the larger of its init
  // containers' and the sum of its containers': nothing more is asked), no GPU.
  const prepareResources = {
    cpu: place.requests.cpu,
    memory: place.requests.memory
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: config.namespace,
      labels: {
        ...meta.labels,
        ...(kueue ? { [KUEUE_QUEUE_LABEL]: config.kueue_queue } : {})
      },
      annotations: meta.annotations
    },
    spec: {
      backoffLimit: 0,
      // A pod deleted or evicted is not replaced while it terminates (the default,
      // TerminatingOrFailed, would run a second runner of the job beside it); once it has
      // failed, backoffLimit 0 ends the Job, and nbqueue decides whether the job runs again.
      podReplacementPolicy: 'Failed',
      completions: 1,
      parallelism: 1,
      // A job's own deadline may shorten its profile's limit, never lengthen it.
      activeDeadlineSeconds: Math.min(
        job.spec.deadline_seconds ?? Infinity,
        place.activeDeadlineSeconds
      ),
      ttlSecondsAfterFinished: config.ttl_seconds_after_finished,
      // Kueue admits a Job by unsuspending it; until then it has no pod.
      ...(kueue ? { suspend: true } : {}),
      template: {
        metadata: meta,
        spec: {
          restartPolicy: 'Never',
          nodeSelector: place.nodeSelector,
          tolerations: place.tolerations,
          ...(place.priorityClass
            ? { priorityClassName: place.priorityClass }
            : {}),
          ...(config.service_account
            ? { serviceAccountName: config.service_account }
            : { automountServiceAccountToken: false }),
          enableServiceLinks: false,
          ...(volumes.length ? { volumes } : {}),
          terminationGracePeriodSeconds: place.terminationGraceSeconds,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            fsGroup: uid,
            seccompProfile: { type: 'RuntimeDefault' }
          },
          ...(cache
            ? {
                initContainers: [
                  {
                    name: PREPARE_CONTAINER,
                    image: place.image,
                    ...(config.image_pull_policy
                      ? { imagePullPolicy: config.image_pull_policy }
                      : {}),
                    command: ['python', '-m', 'nbqueue.environment.prepare'],
                    // Its user has no home in the image: uv's own cache goes to /tmp.
                    env: [...env, { name: 'HOME', value: '/tmp' }],
                    volumeMounts: cacheMount(false),
                    resources: {
                      requests: prepareResources,
                      limits: prepareResources
                    },
                    securityContext: {
                      ...containerSecurity,
                      runAsUser: cache.run_as_user,
                      runAsGroup: cache.run_as_user
                    }
                  }
                ]
              }
            : {}),
          containers: [
            {
              name: CONTAINER,
              image: place.image,
              ...(config.image_pull_policy
                ? { imagePullPolicy: config.image_pull_policy }
                : {}),
              env,
              ...(volumeMounts.length ? { volumeMounts } : {}),
              resources: { requests: place.requests, limits: place.requests },
              securityContext: containerSecurity
            }
          ]
        }
      }
    }
  };
}

/** The runner's per-job token, labelled like its Job (created after it, owned by it: resources.ts). */
export function secretManifest(
  job: JobRecord,
  jobNameValue: string,
  namespace: string,
  token: string
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName(jobNameValue),
      namespace,
      labels: labels(job)
    },
    type: 'Opaque',
    stringData: { [TOKEN_KEY]: token }
  };
}
