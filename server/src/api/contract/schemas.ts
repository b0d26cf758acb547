/** The shapes the API answers with, and the ones a submit refers to by name. */
import { z } from 'zod/v4';
import { coded, configured, documented, refuse } from './operation';
import { WAITING_CODES } from '../../queue/waiting';
import { FINAL_STATE_LIST, JOB_STATES } from './states';

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string() })
});

/** A refusal of a captured environment: what is wrong, and what to do. */
const notValid = (what: string) =>
  coded(
    'invalid_environment',
    `The captured environment is not valid: ${what}. Submit again from JupyterLab, or leave "environment" out.`
  );

/** The field an issue is about: `where`, or made from the package's index in the issue's path. */
type Where = string | ((pkg: string) => string);
const named = (where: Where, path: PropertyKey[] | undefined): string => {
  if (typeof where === 'string') return where;
  const index = (path ?? []).filter(k => typeof k === 'number').pop();
  return where(`packages[${String(index)}]`);
};

/** A string of at most 4096 characters; `required`: missing is said so. */
const text = (where: Where, required = false) =>
  z
    .string({
      error: issue =>
        notValid(
          `${named(where, issue.path)} ${
            required && issue.input == null ? 'is missing' : 'must be a string'
          }`
        )
    })
    .max(4096, {
      error: issue => notValid(`${named(where, issue.path)} must be a string`)
    });
const optionalText = (where: Where) => text(where).nullish();
const flag = (where: Where) =>
  z.boolean({
    error: issue =>
      notValid(`${named(where, issue.path)} must be true or false`)
  });

/** The value, without the keys whose value is empty (null, "", false, absent). */
const present = <T extends Record<string, unknown>>(value: T): Partial<T> =>
  Object.fromEntries(
    Object.entries(value).filter(([, v]) => Boolean(v))
  ) as Partial<T>;

const MAX_PACKAGES = 20000;

/**
 * The kernel's environment as the labextension captures it (docs/protocol.md); the runner
 * restores it in `restore` mode (runner-image/nbqueue/environment). Only the documented fields
 * are kept; the size limit is the configuration's (`environmentWithin`).
 */
export const CapturedEnvironment = z
  .object(
    {
      python: z
        .object(
          {
            version: text('python.version', true)
              .regex(/^[0-9]+\.[0-9]+/, {
                error: issue =>
                  notValid(
                    `python.version ${JSON.stringify(issue.input)} is not a version`
                  )
              })
              .meta({ example: '3.11.9' }),
            implementation: optionalText('python.implementation'),
            executable: optionalText('python.executable'),
            platform: optionalText('python.platform'),
            machine: optionalText('python.machine')
          },
          { error: () => notValid('"python" must be an object') }
        )
        .transform(({ version, ...rest }) => ({ version, ...present(rest) })),
      packages: z
        .array(
          z
            .object(
              {
                name: text(p => `${p}.name`, true),
                version: text(p => `${p}.version`, true),
                editable: flag(p => `${p}.editable`).optional(),
                url: optionalText(p => `${p}.url`).describe(
                  'PEP 610 direct URL (file:, https:, VCS)'
                ),
                vcs: optionalText(p => `${p}.vcs`),
                commit: optionalText(p => `${p}.commit`)
              },
              {
                error: issue =>
                  notValid(`${named(p => p, issue.path)} is not an object`)
              }
            )
            .transform(({ name, version, ...rest }) => ({
              name,
              version,
              ...(present(rest) as { editable?: true } & Partial<
                Record<'url' | 'vcs' | 'commit', string>
              >)
            })),
          { error: () => notValid('"packages" must be a list') }
        )
        .max(MAX_PACKAGES, {
          error: () => notValid(`more than ${MAX_PACKAGES} packages`)
        }),
      git: z
        .object(
          {
            dirty: flag('git.dirty').nullish(),
            root: text('git.root', true),
            remote: optionalText('git.remote'),
            commit: optionalText('git.commit'),
            branch: optionalText('git.branch')
          },
          { error: () => notValid('"git" must be an object') }
        )
        .transform(g => ({
          root: g.root,
          remote: g.remote ?? null,
          commit: g.commit ?? null,
          branch: g.branch ?? null,
          dirty: g.dirty ?? null
        }))
        .nullish(),
      kernel: optionalText('kernel').describe('Kernel spec name'),
      conda_env: optionalText('conda_env'),
      cwd: optionalText('cwd')
    },
    { error: () => notValid('"environment" must be an object') }
  )
  .transform(e => ({
    kernel: e.kernel ?? null,
    python: e.python,
    packages: e.packages,
    conda_env: e.conda_env ?? null,
    cwd: e.cwd ?? null,
    git: e.git ?? null
  }))
  .describe(
    "The notebook kernel's environment, captured by the labextension; runners in restore mode rebuild it (docs/protocol.md). At most limits.max_environment_bytes as JSON (400 invalid_environment)."
  );

export type CapturedEnvironment = z.output<typeof CapturedEnvironment>;

/**
 * A submitted `environment`: an object of at most `maxBytes` as JSON
 * (limits.max_environment_bytes), then the CapturedEnvironment; null or absent is null.
 */
export const environmentWithin = (maxBytes: number) =>
  z
    .record(z.string(), z.unknown(), {
      error: () => notValid('"environment" must be an object')
    })
    .superRefine((value, ctx) => {
      const bytes = Buffer.byteLength(JSON.stringify(value));
      if (bytes > maxBytes)
        ctx.addIssue({
          code: 'custom',
          continue: false,
          message: coded(
            'invalid_environment',
            `The captured environment is ${bytes} bytes; at most ${maxBytes} are accepted (limits.max_environment_bytes).`
          )
        });
    })
    .pipe(CapturedEnvironment)
    .nullish()
    .transform(e => e ?? null);

/**
 * An nbformat v4 notebook of a Python kernel: checked in code (notebook/) against the official
 * nbformat schema, which the document states as `nbformat.notebook`.
 */
export const PythonNotebook = documented(z.record(z.string(), z.unknown()), {
  replace: {
    allOf: [
      { $ref: '#/components/schemas/nbformat.notebook' },
      {
        type: 'object',
        properties: {
          metadata: {
            type: 'object',
            properties: {
              kernelspec: {
                type: 'object',
                required: ['language'],
                properties: {
                  language: { type: 'string', enum: ['python', 'Python'] }
                }
              },
              language_info: {
                type: 'object',
                properties: { name: { type: 'string', enum: ['python'] } }
              }
            }
          }
        }
      }
    ],
    description:
      'An nbformat v4 notebook. The document states the nbformat 4.5 schema (nbformat.notebook); 4.0 to 4.4 are accepted too, each checked against its own official schema, sources and outputs as strings or lists of lines, cells with or without ids. Cell ids must be unique (JSON Schema cannot say so). The kernel must be Python: no kernelspec (python3), or kernelspec.language "python" (a kernelspec without a language whose name contains "py" is taken too); otherwise 400 unsupported_kernel. The first problem is answered as 400 invalid_notebook with its JSON path, e.g. "cells[3].outputs[0]: \'output_type\' is required". It is then normalised to 4.5 (lines joined, missing cell ids added) with code cells\' outputs and execution counts left out: a run starts from a clean slate. The request may be up to limits.max_request_bytes; the notebook without its outputs at most limits.max_notebook_bytes (413 notebook_too_large names the large part). See docs/protocol.md, "Notebooks in".'
  }
});

/** A notebook as the official nbformat 4.5 schema says (an executed one, outputs and all). */
export const Notebook = documented(z.record(z.string(), z.unknown()), {
  replace: { $ref: '#/components/schemas/nbformat.notebook' }
});

export const JobState = z.enum(JOB_STATES);

/** The runner's finish names one (FinalState in the document). */
export const FinalState = z
  .enum(
    FINAL_STATE_LIST,
    refuse('invalid_request', '"state" must be succeeded, failed or cancelled.')
  )
  .describe('A state a job ends in: it never changes state again.');

const time = z.string().meta({ format: 'date-time' });

/** Why a job was restarted: its node preempted, an eviction, its node lost, its pod deleted. */
export const RESTART_CAUSES = [
  'preemption',
  'eviction',
  'node_lost',
  'pod_deleted'
] as const;

export const WaitingReason = z.object({
  code: z
    .enum(WAITING_CODES)
    .describe('What holds the job: docs/protocol.md lists the codes'),
  message: z.string(),
  in_use: z
    .int()
    .optional()
    .describe('Jobs (GPUs, for GPU profiles) in use where it is full'),
  capacity: z.int().optional().describe('The most there can be'),
  ahead: z.int().optional().describe('Jobs ahead of it in its queue'),
  user: z.string().optional().describe('Whose job goes before it')
});

export const Waiting = z.object({
  summary: z.string().describe('One sentence: what it waits for'),
  reasons: z
    .array(WaitingReason)
    .describe('Everything that holds it, most blocking first')
});

/** Seconds from now: the median estimate and a range (docs/protocol.md, "ETA estimator"). */
export const EtaRange = z.object({
  seconds: z.number().min(0).describe('The point estimate (the median)'),
  low: z.number().min(0).describe("The range's low end (2nd percentile)"),
  high: z.number().min(0).describe("The range's high end (98th percentile)")
});

export const JobEta = z
  .object({
    start: EtaRange.nullable().describe(
      'When a queued job starts; null once admitted, or unknown'
    ),
    end: EtaRange.nullable().describe('When the job ends; null when unknown'),
    basis: z
      .string()
      .describe('What the estimate was drawn from, or why it is unknown')
  })
  .describe('Seconds until the job starts and ends, as ranges');

export const JobProgress = z
  .object({
    cell: z
      .int()
      .min(1)
      .describe('The running code cell, 1-based among code cells'),
    cells: z.int().min(1).describe('How many code cells the run has'),
    cell_started_at: time.describe(
      "When that cell started (the runner's clock)"
    )
  })
  .describe('Which code cell a running job is at');

export function jobSchema(priorities: string[]) {
  return z.object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    profile: z.string(),
    queue: z.string(),
    priority: configured('priorities', priorities),
    parameters: z.record(z.string(), z.unknown()),
    notebook_path: z.string().nullable(),
    state: JobState,
    reason: z.string().nullable(),
    created_at: time,
    started_at: time.nullable(),
    finished_at: time.nullable(),
    position: z.int().min(1).nullable(),
    last_seq: z.int().min(0),
    has_result: z.boolean(),
    cancel_requested: z.boolean(),
    held: z.boolean(),
    eta_seconds: z
      .number()
      .nullable()
      .describe(
        'Estimated seconds until a queued job starts; null when unknown'
      ),
    eta_basis: z
      .string()
      .nullable()
      .describe('How the ETA was estimated, or why it is unknown'),
    eta: JobEta.nullable().describe(
      'Start and end estimates of a queued (not held), starting or running job; else null'
    ),
    progress: JobProgress.nullable().describe(
      "A running job's code cell; null before its first code cell starts or when not running"
    ),
    waiting: Waiting.nullable().describe(
      'Why a queued job waits (null unless queued); changes live'
    ),
    pipeline_id: z
      .string()
      .nullable()
      .describe('The pipeline this job is a step of, if any'),
    pipeline_step: z.string().nullable().describe('The name of that step'),
    schedule_id: z
      .string()
      .nullable()
      .describe('The schedule that submitted it (docs/schedules.md)'),
    scheduled_for: time
      .nullable()
      .describe('The firing time it was submitted for'),
    attempt: z
      .int()
      .min(1)
      .describe(
        'Which run of the job this is, from 1: a restart after its pod was taken away adds one'
      ),
    max_attempts: z
      .int()
      .min(1)
      .describe(
        "Most runs allowed: 1 + its profile's kubernetes.max_restarts (1 on the local backend)"
      ),
    restarts: z
      .array(
        z.object({
          attempt: z.int().min(1),
          started_at: time.nullable(),
          ended_at: time,
          cause: z.enum(RESTART_CAUSES),
          reason: z.string()
        })
      )
      .describe('The earlier attempts, each ended by a restart, oldest first')
  });
}

export const Event = documented(
  z.looseObject({ seq: z.int(), time: z.number(), type: z.string() }),
  { extra: { description: 'See server/schema/events.schema.json' } }
);

export const EventPage = z.object({
  events: z.array(Event),
  last_seq: z.int()
});

export const METRIC_KINDS = ['user', 'system'] as const;

export const Metric = z.object({
  seq: z.int(),
  name: z.string(),
  step: z.int(),
  value: z.number().nullable().describe('null: NaN or an infinity'),
  time: z.number().describe('epoch ms'),
  kind: z.enum(METRIC_KINDS)
});

export const MetricPage = z.object({
  metrics: z.array(Metric),
  cursor: z
    .int()
    .describe('The last seq returned (or since): pass it as since next time')
});

export const Profile = z.object({
  name: z.string(),
  description: z.string().optional(),
  cpus: z.number(),
  gpus: z.int(),
  memory: z.string(),
  capacity: z.int(),
  idle_gpu: z
    .object({
      below_percent: z.number(),
      minutes: z.number(),
      action: z.enum(['warn', 'stop'])
    })
    .optional()
    .describe(
      "The profile's idle GPU guard: a job whose GPUs stay below below_percent for minutes is warned about or stopped"
    ),
  running: z.int(),
  queued: z.int(),
  free: z.int(),
  gpu_type: z
    .string()
    .nullable()
    .describe('The GPU model its nodes are labelled with; null: any'),
  gpu_resource: z
    .string()
    .describe(
      'The resource a job asks for: nvidia.com/gpu, a MIG slice, a shared GPU'
    ),
  gpu_free: z
    .int()
    .nullable()
    .describe(
      'Units of gpu_resource free on the nodes of this shape now; null where the backend cannot know (local)'
    )
});

export const Queue = z.object({
  name: z.string(),
  profile: z.string(),
  description: z.string().optional(),
  queued: z.int(),
  running: z.int()
});

export function infoSchema(priorities: string[]) {
  const priority = configured('priorities', priorities);
  return z.object({
    version: z.string(),
    backend: z.string(),
    user: z.string(),
    admin: z.boolean(),
    priorities: z
      .object({
        classes: z.array(priority),
        allowed: z.array(priority),
        default: priority
      })
      .describe(
        'The classes the dialog and the Jobs panel offer this caller (lowest first)'
      ),
    limits: z.object({
      max_notebook_bytes: z.int(),
      max_request_bytes: z.int()
    }),
    files: z.object({
      bundle: z.boolean(),
      max_input_bytes: z.int(),
      collect_outputs: z.boolean(),
      max_output_bytes: z.int()
    })
  });
}
