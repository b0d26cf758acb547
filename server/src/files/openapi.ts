/** The working-files part of the OpenAPI document (server/src/api/openapi.ts spreads it in). */

const error = {
  description: 'An error a person can act on',
  content: {
    'application/json': { schema: { $ref: '#/components/schemas/Error' } }
  }
};
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' }
};
const archiveBody = (description: string) => ({
  required: true,
  description,
  content: {
    'application/gzip': { schema: { type: 'string', format: 'binary' } }
  }
});
const archive = {
  description: 'The files as a tar.gz',
  content: {
    'application/gzip': { schema: { type: 'string', format: 'binary' } }
  }
};

export const fileSchemas = {
  FileEntry: {
    type: 'object',
    required: ['path', 'size'],
    properties: { path: { type: 'string' }, size: { type: 'integer' } }
  },
  StoredFiles: {
    type: ['object', 'null'],
    required: ['bytes', 'total_bytes', 'files', 'left_out', 'created_at'],
    properties: {
      bytes: { type: 'integer', description: 'Size of the tar.gz' },
      total_bytes: { type: 'integer', description: "Sum of the files' sizes" },
      files: {
        type: 'array',
        items: { $ref: '#/components/schemas/FileEntry' }
      },
      left_out: {
        type: 'array',
        description: 'Files the job wrote that did not come back, and why',
        items: {
          type: 'object',
          properties: {
            path: { type: 'string' },
            size: { type: ['integer', 'null'] },
            reason: { type: 'string' }
          }
        }
      },
      created_at: { type: 'string', format: 'date-time' }
    }
  }
};

export const filePaths = {
  '/api/files/bundles': {
    post: {
      summary:
        "Upload the notebook's directory as a tar.gz before submitting (streamed, size-capped); submit with input_bundle: id",
      requestBody: archiveBody(
        'tar.gz of regular files with relative paths; at most files.max_input_bytes of files'
      ),
      responses: {
        201: { description: '{"id", "bytes", "total_bytes", "files"}' },
        400: error,
        401: error,
        409: error,
        413: error
      }
    }
  },
  '/api/jobs/{id}/files': {
    get: {
      operationId: 'getJobFiles',
      summary: "The job's input and output files (owner or admin)",
      parameters: [idParam],
      responses: {
        200: {
          description: 'OK',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  input: { $ref: '#/components/schemas/StoredFiles' },
                  output: { $ref: '#/components/schemas/StoredFiles' }
                }
              }
            }
          }
        },
        401: error,
        404: error
      }
    }
  },
  '/api/jobs/{id}/files/output': {
    get: {
      operationId: 'getJobOutputFiles',
      summary:
        'The files the job wrote, as a tar.gz (owner or admin); 409 until the job ended, then 404 no_output_files if it brought none back',
      parameters: [idParam],
      responses: { 200: archive, 401: error, 404: error, 409: error }
    }
  },
  '/api/runner/jobs/{id}/files': {
    get: {
      summary:
        'Runner: the files plan: input bundle, working_dir, whether and how much to collect (job token)',
      parameters: [idParam],
      responses: { 200: { description: 'OK' }, 401: error }
    }
  },
  '/api/runner/jobs/{id}/files/input': {
    get: {
      summary: "Runner: the job's input bundle (job token)",
      parameters: [idParam],
      responses: { 200: archive, 401: error, 404: error }
    }
  },
  '/api/runner/jobs/{id}/files/output': {
    put: {
      summary:
        'Runner: store the files the job wrote, replacing any earlier upload (job token); X-Nbqueue-Left-Out: URI-encoded JSON of what was left out',
      parameters: [idParam],
      requestBody: archiveBody(
        'tar.gz of the files the job created or modified'
      ),
      responses: {
        200: { description: '{"files", "bytes"}' },
        400: error,
        401: error,
        413: error
      }
    }
  }
};
