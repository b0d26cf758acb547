import type { Router } from 'express';
import * as fs from 'fs';
import type { Config } from '../config/schema';
import { ApiError, badRequest, notFound } from '../errors';
import type { JobService } from '../jobs/service';
import type { ApiContract } from '../api/contract';
import { runnerJob } from '../api/routes/runner';
import { me, serve } from '../api/routes/serve';
import { listArchive, receiveBody } from './archive';
import type { Checkpoint } from './checkpoints';
import { streamArchive } from './routes';
import type { FileStore } from './store';

const gib = (n: number): string => {
  const v = n / 1024 ** 3;
  return v >= 1 ? `${+v.toFixed(1)} GiB` : `${+(n / 1024 ** 2).toFixed(1)} MiB`;
};

const TYPES = {
  file: 'application/octet-stream',
  folder: 'application/x-tar'
} as const;

/**
 * The checkpoint routes (docs/checkpoints.md): the runner stores a job's checkpoints (its job
 * token opens only its own job) and fetches the latest to restore it; the owner (or an admin)
 * lists them with the job's files and downloads them.
 */
export function mountCheckpointRoutes(
  user: Router,
  runner: Router,
  contract: ApiContract['checkpoints'],
  {
    config,
    jobs,
    files
  }: { config: Config; jobs: JobService; files?: FileStore }
): void {
  const max = config.limits.checkpoint_bytes;
  const store = (): FileStore => {
    if (!files)
      throw new ApiError(
        503,
        'files_unavailable',
        'This sidecar was started without a place to keep job files.'
      );
    return files;
  };
  const tooLarge = () =>
    new ApiError(
      413,
      'checkpoint_too_large',
      `The checkpoint is larger than the ${gib(max)} a job may save (limits.checkpoint_bytes = ${max} bytes). Save less (the model's state_dict, not the whole process; one folder of what resuming needs) or ask the operator to raise limits.checkpoint_bytes.`
    );
  const send = async (
    res: Parameters<typeof streamArchive>[0],
    jobId: string,
    checkpoint: Checkpoint | undefined,
    seq: number
  ): Promise<undefined> => {
    if (!checkpoint)
      throw notFound(
        'unknown_checkpoint',
        `Job '${jobId}' has no checkpoint ${seq}; GET /api/jobs/${jobId}/files lists those kept (the newest ${config.checkpoints.keep}).`
      );
    const safe = checkpoint.name.replace(/[^\w.-]/g, '_');
    await streamArchive(
      res,
      store().checkpoints.filePath(jobId, checkpoint),
      checkpoint.kind === 'folder' ? `${safe}.tar` : safe,
      TYPES[checkpoint.kind]
    );
    return undefined;
  };

  serve(runner, '/api/runner', contract.runnerCheckpointPlan, (_, req) => {
    const job = runnerJob(req);
    jobs.runner.restoring(job);
    return {
      latest: files?.checkpoints.latest(job.id) ?? null,
      max_bytes: max,
      preempt_seconds: config.checkpoints.preempt_seconds
    };
  });

  serve(
    runner,
    '/api/runner',
    contract.runnerSaveCheckpoint,
    async ({ query }, req, res) => {
      const job = runnerJob(req);
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        .trim();
      if (type !== TYPES[query.kind])
        throw badRequest(
          'invalid_request',
          `A ${query.kind} checkpoint is sent with Content-Type ${TYPES[query.kind]}, not ${type || 'none'}.`
        );
      const tmp = store().tempPath();
      const bytes = await receiveBody(req, tmp, max, tooLarge).catch(err => {
        // Refused before (or while) reading: the rest of the body is not read.
        if (err instanceof ApiError && err.status === 413)
          res.setHeader('Connection', 'close');
        throw err;
      });
      let count = 1;
      try {
        if (query.kind === 'folder')
          count = (await listArchive(tmp, max, tooLarge)).length;
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        if (err instanceof ApiError && err.code === 'invalid_bundle')
          throw badRequest(
            'invalid_checkpoint',
            err.message.replace('tar.gz', 'tar')
          );
        throw err;
      }
      const stored = store().checkpoints.add(
        job.id,
        tmp,
        { name: query.name, kind: query.kind, bytes, files: count },
        config.checkpoints.keep
      );
      res.status(201);
      return stored;
    }
  );

  serve(
    runner,
    '/api/runner',
    contract.runnerCheckpoint,
    async ({ params }, req, res) => {
      const job = runnerJob(req);
      return send(
        res,
        job.id,
        files?.checkpoints.get(job.id, params.seq),
        params.seq
      );
    }
  );

  serve(
    user,
    '/api',
    contract.getJobCheckpoint,
    async ({ params }, req, res) => {
      const job = jobs.queries.getRecord(me(req), params.id);
      return send(
        res,
        job.id,
        files?.checkpoints.get(job.id, params.seq),
        params.seq
      );
    }
  );
}
