import { z } from 'zod';

/** A Kubernetes toleration, as in a pod spec. */
const toleration = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Equal', 'Exists']).default('Equal'),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional()
  })
  .strict();

const labelMap = z.record(z.string(), z.string());

/** Where a profile's pods go, when it differs from the backend's defaults. */
export const kubernetesPlacementSchema = z
  .object({
    /** Replaces backend.kubernetes.node_selector for this profile (e.g. the CPU pool). */
    node_selector: labelMap.optional(),
    /** Replaces backend.kubernetes.tolerations for this profile. */
    tolerations: z.array(toleration).optional(),
    priority_class: z.string().min(1).optional(),
    /** Longest a job of this profile may run, in seconds. */
    active_deadline_seconds: z.number().int().min(1).optional(),
    /** Another runner image for this profile (it must run `python -m nbqueue.runner`). */
    image: z.string().min(1).optional(),
    /**
     * How many times a job of this profile runs again, under the same id and first in its
     * queue, after its pod is preempted, evicted, lost with its node or deleted (default:
     * backend.kubernetes.requeue_on_eviction). Spot or preemptible pools: raise it.
     */
    max_restarts: z.number().int().min(0).max(100).optional(),
    /** Replaces backend.kubernetes.termination_grace_seconds for this profile. */
    termination_grace_seconds: z.number().int().min(1).max(3600).optional()
  })
  .strict();

/** `backend.kubernetes`: one batch/v1 Job per nbqueue job, on the ML node pool. */
export const kubernetesBackendSchema = z
  .object({
    /** The namespace jobs run in: a dedicated one, never the hub's. */
    namespace: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
        'must be a Kubernetes namespace name'
      )
      .default('nbqueue-jobs'),
    image: z.string().min(1).default('nbqueue-runner:0.1.0'),
    image_pull_policy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    /** Kubeconfig file; absent: in-cluster service account, else the default kubeconfig. */
    kubeconfig: z.string().optional(),
    /** Context in the kubeconfig (default: its current context). */
    context: z.string().optional(),
    /** URL runners in pods use to reach the sidecar (its in-cluster Service). */
    sidecar_url: z.string().url().optional(),
    /** Labels of the ML pool's nodes; pods get them as nodeSelector. */
    node_selector: labelMap.default({ 'nbqueue.io/pool': 'ml' }),
    /**
     * The node label that names a node's GPU model (NVIDIA GPU feature discovery's): a profile's
     * gpu.type becomes a nodeSelector on it.
     */
    gpu_type_label: z
      .string()
      .min(1)
      .max(316)
      .default('nvidia.com/gpu.product'),
    /** Tolerations for the pool's taints. */
    tolerations: z.array(toleration).default([
      {
        key: 'nvidia.com/gpu',
        operator: 'Equal',
        value: 'present',
        effect: 'NoSchedule'
      }
    ]),
    priority_class: z.string().min(1).optional(),
    /** Finished Jobs (and their pods and token Secret) are deleted this long after they end. */
    ttl_seconds_after_finished: z.number().int().min(0).default(3600),
    /** Default limit on a job's run time, in seconds (profiles may override it). */
    active_deadline_seconds: z.number().int().min(1).default(86400),
    /**
     * How many times a job whose pod was preempted, evicted, lost with its node or deleted runs
     * again (its profile's kubernetes.max_restarts, when set, wins).
     */
    requeue_on_eviction: z.number().int().min(0).default(1),
    /**
     * Seconds a job's runner has after SIGTERM (its pod deleted, evicted or preempted, or the
     * job cancelled) before it is killed: the pod's terminationGracePeriodSeconds.
     */
    termination_grace_seconds: z.number().int().min(1).max(3600).default(60),
    /** A pod the scheduler cannot place for this long fails the job with its message. */
    unschedulable_timeout_seconds: z.number().int().min(1).default(300),
    /** `capacity`: nbqueue admits a job only when the pool has room; `kueue`: Kueue admits. */
    mode: z.enum(['capacity', 'kueue']).default('capacity'),
    /** Kueue LocalQueue the Jobs are labelled with (mode kueue). */
    kueue_queue: z.string().min(1).default('nbqueue'),
    /**
     * The sidecar's API calls (Job and Secret writes, deletions, reads; not its watches) a
     * second, sustained, and how many may go at once after a quiet spell: a token bucket, as
     * client-go's QPS and Burst. Each admission takes two calls.
     */
    api_qps: z.number().positive().max(10000).default(100),
    api_burst: z.number().int().min(1).max(10000).default(200),
    /** A watch that has said nothing for this long is restarted (and relists). */
    watch_stall_seconds: z.number().int().min(5).default(120),
    /**
     * Whose pods count against the pool's room: `namespace` (the job namespace's: the pool is
     * nbqueue's alone, and the sidecar reads no other namespace), or `cluster` (every pod on
     * the pool's nodes; needs deploy/kubernetes/rbac-cluster-pods.yaml).
     */
    pool_pods: z.enum(['namespace', 'cluster']).default('namespace'),
    /** Service account of the job pods; absent: none is mounted. */
    service_account: z.string().min(1).optional(),
    /** User and group the runner runs as (the runner image's user is 1000). */
    run_as_user: z.number().int().min(1).default(1000),
    /**
     * PersistentVolumeClaims mounted into every job pod, e.g. shared storage for working
     * files (files.working_dir). The environment cache is environment_cache, not one of these.
     */
    volumes: z
      .array(
        z
          .object({
            claim_name: z.string().min(1),
            mount_path: z.string().startsWith('/'),
            sub_path: z.string().min(1).optional(),
            read_only: z.boolean().default(false)
          })
          .strict()
      )
      .default([]),
    /**
     * The shared cache of restored environments, a ReadWriteMany claim. Its only writer is the
     * pod's init container, which restores the job's captured environment into it as
     * `run_as_user` and runs none of the job's code; the runner and the job's kernel mount it
     * read-only, so no job can change an environment another job imports.
     */
    environment_cache: z
      .object({
        claim_name: z.string().min(1),
        sub_path: z.string().min(1).optional(),
        /** Where both containers see it (the runner's NBQUEUE_ENV_CACHE_DIR). */
        mount_path: z
          .string()
          .startsWith('/')
          .default('/var/cache/nbqueue/environments'),
        /** The init container's user: another than the jobs' (run_as_user above). */
        run_as_user: z.number().int().min(1).default(1001)
      })
      .strict()
      .optional(),
    /** More environment variables for the runner (e.g. index settings for uv). */
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
      .default({})
  })
  .strict()
  .refine(
    k =>
      !k.environment_cache || k.environment_cache.run_as_user !== k.run_as_user,
    {
      path: ['environment_cache', 'run_as_user'],
      message:
        "must differ from run_as_user: the jobs' user must not own the cache"
    }
  );

export type KubernetesBackendConfig = z.infer<typeof kubernetesBackendSchema>;
export type KubernetesPlacement = z.infer<typeof kubernetesPlacementSchema>;
export type Toleration = z.infer<typeof toleration>;
