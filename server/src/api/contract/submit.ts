/**
 * The body of POST /api/jobs: what a person submits, checked against this sidecar's
 * configuration and turned into what a job is stored with (a Submission, for JobCommands.submit).
 */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import type { JobSpec, KernelInfo, Notebook } from '../../jobs/types';
import { jobNotebook } from '../../notebook';
import {
  CapturedEnvironment,
  environmentWithin,
  PythonNotebook
} from './schemas';
import { checked, coded, configured, documented, refuse } from './operation';

export interface Submission {
  notebook: Notebook;
  name: string;
  profile: string;
  queue: string;
  priority: string;
  spec: JobSpec;
}

const PYTHON_KEYWORDS =
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' '
  );
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What notebook_path may not be: absolute (/, \, C:), with a ".." segment, with NUL. */
const NOTEBOOK_PATH = String.raw`^(?![\\/])(?![A-Za-z]:)(?![\s\S]*(?:^|[\\/])\.\.(?:[\\/]|$))[^\u0000]*$`;

const blankIsAbsent = (v: unknown) => (v === '' ? undefined : v);

/** "" and null mean absent, as they always have for these fields. */
const optionalText = (name: string) =>
  z
    .string(refuse('invalid_request', `"${name}" must be a string.`))
    .nullish()
    .transform(v => (v ? v : null));

function defaultName(path: string | null, now: Date): string {
  const base = path ? path.split('/').pop() || 'notebook' : 'notebook';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${base} ${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}`;
}

/** The submit body for this configuration; `now` names jobs submitted without a name. */
export function submitSchema(
  config: Config,
  now: () => Date = () => new Date()
) {
  const profiles = config.profiles.map(p => p.name);
  const queues = config.queues.map(q => q.name);
  const { max_parameters, max_deadline_seconds, max_notebook_bytes } =
    config.limits;
  const deadline = refuse(
    'invalid_request',
    `"deadline_seconds" must be a whole number of seconds from 1 to ${max_deadline_seconds} (limits.max_deadline_seconds); leave it out for the profile's limit.`
  );

  const body = z.object(
    {
      notebook: documented(
        z
          .custom<unknown>(
            v => v !== undefined,
            refuse('invalid_notebook', 'The request has no "notebook".')
          )
          .transform(checked(v => jobNotebook(v, max_notebook_bytes))),
        { replace: { $ref: '#/components/schemas/PythonNotebook' } }
      ),
      name: z
        .string(refuse('invalid_request', '"name" must be a string.'))
        .max(
          200,
          refuse(
            'invalid_request',
            'The job name is longer than 200 characters.'
          )
        )
        .nullish(),
      profile: configured(
        'profiles',
        profiles,
        refuse('unknown_profile', value =>
          typeof value === 'string' && value
            ? `Profile '${value}' does not exist; choose one of ${profiles.join(', ')}.`
            : `Choose a profile: one of ${profiles.join(', ')}.`
        )
      ),
      queue: z
        .preprocess(
          blankIsAbsent,
          configured(
            'queues',
            queues,
            refuse(
              'unknown_queue',
              value =>
                `Queue '${String(value)}' does not exist; choose one of ${queues.join(', ')}.`
            )
          )
            .nullish()
            .describe("Default: the profile's queue")
        )
        .optional(),
      priority: configured(
        'priorities',
        config.priorities,
        refuse(
          'invalid_priority',
          value =>
            `Priority ${JSON.stringify(value)} is not valid; choose one of ${config.priorities.join(', ')}.`
        )
      )
        .nullish()
        .describe(
          `Default ${config.default_priority}; classes above high are for admins (403 forbidden for others)`
        ),
      parameters: documented(
        z
          .record(
            z
              .string()
              .refine(
                name => IDENTIFIER.test(name) && !PYTHON_KEYWORDS.includes(name)
              ),
            z.unknown(),
            refuse('invalid_parameter', (value, issue) =>
              issue.code === 'invalid_key'
                ? `Parameter name "${String(value)}" is not a valid Python variable name; use letters, digits and "_", not starting with a digit.`
                : '"parameters" must be an object of name: value pairs.'
            )
          )
          .refine(
            v => Object.keys(v).length <= max_parameters,
            refuse(
              'invalid_parameter',
              v =>
                `Too many parameters (${Object.keys(v as object).length}); at most ${max_parameters} are allowed.`
            )
          )
          .nullish()
          .describe(
            'Values for the notebook\'s "parameters" cell: Python names, JSON values'
          ),
        {
          extra: {
            maxProperties: max_parameters,
            propertyNames: {
              pattern: IDENTIFIER.source,
              not: { enum: PYTHON_KEYWORDS }
            }
          }
        }
      ),
      notebook_path: z
        .string(refuse('invalid_request', '"notebook_path" must be a string.'))
        .regex(
          new RegExp(NOTEBOOK_PATH),
          refuse(
            'invalid_request',
            path =>
              `"notebook_path" must be a path inside the Jupyter root, relative to it and without "..": ${JSON.stringify(path)} is not.`
          )
        )
        .nullish()
        .describe(
          'Relative to the Jupyter server root; no ".." and not absolute'
        ),
      cwd: optionalText('cwd'),
      input_bundle: optionalText('input_bundle').describe(
        'Id answered by POST /api/files/bundles (yours; 400 unknown_bundle otherwise)'
      ),
      deadline_seconds: z
        .number(deadline)
        .int(deadline)
        .min(1, deadline)
        .max(max_deadline_seconds, deadline)
        .nullish()
        .describe(
          "Longest run time; default the profile's (Kubernetes activeDeadlineSeconds)"
        ),
      kernel: z
        .object(
          {
            name: optionalText('kernel.name'),
            python: optionalText('kernel.python')
          },
          refuse(
            'invalid_request',
            '"kernel" must be an object with "name" and "python".'
          )
        )
        .nullish(),
      environment: documented(
        environmentWithin(config.limits.max_environment_bytes),
        { replace: { $ref: '#/components/schemas/CapturedEnvironment' } }
      ).optional()
    },
    refuse(
      'invalid_request',
      'The request body must be a JSON object with "notebook" and "profile".'
    )
  );

  // A queue named with a profile must run that profile (400 unknown_queue otherwise).
  const profileAndQueue = config.profiles.map(p => ({
    properties: {
      profile: { enum: [p.name] },
      queue: {
        enum: [
          ...config.queues.filter(q => q.profile === p.name).map(q => q.name),
          null
        ]
      }
    }
  }));

  return documented(
    body.transform((b, ctx): Submission => {
      const profile = b.profile;
      const queue = b.queue
        ? config.queues.find(q => q.name === b.queue)
        : config.queues.find(q => q.profile === profile);
      if (queue && queue.profile !== profile) {
        ctx.issues.push({
          code: 'custom',
          input: b.queue,
          path: ['queue'],
          message: coded(
            'unknown_queue',
            `Queue '${queue.name}' runs profile '${queue.profile}', not '${profile}'.`
          )
        });
        return z.NEVER;
      }
      if (!queue) {
        ctx.issues.push({
          code: 'custom',
          input: b.queue,
          path: ['queue'],
          message: coded(
            'unknown_queue',
            `No queue serves profile '${profile}'; ask the operator to add one.`
          )
        });
        return z.NEVER;
      }
      const notebookPath = b.notebook_path || null;
      const kernel: KernelInfo = b.kernel
        ? {
            name: b.kernel.name ?? undefined,
            python: b.kernel.python ?? undefined
          }
        : {};
      return {
        notebook: b.notebook,
        name: b.name?.trim() || defaultName(notebookPath, now()),
        profile,
        queue: queue.name,
        priority: b.priority ?? config.default_priority,
        spec: {
          parameters: (b.parameters ?? {}) as Record<string, unknown>,
          notebook_path: notebookPath,
          cwd: b.cwd,
          kernel,
          ...(b.input_bundle ? { input_bundle: b.input_bundle } : {}),
          ...(typeof b.deadline_seconds === 'number'
            ? { deadline_seconds: b.deadline_seconds }
            : {}),
          ...(b.environment ? { environment: b.environment } : {})
        }
      };
    }),
    { extra: { anyOf: profileAndQueue, 'x-configured': 'profiles and queues' } }
  );
}

export { CapturedEnvironment, PythonNotebook };
