/**
 * Checkpoints (docs/checkpoints.md): what `nbqueue.checkpoint.save` stores through the runner,
 * restored into the job's folder when the same job runs again; its owner may download them.
 */
import { z } from 'zod/v4';
import { CHECKPOINT_NAME } from '../../files/checkpoints';
import { operation, refuse } from './operation';

export const Checkpoint = z.object({
  seq: z.int().min(1).describe("The checkpoint's number in its job, from 1"),
  name: z.string().describe('The saved file or folder name'),
  kind: z
    .enum(['file', 'folder'])
    .describe('file: its bytes as saved; folder: an uncompressed tar'),
  bytes: z.int().describe('Bytes stored (a folder as its tar)'),
  files: z.int().describe('Regular files in it'),
  created_at: z.string().meta({ format: 'date-time' })
});

const JobCheckpoint = z.object({
  id: z.string().min(1),
  seq: z
    .string(
      refuse('invalid_request', 'The checkpoint number is a whole number ≥ 1.')
    )
    .regex(
      /^[1-9][0-9]{0,15}$/,
      refuse('invalid_request', 'The checkpoint number is a whole number ≥ 1.')
    )
    .transform(Number)
});

/** A file's bytes, or a folder's tar. */
const bytes = {
  media: ['application/octet-stream', 'application/x-tar'],
  description:
    "A file checkpoint's bytes (application/octet-stream), or a folder's as an uncompressed tar (application/x-tar)"
};

export function checkpointOperations() {
  return {
    runnerCheckpointPlan: operation({
      method: 'get',
      path: '/api/runner/jobs/{id}/checkpoints',
      summary:
        "Runner: the job's latest checkpoint to restore (or null), the size limit and the time on_preempt callbacks get (job token)",
      params: z.object({ id: z.string().min(1) }),
      ok: {
        200: {
          schema: z.object({
            latest: Checkpoint.nullable(),
            max_bytes: z.int(),
            preempt_seconds: z.number()
          })
        }
      },
      errors: [401]
    }),
    runnerSaveCheckpoint: operation({
      method: 'post',
      path: '/api/runner/jobs/{id}/checkpoints',
      summary:
        "Runner: store a checkpoint, streamed (job token); at most limits.checkpoint_bytes, else 413 checkpoint_too_large; the job's oldest beyond checkpoints.keep are deleted",
      params: z.object({ id: z.string().min(1) }),
      query: z.object({
        name: z
          .string(
            refuse(
              'invalid_request',
              '"name" is the saved file or folder name.'
            )
          )
          .regex(
            CHECKPOINT_NAME,
            refuse(
              'invalid_request',
              '"name" must be a file or folder name: no "/", not "." or "..", at most 255 characters.'
            )
          ),
        kind: z.enum(
          ['file', 'folder'],
          refuse('invalid_request', '"kind" must be file or folder.')
        )
      }),
      upload: {
        media: ['application/octet-stream', 'application/x-tar'],
        description:
          'kind=file: the bytes (application/octet-stream); kind=folder: an uncompressed tar of regular files and folders with relative paths (application/x-tar)'
      },
      ok: { 201: { schema: Checkpoint } },
      errors: [400, 401, 413]
    }),
    runnerCheckpoint: operation({
      method: 'get',
      path: '/api/runner/jobs/{id}/checkpoints/{seq}',
      summary:
        "Runner: one of the job's checkpoints, to restore it (job token)",
      params: JobCheckpoint,
      ok: { 200: bytes },
      errors: [400, 401, 404]
    }),
    getJobCheckpoint: operation({
      method: 'get',
      path: '/api/jobs/{id}/checkpoints/{seq}',
      operationId: 'getJobCheckpoint',
      summary:
        "Download one of the job's checkpoints (owner or admin); they are listed by GET /api/jobs/{id}/files",
      params: JobCheckpoint,
      ok: { 200: bytes },
      errors: [400, 401, 404]
    })
  };
}
