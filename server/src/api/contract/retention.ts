/**
 * Bounded storage (server/src/retention, docs/operations.md): what each user's jobs take, and
 * the admins' prune and backup of the store.
 */
import { z } from 'zod/v4';
import type { Config } from '../../config/schema';
import { operation, refuse } from './operation';

export const UserUsage = z.object({
  user: z.string(),
  jobs: z.int().describe('Jobs of this user kept in the store, of any state'),
  bytes: z
    .int()
    .describe(
      "About how many bytes they take: the stored notebooks, results, events and metrics, and the user's files (archives, job folders, runner logs)"
    )
});

export const PrunedJob = z.object({
  id: z.string(),
  owner: z.string(),
  name: z.string(),
  state: z.string(),
  finished_at: z.string().meta({ format: 'date-time' }),
  bytes: z.int()
});

/**
 * A prune says which jobs by age, or leaves it to the retention.* settings: where none is set,
 * `older_than_days` is required (the document says so for this sidecar).
 */
function pruneBody(config: Config) {
  const { days, max_bytes_per_user } = config.retention;
  const byRetention = days !== null || max_bytes_per_user !== null;
  const notDays = (input: unknown) =>
    input === undefined
      ? 'Say which jobs to prune: give "older_than_days" (`nbqueue prune --older-than DAYS`); no retention.days or retention.max_bytes_per_user is set to go by.'
      : '"older_than_days" must be a whole number of days, 1 to 36500.';
  const olderThan = z
    .int(refuse('invalid_request', notDays))
    .min(1, refuse('invalid_request', notDays))
    .max(36500, refuse('invalid_request', notDays))
    .describe(
      byRetention
        ? 'Jobs that ended more than this many days ago; absent: what retention.days and retention.max_bytes_per_user would delete now'
        : 'Jobs that ended more than this many days ago (required: no retention.* setting is set)'
    );
  return {
    body: z.object(
      {
        older_than_days: byRetention ? olderThan.optional() : olderThan,
        user: z.string().min(1).optional().describe("Only this user's jobs"),
        dry_run: z
          .boolean(
            refuse('invalid_request', '"dry_run" must be true or false.')
          )
          .default(true)
          .describe('true (the default): list what would go and delete nothing')
      },
      refuse('invalid_request', 'The request body must be a JSON object.')
    ),
    bodyOptional: byRetention
  };
}

export function retentionOperations(config: Config) {
  return {
    UserUsage,
    PrunedJob,
    getUsage: operation({
      method: 'get',
      path: '/api/usage',
      operationId: 'getUsage',
      summary:
        "What the caller's jobs take in the store (admins: every user's too)",
      ok: {
        200: {
          schema: z.object({
            user: UserUsage.describe("The caller's"),
            users: z
              .array(UserUsage)
              .describe(
                "Admins: every user's, largest first; others: their own"
              )
          })
        }
      },
      errors: [401, 503]
    }),
    pruneJobs: operation({
      method: 'post',
      path: '/api/admin/prune',
      operationId: 'pruneJobs',
      summary:
        'Admins: delete finished jobs (with their notebooks, results, events, metrics and files) by age and user; a dry run by default',
      description:
        'Queued, running and held jobs, and the jobs of a pipeline still running, are never deleted. 400 nothing_to_prune_by: no older_than_days and no retention.* setting. 403 forbidden: not an admin.',
      ...pruneBody(config),
      ok: {
        200: {
          schema: z.object({
            dry_run: z.boolean(),
            jobs: z
              .array(PrunedJob)
              .describe(
                'Deleted (or, in a dry run, to be deleted), oldest first'
              ),
            bytes: z.int().describe('About how many bytes they took')
          })
        }
      },
      errors: [400, 401, 403, 503]
    }),
    getBackup: operation({
      method: 'get',
      path: '/api/admin/backup',
      operationId: 'getBackup',
      summary:
        "Admins: a consistent copy of the store's SQLite file, made with SQLite's online backup while the sidecar runs (the files folder is not in it)",
      ok: {
        200: {
          media: 'application/vnd.sqlite3',
          description: 'The SQLite database file'
        }
      },
      errors: [401, 403, 503]
    })
  };
}
