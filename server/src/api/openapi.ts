import * as fs from 'fs';
import type { Config } from '../config/schema';
import { parseConfig } from '../config/load';
import { NEWEST_MINOR, schemaFile } from '../notebook/schema';
import { VERSION } from '../version';
import { filePaths, fileSchemas } from '../files/openapi';

const error = {
  description: 'An error a person can act on',
  content: {
    'application/json': { schema: { $ref: '#/components/schemas/Error' } }
  }
};
const json = (ref: string, description = 'OK') => ({
  description,
  content: {
    'application/json': { schema: { $ref: `#/components/schemas/${ref}` } }
  }
});
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', minLength: 1 }
};
/** A whole number query parameter (intParam in app.ts: ≥ 0, larger values are capped). */
const count = (name: string, description?: string) => ({
  name,
  in: 'query',
  schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  ...(description ? { description } : {})
});
const jsonBody = (schema: Record<string, unknown>, required = true) => ({
  required,
  content: { 'application/json': { schema } }
});

/** What a client can do next with a job it was answered (the fuzzer's stateful phase too). */
const jobLinks = Object.fromEntries(
  [
    'getJob',
    'cancelJob',
    'getJobEvents',
    'getJobMetrics',
    'getJobMetricsCsv',
    'holdJob',
    'releaseJob',
    'rerunJob',
    'moveJob',
    'setJobPriority',
    'reorderJob',
    'getJobLog',
    'getJobResult',
    'getJobFiles',
    'getJobOutputFiles'
  ].map(operationId => [
    operationId,
    { operationId, parameters: { id: '$response.body#/id' } }
  ])
);

/** A POST operation on one job that answers the updated Job. */
const op = (
  operationId: string,
  summary: string,
  body?: Record<string, unknown>
) => ({
  post: {
    operationId,
    summary,
    parameters: [idParam],
    ...(body ? { requestBody: jsonBody(body) } : {}),
    responses: {
      200: json('Job'),
      400: error,
      401: error,
      403: error,
      404: error,
      409: error,
      413: error
    }
  }
});

const PYTHON_KEYWORDS =
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' '
  );
/** Strings the environment validator takes (server/src/jobs/environment.ts). */
const text = { type: 'string', maxLength: 4096 };

/**
 * The official nbformat 4.5 schema as OpenAPI components: its definitions become
 * `nbformat.<name>` schemas and its references point at them. The notebook a submit carries
 * is checked against exactly this (older minor versions against their own schema).
 */
function nbformatComponents(): Record<string, unknown> {
  const schema = JSON.parse(
    fs.readFileSync(schemaFile(NEWEST_MINOR), 'utf8')
  ) as Record<string, unknown>;
  const rewritten = JSON.parse(
    JSON.stringify(schema).replaceAll(
      '"#/definitions/',
      '"#/components/schemas/nbformat.'
    )
  ) as Record<string, unknown> & { definitions: Record<string, unknown> };
  ecmaDots(rewritten);
  const { definitions, $schema: _dialect, ...notebook } = rewritten;
  void _dialect;
  const out: Record<string, unknown> = { 'nbformat.notebook': notebook };
  for (const [name, def] of Object.entries(definitions))
    out[`nbformat.${name}`] = def;
  return out;
}

/**
 * JSON Schema patterns are ECMA-262 regular expressions, where `.` matches anything but line
 * terminators; tools in other languages read `.` as matching \r too. Spelling it out keeps
 * every reader of the document to the meaning the sidecar's validator (Ajv) gives it.
 */
function ecmaDots(node: unknown): void {
  const spell = (pattern: string) =>
    pattern.replace(/(^|[^\\])\./g, '$1[^\\n\\r\\u2028\\u2029]');
  if (Array.isArray(node)) return node.forEach(ecmaDots);
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.pattern === 'string') obj.pattern = spell(obj.pattern);
  if (obj.patternProperties && typeof obj.patternProperties === 'object')
    obj.patternProperties = Object.fromEntries(
      Object.entries(obj.patternProperties).map(([k, v]) => [spell(k), v])
    );
  Object.values(obj).forEach(ecmaDots);
}

/**
 * What the sidecar adds to the nbformat schema for a notebook it will run: a Python kernel
 * (server/src/notebook/kernel.ts: no kernelspec means python3; else kernelspec.language, else
 * language_info.name, must be Python). The document asks for the plain cases only.
 */
const pythonNotebook = {
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
};

/** OpenAPI 3.1 (JSON Schema 2020-12): a value of `schema`, or null. */
const nullable = (schema: Record<string, unknown>) => ({
  ...schema,
  type: [schema.type as string, 'null']
});

/** The REST API as OpenAPI 3.1, with the sidecar's own profiles, queues and limits filled in. */
export function openApiDocument(
  config: Config = parseConfig({})
): Record<string, unknown> {
  const profiles = config.profiles.map(p => p.name);
  const queues = config.queues.map(q => q.name);
  const priorities = config.priorities;
  const states = [
    'queued',
    'starting',
    'running',
    'succeeded',
    'failed',
    'cancelled'
  ];
  // A queue named with a profile must run that profile (400 unknown_queue otherwise).
  const profileAndQueue = config.profiles.map(p => ({
    properties: {
      profile: { enum: [p.name] },
      queue: {
        enum: config.queues.filter(q => q.profile === p.name).map(q => q.name)
      }
    }
  }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'nbqueue sidecar',
      version: VERSION,
      description:
        "Queue notebooks as jobs and stream their outputs back. Live events: socket.io on the same origin (see docs/protocol.md). Profile, queue and priority names are this sidecar's own configuration. A method a path does not list answers 405 with Allow."
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...fileSchemas,
        ...nbformatComponents(),
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' }
              }
            }
          }
        },
        Info: {
          type: 'object',
          required: ['version', 'backend', 'user', 'admin', 'limits'],
          properties: {
            version: { type: 'string' },
            backend: { type: 'string' },
            user: { type: 'string' },
            admin: { type: 'boolean' },
            limits: {
              type: 'object',
              required: ['max_notebook_bytes', 'max_request_bytes'],
              properties: {
                max_notebook_bytes: { type: 'integer' },
                max_request_bytes: { type: 'integer' }
              }
            }
          }
        },
        Profile: {
          type: 'object',
          required: [
            'name',
            'cpus',
            'gpus',
            'memory',
            'capacity',
            'running',
            'queued',
            'free'
          ],
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            cpus: { type: 'number' },
            gpus: { type: 'integer' },
            memory: { type: 'string' },
            capacity: { type: 'integer' },
            running: { type: 'integer' },
            queued: { type: 'integer' },
            free: { type: 'integer' }
          }
        },
        Queue: {
          type: 'object',
          required: ['name', 'profile', 'queued', 'running'],
          properties: {
            name: { type: 'string' },
            profile: { type: 'string' },
            description: { type: 'string' },
            queued: { type: 'integer' },
            running: { type: 'integer' }
          }
        },
        CapturedEnvironment: {
          type: 'object',
          description:
            "The notebook kernel's environment, captured by the labextension; runners in restore mode rebuild it (docs/protocol.md). At most limits.max_environment_bytes as JSON (400 invalid_environment).",
          required: ['python', 'packages'],
          properties: {
            kernel: { ...text, description: 'Kernel spec name' },
            python: {
              type: 'object',
              required: ['version'],
              properties: {
                version: {
                  ...text,
                  pattern: '^[0-9]+\\.[0-9]+',
                  example: '3.11.9'
                },
                implementation: text,
                executable: text,
                platform: text,
                machine: text
              }
            },
            packages: {
              type: 'array',
              maxItems: 20000,
              items: {
                type: 'object',
                required: ['name', 'version'],
                properties: {
                  name: text,
                  version: text,
                  editable: { type: 'boolean' },
                  url: {
                    ...text,
                    description: 'PEP 610 direct URL (file:, https:, VCS)'
                  },
                  vcs: nullable(text),
                  commit: nullable(text)
                }
              }
            },
            conda_env: nullable(text),
            cwd: nullable(text),
            git: {
              type: ['object', 'null'],
              required: ['root'],
              properties: {
                root: text,
                remote: nullable(text),
                commit: nullable(text),
                branch: nullable(text),
                dirty: nullable({ type: 'boolean' })
              }
            }
          }
        },
        JobSubmit: {
          type: 'object',
          required: ['notebook', 'profile'],
          // The queue, when named, must be one of the profile's.
          anyOf: profileAndQueue,
          properties: {
            notebook: pythonNotebook,
            name: { type: 'string', maxLength: 200 },
            profile: { type: 'string', enum: profiles },
            queue: {
              type: 'string',
              enum: queues,
              description: "Default: the profile's queue"
            },
            priority: {
              type: 'string',
              enum: priorities,
              description: `Default ${config.default_priority}; classes above high are for admins (403 forbidden for others)`
            },
            parameters: {
              type: 'object',
              maxProperties: config.limits.max_parameters,
              propertyNames: {
                pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
                not: { enum: PYTHON_KEYWORDS }
              },
              description:
                'Values for the notebook\'s "parameters" cell: Python names, JSON values'
            },
            notebook_path: {
              type: 'string',
              // What jobs/validate.ts refuses: absolute (/, \\, C:), a ".." segment, NUL.
              pattern: String.raw`^(?![\\/])(?![A-Za-z]:)(?![\s\S]*(?:^|[\\/])\.\.(?:[\\/]|$))[^\u0000]*$`,
              description:
                'Relative to the Jupyter server root; no ".." and not absolute'
            },
            cwd: { type: 'string' },
            input_bundle: {
              type: 'string',
              description:
                'Id answered by POST /api/files/bundles (yours; 400 unknown_bundle otherwise)'
            },
            deadline_seconds: {
              type: 'integer',
              minimum: 1,
              maximum: config.limits.max_deadline_seconds,
              description:
                "Longest run time; default the profile's (Kubernetes activeDeadlineSeconds)"
            },
            kernel: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                python: { type: 'string' }
              }
            },
            environment: { $ref: '#/components/schemas/CapturedEnvironment' }
          }
        },
        Job: {
          type: 'object',
          required: [
            'id',
            'name',
            'owner',
            'profile',
            'queue',
            'priority',
            'state',
            'created_at',
            'last_seq',
            'has_result'
          ],
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            owner: { type: 'string' },
            profile: { type: 'string' },
            queue: { type: 'string' },
            priority: { type: 'string', enum: priorities },
            parameters: { type: 'object', additionalProperties: true },
            notebook_path: nullable({ type: 'string' }),
            state: { type: 'string', enum: states },
            reason: nullable({ type: 'string' }),
            created_at: { type: 'string', format: 'date-time' },
            started_at: nullable({ type: 'string', format: 'date-time' }),
            finished_at: nullable({ type: 'string', format: 'date-time' }),
            position: nullable({ type: 'integer', minimum: 1 }),
            last_seq: { type: 'integer', minimum: 0 },
            has_result: { type: 'boolean' },
            cancel_requested: { type: 'boolean' },
            held: { type: 'boolean' },
            eta_seconds: nullable({ type: 'number' }),
            eta_basis: nullable({ type: 'string' })
          }
        },
        JobPage: {
          type: 'object',
          required: ['jobs'],
          properties: {
            jobs: {
              type: 'array',
              items: { $ref: '#/components/schemas/Job' }
            },
            next_cursor: nullable({ type: 'integer' })
          }
        },
        Event: {
          type: 'object',
          description: 'See server/schema/events.schema.json',
          required: ['seq', 'time', 'type']
        },
        EventPage: {
          type: 'object',
          required: ['events', 'last_seq'],
          properties: {
            events: {
              type: 'array',
              items: { $ref: '#/components/schemas/Event' }
            },
            last_seq: { type: 'integer' }
          }
        },
        Metric: {
          type: 'object',
          required: ['seq', 'name', 'step', 'value', 'time', 'kind'],
          properties: {
            seq: { type: 'integer' },
            name: { type: 'string' },
            step: { type: 'integer' },
            value: {
              type: ['number', 'null'],
              description: 'null: NaN or an infinity'
            },
            time: { type: 'number', description: 'epoch ms' },
            kind: { type: 'string', enum: ['user', 'system'] }
          }
        },
        MetricPage: {
          type: 'object',
          required: ['metrics', 'cursor'],
          properties: {
            metrics: {
              type: 'array',
              items: { $ref: '#/components/schemas/Metric' }
            },
            cursor: {
              type: 'integer',
              description:
                'The last seq returned (or since): pass it as since next time'
            }
          }
        }
      }
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/health': {
        get: {
          summary: 'Liveness (no auth)',
          security: [],
          responses: { 200: { description: 'OK' } }
        }
      },
      '/api/info': {
        get: {
          summary: 'Version, backend, the caller',
          responses: { 200: json('Info'), 401: error }
        }
      },
      '/api/openapi.json': {
        get: {
          summary: 'This document',
          responses: { 200: { description: 'OK' }, 401: error }
        }
      },
      '/api/profiles': {
        get: {
          summary: 'Resource profiles with free capacity and queue length',
          responses: {
            200: {
              description: 'OK',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['profiles'],
                    properties: {
                      profiles: {
                        type: 'array',
                        items: { $ref: '#/components/schemas/Profile' }
                      }
                    }
                  }
                }
              }
            },
            401: error
          }
        }
      },
      '/api/queues': {
        get: {
          summary: 'Queues with their lengths',
          responses: {
            200: {
              description: 'OK',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['queues'],
                    properties: {
                      queues: {
                        type: 'array',
                        items: { $ref: '#/components/schemas/Queue' }
                      }
                    }
                  }
                }
              }
            },
            401: error
          }
        }
      },
      '/api/jobs': {
        get: {
          operationId: 'listJobs',
          summary: "The caller's jobs, newest first",
          parameters: [
            {
              name: 'state',
              in: 'query',
              style: 'form',
              explode: false,
              schema: {
                type: 'array',
                items: { type: 'string', enum: states }
              },
              description: 'Comma-separated states'
            },
            { name: 'queue', in: 'query', schema: { type: 'string' } },
            {
              name: 'all',
              in: 'query',
              schema: { type: 'string', enum: ['1', 'true', '0', 'false'] },
              description: "1: everyone's jobs (admins; 403 for others)"
            },
            count(
              'limit',
              'Page size: 1 to 1000 (the default); larger is 1000'
            ),
            count('cursor', 'next_cursor of the previous page')
          ],
          responses: {
            200: json('JobPage'),
            400: error,
            401: error,
            403: error
          }
        },
        post: {
          operationId: 'submitJob',
          summary: 'Submit a notebook as a job',
          description:
            "400: invalid_notebook (the JSON path of the first problem and the fix), unsupported_kernel (not a Python notebook), invalid_request, unknown_profile, unknown_queue, invalid_priority, invalid_parameter, invalid_environment, unknown_bundle. 403: a priority above the caller's. 413 notebook_too_large: the request is over limits.max_request_bytes, or the notebook without its outputs over limits.max_notebook_bytes. 429 over_limit: limits.max_queued_per_user.",
          requestBody: jsonBody({ $ref: '#/components/schemas/JobSubmit' }),
          responses: {
            201: { ...json('Job', 'Queued'), links: jobLinks },
            400: error,
            401: error,
            403: error,
            413: error,
            415: error,
            429: error
          }
        }
      },
      '/api/jobs/{id}': {
        get: {
          operationId: 'getJob',
          summary: 'One job',
          parameters: [idParam],
          responses: { 200: json('Job'), 401: error, 404: error }
        }
      },
      '/api/jobs/{id}/cancel': {
        post: {
          operationId: 'cancelJob',
          summary: 'Cancel a queued or running job',
          parameters: [idParam],
          responses: {
            200: json('Job'),
            401: error,
            404: error,
            409: error,
            413: error
          }
        }
      },
      '/api/jobs/{id}/events': {
        get: {
          operationId: 'getJobEvents',
          summary: 'Stored events after a sequence number',
          parameters: [
            idParam,
            count('after'),
            count('limit', 'At most 10000 (the default)')
          ],
          responses: {
            200: json('EventPage'),
            400: error,
            401: error,
            404: error
          }
        }
      },
      '/api/jobs/{id}/metrics': {
        get: {
          operationId: 'getJobMetrics',
          summary: 'Metric points after a cursor (seq), in seq order',
          parameters: [
            idParam,
            count('since'),
            {
              name: 'kind',
              in: 'query',
              schema: { type: 'string', enum: ['user', 'system'] }
            },
            count('limit', 'At most 100000 (the default)')
          ],
          responses: {
            200: json('MetricPage'),
            400: error,
            401: error,
            404: error
          }
        }
      },
      '/api/jobs/{id}/metrics.csv': {
        get: {
          operationId: 'getJobMetricsCsv',
          summary:
            'Metric points after a cursor as CSV: seq,name,step,value,time,kind (empty value: NaN or an infinity)',
          parameters: [
            idParam,
            count('since'),
            {
              name: 'kind',
              in: 'query',
              schema: { type: 'string', enum: ['user', 'system'] }
            }
          ],
          responses: {
            200: {
              description: 'OK',
              content: { 'text/csv': { schema: { type: 'string' } } }
            },
            400: error,
            401: error,
            404: error
          }
        }
      },
      '/api/jobs/{id}/hold': op(
        'holdJob',
        'Hold a queued job: it keeps its place but is not started until released'
      ),
      '/api/jobs/{id}/release': op('releaseJob', 'Release a held job'),
      '/api/jobs/{id}/rerun': {
        post: {
          operationId: 'rerunJob',
          summary:
            'Queue a new job with the same notebook and spec, optionally on another profile',
          parameters: [idParam],
          requestBody: jsonBody(
            {
              type: 'object',
              properties: {
                profile: { type: 'string', enum: profiles },
                priority: {
                  type: 'string',
                  enum: priorities,
                  description:
                    "The new job's priority (default: the job's); users up to high, admins any"
                }
              }
            },
            false
          ),
          responses: {
            201: { ...json('Job', 'Queued'), links: jobLinks },
            400: error,
            401: error,
            403: error,
            404: error,
            409: error,
            413: error,
            429: error
          }
        }
      },
      '/api/jobs/{id}/move': op(
        'moveJob',
        'Move a queued job to another queue (its profile follows the queue)',
        {
          type: 'object',
          required: ['queue'],
          properties: { queue: { type: 'string', enum: queues } }
        }
      ),
      '/api/jobs/{id}/priority': op(
        'setJobPriority',
        'Change the priority of a queued job (users up to high, admins any)',
        {
          type: 'object',
          required: ['priority'],
          properties: { priority: { type: 'string', enum: priorities } }
        }
      ),
      '/api/jobs/{id}/reorder': op(
        'reorderJob',
        "Reorder one of the owner's queued jobs among the owner's own jobs (`before`: another of the owner's queued jobs in the same queue with the same priority and hold state; 400 invalid_request otherwise)",
        {
          type: 'object',
          oneOf: [
            {
              required: ['to'],
              properties: { to: { type: 'string', enum: ['front', 'back'] } }
            },
            {
              required: ['before'],
              not: { required: ['to'] },
              properties: { before: { type: 'string' } }
            }
          ]
        }
      ),
      '/api/jobs/{id}/log': {
        get: {
          operationId: 'getJobLog',
          summary: "The runner's log",
          parameters: [idParam],
          responses: {
            200: {
              description: 'OK',
              content: { 'text/plain': { schema: { type: 'string' } } }
            },
            401: error,
            404: error
          }
        }
      },
      '/api/jobs/{id}/result': {
        get: {
          operationId: 'getJobResult',
          summary: 'The executed notebook',
          description:
            'With download=1 it comes as an attachment (<id>.ipynb). In hub mode a browser opening this link without a token header is sent through the hub OAuth login first (docs/jupyterhub.md).',
          parameters: [
            idParam,
            {
              name: 'download',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['1'] }
            }
          ],
          responses: {
            200: {
              description: 'nbformat 4.5 notebook',
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/nbformat.notebook' }
                }
              }
            },
            401: error,
            404: error
          }
        }
      },
      '/api/runner/jobs/{id}': {
        get: {
          summary: 'Runner: fetch the job (job token)',
          parameters: [idParam],
          responses: { 200: { description: 'OK' }, 401: error }
        }
      },
      '/api/runner/jobs/{id}/events': {
        post: {
          summary:
            'Runner: append events, idempotent per seq (job token); the body is at most 1 MB',
          parameters: [idParam],
          requestBody: jsonBody({
            type: 'object',
            required: ['events'],
            properties: {
              events: {
                type: 'array',
                items: { $ref: '#/components/schemas/Event' }
              }
            }
          }),
          responses: {
            200: { description: 'OK' },
            400: error,
            401: error,
            413: error
          }
        }
      },
      '/api/runner/jobs/{id}/finish': {
        post: {
          summary:
            'Runner: report the outcome and the executed notebook (job token); at most limits.max_request_bytes',
          parameters: [idParam],
          requestBody: jsonBody({
            type: 'object',
            required: ['state'],
            properties: {
              state: {
                type: 'string',
                enum: ['succeeded', 'failed', 'cancelled']
              },
              reason: nullable({ type: 'string' }),
              notebook: { $ref: '#/components/schemas/nbformat.notebook' }
            }
          }),
          responses: {
            200: { description: 'OK' },
            400: error,
            401: error,
            413: error
          }
        }
      },
      ...filePaths
    }
  };
}
