/** Working files (docs/protocol.md, "Working files"): input bundles and output files. */
import { z } from 'zod/v4';
import { Checkpoint } from './checkpoints';
import { JobId, operation } from './operation';

export const FileEntry = z.object({ path: z.string(), size: z.int() });

export const LeftOut = z.object({
  path: z.string(),
  size: z.int().nullable(),
  reason: z.string()
});

export const StoredFiles = z
  .object({
    bytes: z.int().describe('Size of the tar.gz'),
    total_bytes: z.int().describe("Sum of the files' sizes"),
    files: z.array(FileEntry),
    left_out: z
      .array(LeftOut)
      .describe('Files the job wrote that did not come back, and why'),
    created_at: z.string().meta({ format: 'date-time' })
  })
  .nullable();

const archive = {
  media: 'application/gzip',
  description: 'The files as a tar.gz'
};

export function fileOperations() {
  return {
    uploadBundle: operation({
      method: 'post',
      path: '/api/files/bundles',
      operationId: 'uploadBundle',
      summary:
        "Upload the notebook's directory as a tar.gz before submitting (streamed, size-capped); submit with input_bundle: id",
      upload: {
        media: 'application/gzip',
        description:
          'tar.gz of regular files with relative paths; at most files.max_input_bytes of files'
      },
      ok: {
        201: {
          schema: z.object({
            id: z.string(),
            bytes: z.int(),
            total_bytes: z.int(),
            files: z.int()
          })
        }
      },
      errors: [400, 401, 409, 413]
    }),
    getJobFiles: operation({
      method: 'get',
      path: '/api/jobs/{id}/files',
      operationId: 'getJobFiles',
      summary:
        "The job's input and output files and its checkpoints, newest first (owner or admin)",
      params: JobId,
      ok: {
        200: {
          schema: z.object({
            input: StoredFiles,
            output: StoredFiles,
            checkpoints: z.array(Checkpoint)
          })
        }
      },
      errors: [401, 404]
    }),
    getJobOutputFiles: operation({
      method: 'get',
      path: '/api/jobs/{id}/files/output',
      operationId: 'getJobOutputFiles',
      summary:
        'The files the job wrote, as a tar.gz (owner or admin); 409 until the job ended, then 404 no_output_files if it brought none back',
      params: JobId,
      ok: { 200: archive },
      errors: [401, 404, 409]
    }),
    runnerFilesPlan: operation({
      method: 'get',
      path: '/api/runner/jobs/{id}/files',
      summary:
        'Runner: the files plan: input bundle, working_dir, whether and how much to collect (job token)',
      params: JobId,
      ok: {
        200: {
          schema: z.object({
            input: z
              .object({ bytes: z.int(), total_bytes: z.int(), files: z.int() })
              .nullable(),
            working_dir: z.string().nullable(),
            collect_outputs: z.boolean(),
            max_output_bytes: z.int()
          })
        }
      },
      errors: [401]
    }),
    runnerInputFiles: operation({
      method: 'get',
      path: '/api/runner/jobs/{id}/files/input',
      summary: "Runner: the job's input bundle (job token)",
      params: JobId,
      ok: { 200: archive },
      errors: [401, 404]
    }),
    runnerOutputFiles: operation({
      method: 'put',
      path: '/api/runner/jobs/{id}/files/output',
      summary:
        'Runner: store the files the job wrote, replacing any earlier upload (job token); X-Nbqueue-Left-Out: URI-encoded JSON of what was left out',
      params: JobId,
      upload: {
        media: 'application/gzip',
        description: 'tar.gz of the files the job created or modified'
      },
      ok: { 200: { schema: z.object({ files: z.int(), bytes: z.int() }) } },
      errors: [400, 401, 413]
    })
  };
}

/**
 * The X-Nbqueue-Left-Out header of an output upload (URI-encoded JSON): what the runner left
 * out; entries that are not one are skipped, at most 1000 are kept.
 */
export const LeftOutHeader = z
  .array(z.unknown())
  .catch([])
  .transform(entries =>
    entries
      .flatMap(entry => {
        const read = z
          .object({
            path: z.string(),
            size: z.number().nullable().catch(null),
            reason: z.string()
          })
          .safeParse(entry);
        return read.success ? [read.data] : [];
      })
      .slice(0, 1000)
  );
