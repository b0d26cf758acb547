/** Admin commands for bounded storage: prune finished jobs, back up the store. */
import { Command, InvalidArgumentError } from 'commander';
import * as path from 'path';
import { humanBytes } from '@nbqueue/common';
import type { api } from '@nbqueue/common';
import { Client, resolveConnection } from './client';
import { print, table } from './format';

type UserUsage = api.UserUsage;

const days = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(
      `"${v}" is not a whole number of days (1 or more)`
    );
  return n;
};

/** `Your jobs use 1.2 MB (3 jobs).`, and every user's for an admin. */
export function usageText(usage: {
  user: UserUsage;
  users: UserUsage[];
}): string {
  const lines = [
    `Your jobs use ${humanBytes(usage.user.bytes)} (${usage.user.jobs} job${usage.user.jobs === 1 ? '' : 's'}).`
  ];
  const others = usage.users.filter(u => u.user !== usage.user.user);
  if (others.length)
    lines.push(
      '',
      table([
        ['USER', 'JOBS', 'SIZE'],
        ...usage.users.map(u => [u.user, String(u.jobs), humanBytes(u.bytes)])
      ])
    );
  return lines.join('\n');
}

export function addAdminCommands(program: Command): void {
  program
    .command('prune')
    .description(
      'Admins: list the finished jobs retention would delete (or those older than --older-than); --yes deletes them'
    )
    .option(
      '--older-than <days>',
      'jobs that ended more than DAYS ago (default: the retention.* settings)',
      days
    )
    .option('--user <name>', "only this user's jobs")
    .option('--yes', 'delete them (without it: a dry run that deletes nothing)')
    .option('--json', 'JSON output')
    .action(async opts => {
      const answer = await new Client(resolveConnection()).call(
        'post',
        '/api/admin/prune',
        {
          body: {
            older_than_days: opts.olderThan,
            user: opts.user,
            dry_run: !opts.yes
          }
        }
      );
      print(opts.json, answer, () => {
        if (!answer.jobs.length) return 'No finished jobs to prune.';
        const rows = table([
          ['ID', 'OWNER', 'STATE', 'ENDED', 'SIZE', 'NAME'],
          ...answer.jobs.map(j => [
            j.id,
            j.owner,
            j.state,
            j.finished_at.replace('T', ' ').slice(0, 19),
            humanBytes(j.bytes),
            j.name
          ])
        ]);
        const n = `${answer.jobs.length} job${answer.jobs.length === 1 ? '' : 's'}`;
        return answer.dry_run
          ? `${rows}\nWould delete ${n}, freeing about ${humanBytes(answer.bytes)}. Run again with --yes to delete them.`
          : `${rows}\nDeleted ${n}, freeing about ${humanBytes(answer.bytes)}.`;
      });
    });

  program
    .command('backup <file>')
    .description(
      "Admins: a consistent copy of the sidecar's store (SQLite), made while it runs"
    )
    .action(async (file: string) => {
      const full = path.resolve(file);
      const bytes = await new Client(resolveConnection()).saveAs(
        '/api/admin/backup',
        full
      );
      process.stdout.write(
        `Backed up the store to ${full} (${humanBytes(bytes)}). The files folder is not in it: see docs/operations.md.\n`
      );
    });
}
