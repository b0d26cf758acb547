/** Usage, prune and backup (api/contract/retention.ts, server/src/retention). */
import * as fs from 'fs';
import type { RequestHandler, Router } from 'express';
import { ApiError } from '../../errors';
import type { Retention } from '../../retention/service';
import type { ApiContract } from '../contract';
import { me, serve } from './serve';

export function mountRetentionRoutes(
  user: Router,
  contract: ApiContract['retention'],
  deps: {
    /** Absent: these routes answer 503 (an app built without a store's retention). */
    retention?: Retention;
    bodies: { control: RequestHandler };
  }
): void {
  const retention = (): Retention => {
    if (!deps.retention)
      throw new ApiError(
        503,
        'retention_unavailable',
        'This sidecar was started without its store, so it cannot measure, prune or back it up.'
      );
    return deps.retention;
  };
  const at = '/api';
  serve(user, at, contract.getUsage, (_, req) => retention().usage(me(req)));
  serve(
    user,
    at,
    contract.pruneJobs,
    ({ body }, req) =>
      retention().prune(
        me(req),
        { olderThanDays: body.older_than_days, user: body.user },
        body.dry_run
      ),
    [deps.bodies.control]
  );
  serve(user, at, contract.getBackup, async (_, req, res) => {
    const file = await retention().backupFile(me(req));
    const done = () => fs.rm(file, { force: true }, () => undefined);
    res
      .status(200)
      .type('application/vnd.sqlite3')
      .setHeader('Content-Length', String(fs.statSync(file).size));
    res.setHeader(
      'Content-Disposition',
      'attachment; filename="nbqueue-backup.db"'
    );
    const stream = fs.createReadStream(file);
    stream.on('error', err => res.destroy(err));
    res.on('close', done);
    stream.pipe(res);
    return undefined;
  });
}
