/**
 * Bounded storage: which finished jobs go (retention.days, retention.max_bytes_per_user, or an
 * admin's prune), the one path that deletes a job (its rows in one transaction, then its files
 * on disk), and what each user's jobs take.
 */
import * as fs from 'fs';
import * as path from 'path';
import { setImmediate as nextTurn } from 'timers/promises';
import type { Identity } from '../auth/auth';
import { ApiError, badRequest } from '../errors';
import type { RemovableJob, RetentionTable } from './table';

export interface RetentionSettings {
  /** Finished jobs that ended more than this many days ago go; null: kept. */
  days: number | null;
  /** A user holding more bytes loses their oldest finished jobs until under; null: no cap. */
  max_bytes_per_user: number | null;
  /** Jobs deleted per transaction; the event loop gets a turn between two. */
  batch_size: number;
}

export interface RetentionOptions {
  table: RetentionTable;
  settings: RetentionSettings;
  /** The files folder: archives are named relative to it; a job's own folder is jobs/<id>. */
  filesDir: string;
  /** The local backend's runner logs (<id>.log); absent on Kubernetes. */
  logDir?: string;
  now?: () => Date;
  log?: (message: string) => void;
}

/** Which jobs a prune looks at; without olderThanDays the configured retention applies. */
export interface PruneCriteria {
  olderThanDays?: number;
  user?: string;
}

export interface UserUsage {
  user: string;
  jobs: number;
  bytes: number;
}

const DAY_MS = 24 * 3600 * 1000;

/** The bytes of the files under `p` (a file or a folder); 0 when there is nothing. */
function sizeOnDisk(p: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.isFile() ? stat.size : 0;
  let total = 0;
  for (const entry of fs.readdirSync(p))
    total += sizeOnDisk(path.join(p, entry));
  return total;
}

export class Retention {
  private readonly now: () => Date;
  private readonly log: (message: string) => void;
  /** False once the sidecar closes: a removal in progress stops after its batch. */
  private open = true;

  constructor(private readonly options: RetentionOptions) {
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (message => console.error(message));
  }

  get settings(): RetentionSettings {
    return this.options.settings;
  }

  /** A job's own folder in the files folder (checkpoints, result files): deleted with it. */
  jobDir(id: string): string {
    return path.join(this.options.filesDir, 'jobs', id);
  }

  /** What a job holds on disk besides its archives: its folder and its runner log. */
  private diskBytes(id: string): number {
    const { logDir } = this.options;
    return (
      sizeOnDisk(this.jobDir(id)) +
      sizeOnDisk(path.join(this.options.filesDir, 'checkpoints', id)) +
      (logDir ? sizeOnDisk(path.join(logDir, `${id}.log`)) : 0)
    );
  }

  /**
   * The finished jobs that would go now: those that ended before the age limit (the prune's
   * olderThanDays, else retention.days), then (configured retention only) each user's oldest
   * until what they hold is under retention.max_bytes_per_user. Oldest first.
   */
  plan(criteria: PruneCriteria = {}): RemovableJob[] {
    const days = criteria.olderThanDays ?? this.settings.days;
    const chosen = new Map<string, RemovableJob>();
    const withDisk = (j: RemovableJob): RemovableJob => ({
      ...j,
      bytes: j.bytes + this.diskBytes(j.id)
    });
    if (days !== null) {
      const endedBefore = new Date(
        this.now().getTime() - days * DAY_MS
      ).toISOString();
      for (const j of this.options.table.removable({
        endedBefore,
        owner: criteria.user
      }))
        chosen.set(j.id, withDisk(j));
    }
    const cap = this.settings.max_bytes_per_user;
    if (criteria.olderThanDays === undefined && cap !== null) {
      const owners =
        criteria.user === undefined
          ? this.options.table.owners()
          : [criteria.user];
      for (const owner of owners) {
        let held = this.usageOf(owner).bytes;
        for (const j of chosen.values()) if (j.owner === owner) held -= j.bytes;
        if (held <= cap) continue;
        for (const j of this.options.table.removable({ owner })) {
          if (held <= cap) break;
          if (chosen.has(j.id)) continue;
          const job = withDisk(j);
          chosen.set(j.id, job);
          held -= job.bytes;
        }
      }
    }
    return [...chosen.values()].sort((a, b) =>
      a.finished_at < b.finished_at ? -1 : a.finished_at > b.finished_at ? 1 : 0
    );
  }

  /**
   * The one way a job is deleted: its rows in one transaction (table.deleteRows: the job, its
   * events, metrics, result, archives' rows, pipeline and schedule links), then its files (its
   * archives, its folder, its runner log). A job that is no longer finished is skipped.
   * `batch_size` jobs per transaction, with a turn of the event loop between two. Returns the
   * ids deleted.
   */
  async remove(ids: string[]): Promise<string[]> {
    const removed: string[] = [];
    const size = this.settings.batch_size;
    for (let at = 0; at < ids.length && this.open; at += size) {
      if (at) await nextTurn();
      if (!this.open) break;
      for (const job of this.options.table.deleteRows(
        ids.slice(at, at + size)
      )) {
        const paths = [
          ...job.archives.map(a => path.join(this.options.filesDir, a)),
          this.jobDir(job.id),
          // Its checkpoints (files/checkpoints.ts keeps them apart from the job's folder).
          path.join(this.options.filesDir, 'checkpoints', job.id)
        ];
        if (this.options.logDir)
          paths.push(path.join(this.options.logDir, `${job.id}.log`));
        for (const p of paths) {
          try {
            fs.rmSync(p, { recursive: true, force: true });
          } catch (err) {
            // The rows are gone already: a file left behind is only space, said in the log.
            this.log(
              `nbqueue retention: could not delete ${p} of job ${job.id}: ${(err as Error).message}`
            );
          }
        }
        removed.push(job.id);
      }
    }
    return removed;
  }

  /** Deletes what retention.* says should go now, and logs it. */
  async sweep(): Promise<string[]> {
    const { days, max_bytes_per_user } = this.settings;
    if (days === null && max_bytes_per_user === null) return [];
    const planned = this.plan();
    if (!planned.length) return [];
    const removed = await this.remove(planned.map(j => j.id));
    const gone = new Set(removed);
    const bytes = planned
      .filter(j => gone.has(j.id))
      .reduce((s, j) => s + j.bytes, 0);
    const shown = removed.slice(0, 20).join(', ');
    this.log(
      `nbqueue retention: deleted ${removed.length} finished job(s), about ${bytes} bytes: ${shown}${removed.length > 20 ? ', …' : ''}`
    );
    return removed;
  }

  /** An admin's prune: a dry run lists what would go; otherwise it goes. */
  async prune(
    who: Identity,
    criteria: PruneCriteria,
    dryRun: boolean
  ): Promise<{ dry_run: boolean; jobs: RemovableJob[]; bytes: number }> {
    if (!who.admin)
      throw new ApiError(
        403,
        'forbidden',
        'Only admins may prune jobs; ask an admin of this nbqueue to run `nbqueue prune`.'
      );
    const { days, max_bytes_per_user } = this.settings;
    if (
      criteria.olderThanDays === undefined &&
      days === null &&
      max_bytes_per_user === null
    )
      throw badRequest(
        'nothing_to_prune_by',
        'Say which jobs to prune: give older_than_days (`nbqueue prune --older-than DAYS`), or set retention.days or retention.max_bytes_per_user in the configuration.'
      );
    let jobs = this.plan(criteria);
    if (!dryRun) {
      const gone = new Set(await this.remove(jobs.map(j => j.id)));
      jobs = jobs.filter(j => gone.has(j.id));
      this.log(
        `nbqueue retention: ${who.user} pruned ${jobs.length} finished job(s): ${jobs
          .slice(0, 20)
          .map(j => j.id)
          .join(', ')}${jobs.length > 20 ? ', …' : ''}`
      );
    }
    return {
      dry_run: dryRun,
      jobs,
      bytes: jobs.reduce((s, j) => s + j.bytes, 0)
    };
  }

  /** What `owner`'s jobs and files take: rows, archives, job folders and runner logs. */
  private usageOf(owner: string): UserUsage {
    const rows = this.options.table.ownerBytes(owner);
    let bytes = rows.bytes;
    for (const id of rows.ids) bytes += this.diskBytes(id);
    return { user: owner, jobs: rows.jobs, bytes };
  }

  /** The caller's usage; an admin also gets every user's, largest first. */
  usage(who: Identity): { user: UserUsage; users: UserUsage[] } {
    const mine = this.usageOf(who.user);
    if (!who.admin) return { user: mine, users: [mine] };
    const users = this.options.table
      .owners()
      .map(owner => (owner === who.user ? mine : this.usageOf(owner)))
      .sort((a, b) => b.bytes - a.bytes || a.user.localeCompare(b.user));
    return { user: mine, users };
  }

  /**
   * Writes a consistent copy of the store to a new file in the files folder's tmp/ (0700, the
   * store's data is everyone's) and answers its path; the caller deletes it once sent.
   */
  async backupFile(who: Identity): Promise<string> {
    if (!who.admin)
      throw new ApiError(
        403,
        'forbidden',
        'Only admins may back up the store; ask an admin of this nbqueue to run `nbqueue backup`.'
      );
    const dir = path.join(this.options.filesDir, 'tmp');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(
      dir,
      `backup-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.db`
    );
    try {
      await this.options.table.backup(file);
    } catch (err) {
      fs.rmSync(file, { force: true });
      throw err;
    }
    return file;
  }

  /** The sidecar is closing: removals stop after their current batch. */
  close(): void {
    this.open = false;
  }
}
