import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { stripOutputs } from '../notebook/normalize';
import { CliError, Client, resolveConnection } from './client';
import { follow } from './follow';
import { usageText } from './adminCommands';
import { jobStatus, jobsTable, print, queuesTable } from './format';
import type { api } from '@nbqueue/common';

type Job = api.Job;
type JobPage = api.JobPage;
type JobSubmit = api.JobSubmit;

/** `-p name=value`: the value is JSON when it parses as JSON, else a string. */
export function parseParam(
  raw: string,
  acc: Record<string, unknown>
): Record<string, unknown> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${raw}" is not name=value`);
  const value = raw.slice(eq + 1);
  let parsed: unknown = value;
  try {
    parsed = JSON.parse(value);
  } catch {
    /* a plain string */
  }
  return { ...acc, [raw.slice(0, eq)]: parsed };
}

/** Submit, list and act on jobs. */
export function addJobCommands(program: Command): void {
  program
    .command('submit <notebook>')
    .description('Submit a notebook file as a job')
    .option('--profile <name>', 'resource profile', 'cpu')
    .option('--queue <name>', "queue (default: the profile's)")
    .option('--priority <p>', 'low, normal, high or urgent')
    .option('--name <name>', 'job name (default: file name and time)')
    .option(
      '--deadline <seconds>',
      "longest run time in seconds (default: the profile's)",
      (v: string) => Number(v)
    )
    .option(
      '-p, --param <name=value>',
      'parameter (JSON value or string); repeat for more',
      parseParam,
      {}
    )
    .option(
      '--follow',
      'print outputs as they arrive; exit non-zero if the job fails'
    )
    .option('--json', 'print the job as JSON')
    .action(async (file: string, opts) => {
      const full = path.resolve(file);
      let notebook: JobSubmit['notebook'];
      try {
        // Outputs stay home: a run starts without them, and they can be most of the file.
        notebook = stripOutputs(
          JSON.parse(fs.readFileSync(full, 'utf8')) as JobSubmit['notebook']
        );
      } catch (e) {
        throw new CliError(
          `Cannot read ${file} as a notebook: ${(e as Error).message}`
        );
      }
      const client = new Client(resolveConnection());
      const job = await client.call('post', '/api/jobs', {
        body: {
          notebook,
          profile: opts.profile,
          queue: opts.queue,
          priority: opts.priority,
          name: opts.name,
          parameters: opts.param,
          deadline_seconds: opts.deadline,
          notebook_path: path.basename(full),
          cwd: path.dirname(full)
        }
      });
      if (!opts.follow) {
        print(
          opts.json,
          job,
          () =>
            `${job.id} queued (position ${job.position ?? '-'} in ${job.queue})`
        );
        return;
      }
      if (!opts.json)
        process.stderr.write(`[nbqueue] ${job.id} queued in ${job.queue}\n`);
      const end = await follow(client, job.id);
      if (opts.json) print(true, end, () => '');
      else
        process.stderr.write(
          `[nbqueue] ${end.id} ${end.state}${end.reason ? `: ${end.reason}` : ''}\n`
        );
      if (end.state !== 'succeeded') process.exitCode = 1;
    });

  program
    .command('queues')
    .description('List the queues with their running and queued jobs')
    .option('--json', 'JSON output')
    .action(async opts => {
      const client = new Client(resolveConnection());
      const { queues } = await client.call('get', '/api/queues');
      const usage = await client.call('get', '/api/usage');
      // --json stays the list of queues it always was; the usage is for people.
      print(
        opts.json,
        queues,
        () => `${queuesTable(queues)}\n\n${usageText(usage)}`
      );
    });

  program
    .command('jobs')
    .description("List your jobs (admins: --all for everyone's)")
    .option('--all', "everyone's jobs (admins)")
    .option('--state <states>', 'comma-separated states to show')
    .option('--queue <queue>', 'only this queue')
    .option('--json', 'JSON output')
    .action(async opts => {
      const client = new Client(resolveConnection());
      const jobs: Job[] = [];
      let cursor: number | null = 0;
      while (cursor !== null) {
        const page: JobPage = await client.call('get', '/api/jobs', {
          query: {
            state: opts.state?.split(','),
            queue: opts.queue || undefined,
            all: opts.all ? '1' : undefined,
            cursor
          }
        });
        jobs.push(...page.jobs);
        cursor = page.next_cursor;
      }
      print(opts.json, jobs, () => jobsTable(jobs));
    });

  program
    .command('status <id>')
    .description('Show one job: its state, why, its attempt and its restarts')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const job = await new Client(resolveConnection()).call(
        'get',
        '/api/jobs/{id}',
        { id }
      );
      print(opts.json, job, () => jobStatus(job));
    });

  /** A command that POSTs one job operation and prints the job it answers. */
  const jobAction = (
    name: string,
    description: string,
    path: '/api/jobs/{id}/hold' | '/api/jobs/{id}/release',
    say: (job: Job) => string
  ) =>
    program
      .command(`${name} <id>`)
      .description(description)
      .option('--json', 'JSON output')
      .action(async (id: string, opts) => {
        const job = await new Client(resolveConnection()).call('post', path, {
          id
        });
        print(opts.json, job, () => say(job));
      });
  jobAction(
    'hold',
    'Hold a queued job: it keeps its place but does not start',
    '/api/jobs/{id}/hold',
    j => `${j.id} held`
  );
  jobAction(
    'release',
    'Release a held job',
    '/api/jobs/{id}/release',
    j => `${j.id} released (position ${j.position ?? '-'})`
  );

  program
    .command('rerun <id>')
    .description(
      'Queue a finished job again with the same notebook and parameters'
    )
    .option('--profile <name>', 'run it on another profile')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const job = await new Client(resolveConnection()).call(
        'post',
        '/api/jobs/{id}/rerun',
        { id, body: { profile: opts.profile } }
      );
      print(
        opts.json,
        job,
        () =>
          `${job.id} queued (re-run of ${id}, position ${job.position ?? '-'} in ${job.queue})`
      );
    });

  program
    .command('move <id>')
    .description('Move a queued job to another queue')
    .requiredOption('--queue <queue>', 'the queue to move it to')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const job = await new Client(resolveConnection()).call(
        'post',
        '/api/jobs/{id}/move',
        { id, body: { queue: opts.queue } }
      );
      print(
        opts.json,
        job,
        () =>
          `${job.id} moved to ${job.queue} (position ${job.position ?? '-'})`
      );
    });

  program
    .command('priority <id> <priority>')
    .description(
      'Change the priority of a queued job (low, normal, high; admins also urgent)'
    )
    .option('--json', 'JSON output')
    .action(async (id: string, priority: string, opts) => {
      const job = await new Client(resolveConnection()).call(
        'post',
        '/api/jobs/{id}/priority',
        { id, body: { priority } }
      );
      print(
        opts.json,
        job,
        () =>
          `${job.id} priority ${job.priority} (position ${job.position ?? '-'})`
      );
    });

  program
    .command('reorder <id>')
    .description(
      'Move one of your queued jobs among your own jobs in its queue'
    )
    .option('--front', 'before all your other jobs')
    .option('--back', 'after all your other jobs')
    .option('--before <other>', 'just before another of your jobs')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const where = [opts.front, opts.back, opts.before].filter(Boolean).length;
      if (where !== 1)
        throw new CliError(
          'Say where, once: --front, --back or --before OTHER.'
        );
      const body: { before: string } | { to: 'front' | 'back' } = opts.before
        ? { before: opts.before }
        : { to: opts.front ? 'front' : 'back' };
      const job = await new Client(resolveConnection()).call(
        'post',
        '/api/jobs/{id}/reorder',
        { id, body: body }
      );
      print(
        opts.json,
        job,
        () => `${job.id} now at position ${job.position ?? '-'} in ${job.queue}`
      );
    });
}
