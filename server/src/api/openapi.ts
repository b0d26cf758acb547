import { VERSION } from '../version';

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
        JobSubmit: {
          type: 'object',
          required: ['notebook', 'profile'],
          properties: {
            notebook: { type: 'object', description: 'nbformat 4 notebook' },
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
            kernel: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                python: { type: 'string' }
              }
            }
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
            cancel_requested: { type: 'boolean' }
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
            }
          ],
          responses: { 200: { description: 'OK' }, 400: error, 401: error }
        },
        post: {
          summary: 'Submit a notebook as a job',
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
      '/api/jobs/{id}/result': {
        get: {
          summary: 'The executed notebook',
          parameters: [idParam],
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
      }
    }
  };
}
