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
  schema: { type: 'string' }
};

/** A POST operation on one job that answers the updated Job. */
const op = (summary: string, body?: Record<string, unknown>) => ({
  post: {
    summary,
    parameters: [idParam],
    ...(body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { type: 'object', properties: body }
              }
            }
          }
        }
      : {}),
    responses: {
      200: json('Job'),
      400: error,
      401: error,
      403: error,
      404: error,
      409: error
    }
  }
});

/** The REST API as OpenAPI 3; a test checks it lists exactly the routes the app serves. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'nbqueue sidecar',
      version: VERSION,
      description:
        'Queue notebooks as jobs and stream their outputs back. Live events: socket.io on the same origin (see docs/protocol.md).'
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...fileSchemas,
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
            "The notebook kernel's environment, captured by the labextension; runners in restore mode rebuild it (docs/protocol.md). At most limits.max_environment_bytes.",
          required: ['python', 'packages'],
          properties: {
            kernel: { type: 'string', description: 'Kernel spec name' },
            python: {
              type: 'object',
              required: ['version'],
              properties: {
                version: { type: 'string', example: '3.11.9' },
                implementation: { type: 'string' },
                executable: { type: 'string' },
                platform: { type: 'string' },
                machine: { type: 'string' }
              }
            },
            packages: {
              type: 'array',
              maxItems: 20000,
              items: {
                type: 'object',
                required: ['name', 'version'],
                properties: {
                  name: { type: 'string' },
                  version: { type: 'string' },
                  editable: { type: 'boolean' },
                  url: {
                    type: 'string',
                    description: 'PEP 610 direct URL (file:, https:, VCS)'
                  },
                  vcs: { type: 'string', nullable: true },
                  commit: { type: 'string', nullable: true }
                }
              }
            },
            conda_env: { type: 'string', nullable: true },
            cwd: { type: 'string', nullable: true },
            git: {
              type: 'object',
              nullable: true,
              properties: {
                root: { type: 'string' },
                remote: { type: 'string', nullable: true },
                commit: { type: 'string', nullable: true },
                branch: { type: 'string', nullable: true },
                dirty: { type: 'boolean', nullable: true }
              }
            }
          }
        },
        JobSubmit: {
          type: 'object',
          required: ['notebook', 'profile'],
          properties: {
            notebook: {
              type: 'object',
              description:
                'An nbformat v4 notebook (4.0 to 4.5) as saved on disk or in memory: sources and outputs as strings or lists of lines, cells with or without ids, with or without a kernelspec (none means python3). It is checked against the official nbformat schema of its minor version (400 invalid_notebook names the JSON path of the first problem, e.g. "cells[3].outputs[0]: \'output_type\' is required"), then normalised to 4.5 (lines joined, missing cell ids added) with code cells\' outputs and execution counts left out: a run starts from a clean slate. A kernel that is not Python gets 400 unsupported_kernel. The request may be up to limits.max_request_bytes; the notebook without its outputs at most limits.max_notebook_bytes (413 notebook_too_large names the large part). See docs/protocol.md, "Notebooks in".',
              required: ['nbformat', 'nbformat_minor', 'metadata', 'cells'],
              properties: {
                nbformat: { type: 'integer', enum: [4] },
                nbformat_minor: { type: 'integer', minimum: 0 },
                metadata: { type: 'object' },
                cells: { type: 'array', items: { type: 'object' } }
              }
            },
            name: { type: 'string', maxLength: 200 },
            profile: { type: 'string' },
            queue: { type: 'string' },
            priority: {
              type: 'string',
              enum: ['low', 'normal', 'high', 'urgent']
            },
            parameters: { type: 'object', additionalProperties: true },
            notebook_path: { type: 'string' },
            cwd: { type: 'string' },
            input_bundle: {
              type: 'string',
              description: 'Id answered by POST /api/files/bundles'
            },
            deadline_seconds: {
              type: 'integer',
              minimum: 1,
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
            priority: { type: 'string' },
            parameters: { type: 'object', additionalProperties: true },
            notebook_path: { type: 'string', nullable: true },
            state: {
              type: 'string',
              enum: [
                'queued',
                'starting',
                'running',
                'succeeded',
                'failed',
                'cancelled'
              ]
            },
            reason: { type: 'string', nullable: true },
            created_at: { type: 'string', format: 'date-time' },
            started_at: { type: 'string', format: 'date-time', nullable: true },
            finished_at: {
              type: 'string',
              format: 'date-time',
              nullable: true
            },
            position: { type: 'integer', nullable: true },
            last_seq: { type: 'integer' },
            has_result: { type: 'boolean' },
            cancel_requested: { type: 'boolean' },
            held: { type: 'boolean' },
            eta_seconds: { type: 'number', nullable: true },
            eta_basis: { type: 'string', nullable: true }
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
              type: 'number',
              nullable: true,
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
          responses: { 200: { description: 'OK' }, 401: error }
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
          responses: { 200: { description: 'OK' }, 401: error }
        }
      },
      '/api/queues': {
        get: {
          summary: 'Queues with their lengths',
          responses: { 200: { description: 'OK' }, 401: error }
        }
      },
      '/api/jobs': {
        get: {
          summary: "The caller's jobs, newest first",
          parameters: [
            {
              name: 'state',
              in: 'query',
              schema: { type: 'string' },
              description: 'Comma-separated states'
            },
            { name: 'queue', in: 'query', schema: { type: 'string' } },
            {
              name: 'all',
              in: 'query',
              schema: { type: 'string' },
              description: "1: everyone's jobs (admins)"
            },
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
            {
              name: 'cursor',
              in: 'query',
              schema: { type: 'integer' },
              description: 'next_cursor of the previous page'
            }
          ],
          responses: { 200: { description: 'OK' }, 400: error, 401: error }
        },
        post: {
          summary: 'Submit a notebook as a job',
          description:
            '400: invalid_notebook (the JSON path of the first problem and the fix), unsupported_kernel (not a Python notebook), invalid_request, unknown_profile, unknown_queue, invalid_priority, invalid_parameter, invalid_environment, unknown_bundle. 413 notebook_too_large: the request is over limits.max_request_bytes, or the notebook without its outputs over limits.max_notebook_bytes.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/JobSubmit' }
              }
            }
          },
          responses: {
            201: json('Job', 'Queued'),
            400: error,
            401: error,
            413: error
          }
        }
      },
      '/api/jobs/{id}': {
        get: {
          summary: 'One job',
          parameters: [idParam],
          responses: { 200: json('Job'), 401: error, 404: error }
        }
      },
      '/api/jobs/{id}/cancel': {
        post: {
          summary: 'Cancel a queued or running job',
          parameters: [idParam],
          responses: { 200: json('Job'), 401: error, 404: error, 409: error }
        }
      },
      '/api/jobs/{id}/events': {
        get: {
          summary: 'Stored events after a sequence number',
          parameters: [
            idParam,
            { name: 'after', in: 'query', schema: { type: 'integer' } },
            { name: 'limit', in: 'query', schema: { type: 'integer' } }
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
          summary: 'Metric points after a cursor (seq), in seq order',
          parameters: [
            idParam,
            { name: 'since', in: 'query', schema: { type: 'integer' } },
            {
              name: 'kind',
              in: 'query',
              schema: { type: 'string', enum: ['user', 'system'] }
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', maximum: 100000 }
            }
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
          summary:
            'Metric points after a cursor as CSV: seq,name,step,value,time,kind (empty value: NaN or an infinity)',
          parameters: [
            idParam,
            { name: 'since', in: 'query', schema: { type: 'integer' } },
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
        'Hold a queued job: it keeps its place but is not started until released'
      ),
      '/api/jobs/{id}/release': op('Release a held job'),
      '/api/jobs/{id}/rerun': {
        post: {
          summary:
            'Queue a new job with the same notebook and spec, optionally on another profile',
          parameters: [idParam],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    profile: { type: 'string' },
                    priority: {
                      type: 'string',
                      description:
                        "The new job's priority (default: the job's); users up to high, admins any"
                    }
                  }
                }
              }
            }
          },
          responses: {
            201: json('Job', 'Queued'),
            400: error,
            401: error,
            404: error,
            409: error,
            413: error,
            429: error
          }
        }
      },
      '/api/jobs/{id}/move': op(
        'Move a queued job to another queue (its profile follows the queue)',
        { queue: { type: 'string' } }
      ),
      '/api/jobs/{id}/priority': op(
        'Change the priority of a queued job (users up to high, admins any)',
        {
          priority: { type: 'string' }
        }
      ),
      '/api/jobs/{id}/reorder': op(
        "Reorder one of the owner's queued jobs among the owner's own jobs",
        {
          to: { type: 'string', enum: ['front', 'back'] },
          before: { type: 'string' }
        }
      ),
      '/api/jobs/{id}/log': {
        get: {
          summary: "The runner's log",
          parameters: [idParam],
          responses: {
            200: { description: 'text/plain' },
            401: error,
            404: error
          }
        }
      },
      '/api/jobs/{id}/result': {
        get: {
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
            200: { description: 'nbformat 4 notebook' },
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
          summary: 'Runner: append events, idempotent per seq (job token)',
          parameters: [idParam],
          responses: { 200: { description: 'OK' }, 400: error, 401: error }
        }
      },
      '/api/runner/jobs/{id}/finish': {
        post: {
          summary:
            'Runner: report the outcome and the executed notebook (job token)',
          parameters: [idParam],
          responses: { 200: { description: 'OK' }, 400: error, 401: error }
        }
      },
      ...filePaths
    }
  };
}
