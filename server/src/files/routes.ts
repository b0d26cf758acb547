import type { Request, Response, Router } from 'express';
import * as fs from 'fs';
import * as path from 'path';
import type { Identity } from '../auth/auth';
import type { Config } from '../config/schema';
import { ApiError, badRequest, notFound } from '../errors';
import type { JobService } from '../jobs/service';
import { FINAL_STATES } from '../jobs/types';
import type { ApiContract } from '../api/contract';
import { LeftOutHeader } from '../api/contract/files';
import { runnerJob } from '../api/routes/runner';
import { me, serve } from '../api/routes/serve';
import {
  FileEntry,
  LeftOut,
  listArchive,
  receiveBody,
  tooLarge
} from './archive';
import { FileStore, INPUT_ID, StoredFiles } from './store';

/** Inputs uploaded but never used by a submit are deleted after this long. */
const UNUSED_INPUT_MS = 24 * 3600 * 1000;
/** Room for tar headers and incompressible data: the limits are on the files' own sizes. */
const ARCHIVE_SLACK = 1024 * 1024;

export interface FileRouteDeps {
  config: Config;
  jobs: JobService;
  /** Absent: every files route answers 503 (an app built without a data directory). */
  files?: FileStore;
}

/** What the API says about stored files (no disk paths). */
export function describeFiles(
  stored: StoredFiles | undefined
): Record<string, unknown> | null {
  if (!stored) return null;
  return {
    bytes: stored.bytes,
    total_bytes: stored.total_bytes,
    files: stored.files,
    left_out: stored.left_out,
    created_at: stored.created_at
  };
}

/** POST /api/jobs may name an uploaded input bundle; it must exist and be the caller's. */
export function checkInputBundle(
  files: FileStore | undefined,
  who: Identity,
  id: string | undefined
): void {
  if (!id) return;
  const unknown = badRequest(
    'unknown_bundle',
    `There is no uploaded bundle ${JSON.stringify(id)} of yours. Upload the notebook's files with POST /api/files/bundles first, then submit with the id it answers.`
  );
  if (!INPUT_ID.test(id) || !files) throw unknown;
  const input = files.input(id);
  if (!input || input.owner !== who.user) throw unknown;
}

export function streamArchive(
  res: Response,
  file: string,
  name: string,
  type = 'application/gzip'
): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = fs.createReadStream(file);
    stream.once('error', reject);
    stream.once('open', () => {
      res.status(200);
      res.type(type);
      res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
      res.setHeader('Content-Length', String(fs.statSync(file).size));
      stream.pipe(res);
    });
    res.once('finish', () => resolve());
    res.once('close', () => resolve());
  });
}

function parseLeftOut(header: string | undefined): LeftOut[] {
  if (!header) return [];
  let value: unknown;
  try {
    value = JSON.parse(decodeURIComponent(header));
  } catch {
    throw badRequest(
      'invalid_request',
      'The X-Nbqueue-Left-Out header must be URI-encoded JSON: [{"path", "size", "reason"}].'
    );
  }
  return LeftOutHeader.parse(value);
}

/**
 * The working-files routes (docs/protocol.md, "Working files"): input bundles uploaded at
 * submit, fetched by the runner; output files uploaded by the runner, fetched by the owner.
 */
export function mountFileRoutes(
  user: Router,
  runner: Router,
  contract: ApiContract['files'],
  { config, jobs, files }: FileRouteDeps
): void {
  const settings = config.files;
  const store = (): FileStore => {
    if (!files)
      throw new ApiError(
        503,
        'files_unavailable',
        'This sidecar was started without a place to keep job files.'
      );
    return files;
  };
  const receive = async (
    req: Request,
    max: number,
    tooBig: () => ApiError
  ): Promise<{ tmp: string; bytes: number; entries: FileEntry[] }> => {
    const tmp = store().tempPath();
    const bytes = await receiveBody(req, tmp, max + ARCHIVE_SLACK, tooBig);
    try {
      return { tmp, bytes, entries: await listArchive(tmp, max, tooBig) };
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  };

  serve(user, '/api', contract.uploadBundle, async (_, req, res) => {
    if (!settings.bundle) {
      throw new ApiError(
        409,
        'files_not_bundled',
        `This sidecar does not take working files: jobs run in ${settings.working_dir ?? "the notebook's own directory"} (shared storage). Submit without a bundle.`
      );
    }
    const tooBig = () =>
      tooLarge(
        "The notebook's files",
        settings.max_input_bytes,
        'Add the largest files or folders to .nbqueueignore (gitignore syntax) next to the notebook and submit again.'
      );
    const { tmp, bytes, entries } = await receive(
      req,
      settings.max_input_bytes,
      tooBig
    );
    const stored = store().addInput(me(req).user, tmp, bytes, entries);
    store().sweepInputs(UNUSED_INPUT_MS);
    res.status(201);
    return {
      id: stored.id,
      bytes: stored.bytes,
      total_bytes: stored.total_bytes,
      files: stored.files.length
    };
  });
  serve(user, '/api', contract.getJobFiles, ({ params }, req) => {
    const job = jobs.queries.getRecord(me(req), params.id);
    const input = job.spec.input_bundle
      ? files?.input(job.spec.input_bundle)
      : undefined;
    return {
      input: describeFiles(input),
      output: describeFiles(files?.output(job.id)),
      checkpoints: files?.checkpoints.list(job.id) ?? []
    };
  });
  serve(
    user,
    '/api',
    contract.getJobOutputFiles,
    async ({ params }, req, res) => {
      const job = jobs.queries.getRecord(me(req), params.id);
      const output = store().output(job.id);
      if (!output) {
        if (!FINAL_STATES.has(job.state))
          throw new ApiError(
            409,
            'invalid_state',
            `Job '${job.id}' is ${job.state}; its files come back when it ends.`
          );
        throw notFound(
          'no_output_files',
          `Job '${job.id}' brought back no files: it wrote none in its working directory${settings.collect_outputs ? '' : ' (this sidecar does not collect them: files.collect_outputs is false)'}.`
        );
      }
      await streamArchive(
        res,
        store().archivePath(output),
        `${job.id}-files.tar.gz`
      );
      return undefined;
    }
  );

  serve(runner, '/api/runner', contract.runnerFilesPlan, (_, req) => {
    const job = runnerJob(req);
    const input = job.spec.input_bundle
      ? files?.input(job.spec.input_bundle)
      : undefined;
    const shared =
      !settings.bundle && settings.working_dir
        ? path.posix.join(
            settings.working_dir,
            path.posix.dirname(job.spec.notebook_path ?? '.')
          )
        : null;
    return {
      input: input
        ? {
            bytes: input.bytes,
            total_bytes: input.total_bytes,
            files: input.files.length
          }
        : null,
      working_dir: shared,
      collect_outputs: settings.collect_outputs,
      max_output_bytes: settings.max_output_bytes
    };
  });
  serve(
    runner,
    '/api/runner',
    contract.runnerInputFiles,
    async (_, req, res) => {
      const job = runnerJob(req);
      const input = job.spec.input_bundle
        ? files?.input(job.spec.input_bundle)
        : undefined;
      if (!input)
        throw notFound(
          'no_input_files',
          `Job '${job.id}' was submitted without working files.`
        );
      await streamArchive(
        res,
        store().archivePath(input),
        `${input.id}.tar.gz`
      );
      return undefined;
    }
  );
  serve(runner, '/api/runner', contract.runnerOutputFiles, async (_, req) => {
    const job = runnerJob(req);
    const leftOut = parseLeftOut(req.header('x-nbqueue-left-out'));
    const tooBig = () =>
      tooLarge(
        "The job's output files",
        settings.max_output_bytes,
        'The runner leaves out what does not fit; this upload went past the limit.'
      );
    const { tmp, bytes, entries } = await receive(
      req,
      settings.max_output_bytes,
      tooBig
    );
    const stored = store().setOutput(
      job.id,
      job.owner,
      tmp,
      bytes,
      entries,
      leftOut
    );
    return { files: stored.files.length, bytes: stored.bytes };
  });
}
