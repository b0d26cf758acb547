/**
 * The executed notebook: the runner uploads it as a file of its own (streamed to disk, its own
 * limit), its owner downloads it streamed from disk (docs/protocol.md, "Result notebook").
 */
import type { Response, Router } from 'express';
import * as fs from 'fs';
import type { Config } from '../config/schema';
import { ApiError, notFound } from '../errors';
import type { FileStore } from '../files/store';
import type { JobService } from '../jobs/service';
import { FINAL_STATES } from '../jobs/types';
import type { ApiContract } from '../api/contract';
import { runnerJob } from '../api/routes/runner';
import { me, serve } from '../api/routes/serve';
import { receiveResult } from './receive';

export interface ResultRouteDeps {
  config: Config;
  jobs: JobService;
  /** Absent: uploads answer 503 (an app built without a data directory). */
  files?: FileStore;
}

/** Streams `file` as the answer; resolves once it was sent (or the client went away). */
function streamFile(res: Response, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = fs.createReadStream(file);
    stream.once('error', reject);
    stream.once('open', fd => {
      res.status(200);
      res.setHeader('Content-Length', String(fs.fstatSync(fd).size));
      stream.pipe(res);
    });
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
  });
}

export function mountResultRoutes(
  user: Router,
  runner: Router,
  contract: { jobs: ApiContract['jobs']; runner: ApiContract['runner'] },
  { config, jobs, files }: ResultRouteDeps
): void {
  serve(runner, '/api/runner', contract.runner.runnerResult, async (_, req) => {
    const job = runnerJob(req);
    if (!files)
      throw new ApiError(
        503,
        'files_unavailable',
        'This sidecar was started without a place to keep job files.'
      );
    if (FINAL_STATES.has(job.state) && job.has_result) {
      throw new ApiError(
        409,
        'invalid_state',
        `Job '${job.id}' ended ${job.state} and its result is stored; it does not change.`
      );
    }
    const tmp = files.tempPath();
    const { bytes, sha256 } = await receiveResult(
      req,
      tmp,
      config.limits.result_bytes
    );
    files.setResult(job.id, tmp);
    jobs.runner.resultStored(job.id, bytes, sha256);
    return { bytes, sha256 };
  });

  serve(
    user,
    '/api',
    contract.jobs.getJobResult,
    async ({ params, query }, req, res) => {
      const result = jobs.queries.result(me(req), params.id);
      if (query.download === '1')
        res.setHeader(
          'Content-Disposition',
          `attachment; filename="${params.id}.ipynb"`
        );
      res.type('application/json');
      if (result.text !== undefined) {
        res.send(result.text);
        return undefined;
      }
      const file = files?.resultPath(params.id);
      if (!file || !fs.existsSync(file)) {
        res.removeHeader('Content-Disposition');
        throw notFound(
          'result_not_ready',
          `Job '${params.id}'s result notebook was deleted from the sidecar's disk.`
        );
      }
      await streamFile(res, file);
      return undefined;
    }
  );
}
