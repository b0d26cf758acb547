import { z } from 'zod';
import {
  kubernetesBackendSchema,
  kubernetesPlacementSchema
} from '../backends/kubernetes/config';
import { idleGpuSchema } from './idleGpu';
import { notificationsSchema } from '../notifications/config';

const memory = z
  .string()
  .regex(
    /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/,
    'must be a Kubernetes quantity such as "16Gi"'
  );

const name = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be lowercase letters, digits and "-"'
  );

/** The default GPU resource: whole GPUs of any type. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** The GPUs one job of a profile takes: which kind (a node label), which resource, how many. */
export const gpuSchema = z
  .object({
    /** The GPU model, as the nodes' GPU type label has it (e.g. NVIDIA-A100-SXM4-80GB); absent: any. */
    type: z
      .string()
      .max(63)
      .regex(
        /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
        'must be a Kubernetes label value such as "NVIDIA-L4"'
      )
      .optional(),
    /** The extended resource the job asks for: nvidia.com/gpu, a MIG slice, a shared GPU. */
    resource: z
      .string()
      .max(253)
      .regex(
        /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
        'must be an extended resource name such as "nvidia.com/mig-1g.10gb"'
      )
      .default(GPU_RESOURCE),
    count: z.number().int().min(1)
  })
  .strict();

export type GpuShape = z.infer<typeof gpuSchema>;

const profileObject = z
  .object({
    name,
    description: z.string().default(''),
    cpus: z.number().positive(),
    /** Whole GPUs of any type (nvidia.com/gpu); `gpu` says which kind instead. */
    gpus: z.number().int().min(0).optional(),
    gpu: gpuSchema.optional(),
    memory,
    /** How many jobs of this profile may run at once (local backend: process slots). */
    capacity: z.number().int().min(1),
    /** Kubernetes backend: this profile's own pool placement (node selector, tolerations...). */
    kubernetes: kubernetesPlacementSchema.optional(),
    /** Warn about or stop a job whose GPUs stay idle (config/idleGpu.ts). */
    idle_gpu: idleGpuSchema.optional()
  })
  .strict()
  .refine(p => !p.idle_gpu || (p.gpu?.count ?? p.gpus ?? 0) > 0, {
    message:
      'idle_gpu watches the GPUs of a job, but this profile has none (gpus: 0); remove idle_gpu or give the profile GPUs (gpus or gpu)',
    path: ['idle_gpu']
  });

/** A profile gives `gpus` or `gpu`; after parsing `gpus` is always the count of GPU units. */
export const profileSchema = profileObject
  .superRefine((p, ctx) => {
    if (p.gpus !== undefined && p.gpu)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['gpu'],
        message:
          'give either gpus (whole GPUs of any type) or gpu (type, resource, count), not both'
      });
    if (p.gpus === undefined && !p.gpu)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['gpus'],
        message:
          'required: the GPUs a job takes (0 for CPU only), or gpu: {type, resource, count}'
      });
  })
  .transform(p => ({ ...p, gpus: p.gpu?.count ?? p.gpus ?? 0 }));

/** The shape of a profile's GPUs, `gpus: N` read as N nvidia.com/gpu of any type. */
export function gpuShape(profile: { gpus: number; gpu?: GpuShape }): {
  type: string | null;
  resource: string;
  count: number;
} {
  return {
    type: profile.gpu?.type ?? null,
    resource: profile.gpu?.resource ?? GPU_RESOURCE,
    count: profile.gpu?.count ?? profile.gpus
  };
}

/** What a shaped profile's units are called: "nvidia.com/mig-1g.10gb", "nvidia.com/gpu (NVIDIA-L4)". */
export function shapeUnit(profile: { gpus: number; gpu?: GpuShape }): string {
  const { type, resource } = gpuShape(profile);
  return type ? `${resource} (${type})` : resource;
}

/** Whether the profile names more than "N GPUs of any type": a type or another resource. */
export function isShaped(profile: { gpu?: GpuShape }): boolean {
  return (
    !!profile.gpu?.type ||
    (!!profile.gpu && profile.gpu.resource !== GPU_RESOURCE)
  );
}

export const queueSchema = z
  .object({
    name,
    profile: name,
    description: z.string().default(''),
    /** Most jobs of this queue running at once; absent: bounded by the profile only. */
    capacity: z.number().int().min(1).optional()
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8765),
        /** URL the runners use to reach the sidecar; defaults to http://host:port. */
        public_url: z.string().url().optional()
      })
      .strict()
      .default({}),
    store: z
      .object({
        path: z.string().optional()
      })
      .strict()
      .default({}),
    limits: z
      .object({
        max_notebook_bytes: z
          .number()
          .int()
          .positive()
          .default(50 * 1024 * 1024),
        /** Largest POST /api/jobs body: outputs are stripped before max_notebook_bytes applies.
         * At most 500 MB: the body is parsed as one string, and V8's longest is 512 MB. */
        max_request_bytes: z
          .number()
          .int()
          .positive()
          .max(500 * 1024 * 1024)
          .default(256 * 1024 * 1024),
        /** Largest executed notebook a runner may upload (PUT …/result): streamed to disk. */
        result_bytes: z
          .number()
          .int()
          .positive()
          .default(1024 * 1024 * 1024),
        max_parameters: z.number().int().min(0).default(100),
        /** Most jobs one user runs at once; their others wait in the queue. */
        max_running_per_user: z.number().int().min(1).optional(),
        /** Most jobs one user may have waiting; a submit over it is refused. */
        max_queued_per_user: z.number().int().min(1).optional(),
        /** Longest run time a submit may ask for (`deadline_seconds`), in seconds. */
        max_deadline_seconds: z
          .number()
          .int()
          .positive()
          .default(7 * 24 * 3600),
        /** Most bytes of one job's captured kernel environment (the package list). */
        max_environment_bytes: z
          .number()
          .int()
          .positive()
          .default(2 * 1024 * 1024),
        /** Most events stored per job (metric points included); past it one truncation
         * marker is stored and the rest is only in the result notebook. */
        events_per_job: z.number().int().positive().default(10_000_000),
        /** Most bytes of events (their JSON) stored per job; past it, as events_per_job. */
        event_bytes_per_job: z
          .number()
          .int()
          .positive()
          .default(2 * 1024 * 1024 * 1024),
        /** Largest checkpoint a job may save (nbqueue.checkpoint.save), a folder's tar included. */
        checkpoint_bytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024 * 1024)
      })
      .strict()
      .default({}),
    auth: z
      .object({
        /** `token`: standalone bearer tokens; `hub`: a JupyterHub service (docs/jupyterhub.md). */
        mode: z.enum(['token', 'hub']).default('token'),
        /** Fixed token; when absent one is generated once and kept in the store. */
        token: z.string().min(16).optional(),
        /** The user every token request acts as (standalone mode has one user). */
        user: z.string().min(1).optional(),
        /** Whether that user is an admin (may see everyone's jobs, set any priority). */
        admin: z.boolean().default(true),
        /** More tokens, each for its own user: a small team sharing one sidecar. */
        users: z
          .array(
            z
              .object({
                token: z.string().min(16),
                user: z.string().min(1),
                admin: z.boolean().default(false)
              })
              .strict()
          )
          .default([]),
        /** Hub mode; the JUPYTERHUB_* environment the hub gives its services fills the rest. */
        hub: z
          .object({
            /** Hub groups whose members are nbqueue admins (hub admins always are). */
            admin_groups: z.array(z.string().min(1)).default([]),
            /** Seconds a token's answer from the hub is reused. */
            cache_seconds: z.number().min(0).max(3600).default(30),
            /** Most token answers kept in memory (least recently used first out). */
            cache_entries: z.number().int().min(1).default(10000),
            /** Unknown tokens per client address and minute before the sidecar answers 429. */
            unknown_tokens_per_minute: z.number().int().min(1).default(30),
            /** Proxies whose X-Forwarded-For is believed (proxy-addr names or CIDRs). */
            trusted_proxies: z.array(z.string().min(1)).default(['loopback']),
            /** Scopes a token needs (any one); default JUPYTERHUB_OAUTH_ACCESS_SCOPES. */
            access_scopes: z.array(z.string().min(1)).min(1).optional(),
            /** Overrides JUPYTERHUB_API_URL, e.g. http://hub:8081/hub/api. */
            api_url: z.string().url().optional()
          })
          .strict()
          .default({})
      })
      .strict()
      .default({}),
    backend: z
      .object({
        type: z.enum(['local', 'kubernetes']).default('local'),
        local: z
          .object({
            /** Interpreter for jobs that did not say which kernel Python they came from. */
            python: z.string().default('python3'),
            /** Seconds a cancelled runner gets to stop its kernel before it is killed. */
            cancel_grace_seconds: z.number().min(0).default(10),
            log_dir: z.string().optional(),
            /** `kernel`: run on the notebook kernel's own Python; `restore`: rebuild its
             * captured environment over `python` (see `restore`). */
            environment: z.enum(['kernel', 'restore']).default('kernel'),
            /** Several users (hub mode or auth.users): each job runs as the OS account this
             * names, `{username}` being the nbqueue user (TLJH: "jupyter-{username}"). */
            os_user: z
              .string()
              .min(1)
              .refine(
                t => t.includes('{username}'),
                'must contain {username}, e.g. "jupyter-{username}"'
              )
              .optional(),
            /** Several users, one OS account: every job runs as the sidecar's own account, able
             * to read every other job. Only for users who trust one another. */
            single_os_user: z.boolean().default(false),
            /** Interpreters a job's kernel.python may name besides backend.local.python and the
             * user's home (several users): e.g. TLJH's shared /opt/tljh/user/bin/python. */
            allowed_pythons: z.array(z.string().min(1)).default([]),
            /** Variables runners take from the sidecar's environment besides PATH, HOME, LANG,
             * LC_*, TZ; a name ending in "*" is a prefix (e.g. "CUDA_*"). */
            env_allow: z
              .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/))
              .default([]),
            /** Variables set for every runner. */
            env: z.record(z.string()).default({}),
            /** Keep one runner with its kernel started per (profile, interpreter, user), handed
             * the next such job: its first output comes sooner. Off: each job starts its own. */
            warm_kernels: z.boolean().default(false)
          })
          .strict()
          .default({}),
        kubernetes: kubernetesBackendSchema.default({})
      })
      .strict()
      .default({}),
    /** How runners rebuild a job's captured environment (backends in `restore` mode). */
    restore: z
      .object({
        /** Cache of restored virtualenvs, one per environment; default: the runner's
         * ~/.cache/nbqueue/environments (Kubernetes: mount a persistent volume there). */
        cache_dir: z.string().min(1).optional(),
        installer: z.enum(['auto', 'uv', 'pip']).default('auto'),
        /** `fail` the job before it runs, or `skip` what cannot be installed. */
        on_unavailable: z.enum(['fail', 'skip']).default('fail'),
        index_url: z.string().url().optional(),
        extra_index_urls: z.array(z.string().url()).default([]),
        /** Packages never restored (the image's copy, if any, is used), e.g. jupyterlab. */
        exclude: z.array(z.string().min(1)).default([]),
        /** Seconds a job waits for another one building the same environment. */
        lock_timeout_seconds: z.number().positive().default(3600)
      })
      .strict()
      .default({}),
    /** Working files: the notebook's directory goes with a job, the files it writes come back. */
    files: z
      .object({
        /** Bundle the notebook's directory with each job; false when jobs see shared storage. */
        bundle: z.boolean().default(true),
        /** With bundle false: where the notebook's directory is mounted for jobs. */
        working_dir: z.string().min(1).optional(),
        /** Most bytes of files that go with one job (the files' own sizes). */
        max_input_bytes: z
          .number()
          .int()
          .positive()
          .default(100 * 1024 * 1024),
        /** Bring back the files a job creates or modifies. */
        collect_outputs: z.boolean().default(true),
        /** Most bytes of files that come back from one job; the rest is left out, and said. */
        max_output_bytes: z
          .number()
          .int()
          .positive()
          .default(100 * 1024 * 1024),
        /** Where archives are kept; defaults to files/ next to the store. */
        dir: z.string().min(1).optional()
      })
      .strict()
      .default({}),
    /** Bounded storage: finished jobs deleted by age and per-user size (docs/operations.md). */
    retention: z
      .object({
        /** Finished jobs that ended more than this many days ago are deleted; null: kept. */
        days: z.number().positive().nullable().default(null),
        /** A user holding more loses their oldest finished jobs until under; null: no cap. */
        max_bytes_per_user: z
          .number()
          .int()
          .positive()
          .nullable()
          .default(null),
        /** Seconds between two sweeps (the first runs as the sidecar starts). */
        sweep_interval_seconds: z.number().int().min(1).default(3600),
        /** Jobs deleted per transaction; the sidecar answers requests between two. */
        batch_size: z.number().int().min(1).max(1000).default(20)
      })
      .strict()
      .default({}),
    /** Checkpoints jobs save to resume after a restart (docs/checkpoints.md). */
    checkpoints: z
      .object({
        /** How many of a job's newest checkpoints are kept; older ones are deleted. */
        keep: z.number().int().min(1).default(2),
        /** Seconds a stopped runner (SIGTERM) gives the notebook's on_preempt callbacks. */
        preempt_seconds: z.number().min(0).default(30)
      })
      .strict()
      .default({}),
    /** Email and webhook notifications when a job ends (docs/configuration.md). */
    notifications: notificationsSchema,
    /** The queue's ETA: how much history it draws on (docs/configuration.md). */
    eta: z
      .object({
        /** How many of a profile's newest succeeded runs the estimate draws from. */
        history_jobs: z.number().int().min(1).max(10000).default(200),
        /** A user's own runs are used from this many (within that window) on; the start
         * ranges are calibrated from this many observed starts on. */
        min_user_jobs: z.number().int().min(1).default(20),
        /** The share of real starts the start range aims to cover (calibrated). */
        coverage: z.number().gt(0).lt(1).default(0.9)
      })
      .strict()
      .default({}),
    priorities: z
      .array(z.string().min(1))
      .min(1)
      .default(['low', 'normal', 'high', 'urgent']),
    default_priority: z.string().default('normal'),
    profiles: z.array(profileSchema).min(1).optional(),
    queues: z.array(queueSchema).optional()
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type Profile = z.output<typeof profileSchema>;
export type Queue = z.infer<typeof queueSchema>;
export type ParsedConfig = z.infer<typeof configSchema>;

/** The configuration after defaults: profiles and queues always present. */
export interface Config extends Omit<ParsedConfig, 'profiles' | 'queues'> {
  profiles: Profile[];
  queues: Queue[];
}
