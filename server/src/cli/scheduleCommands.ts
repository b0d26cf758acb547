/** `nbqueue schedule ...`: run a notebook by cron in a time zone (docs/schedules.md). */
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import type { api } from '@nbqueue/common';
import { stripOutputs } from '../notebook/normalize';
import { CliError, Client, resolveConnection } from './client';
import { print, table } from './format';
import { parseParam } from './jobCommands';
import { readPipelineFile } from './pipelineCommands';

type Schedule = api.Schedule;
type JobSubmit = api.JobSubmit;
type PipelineSubmit = api.PipelineSubmit;

const choice =
  (name: string, values: string[]) =>
  (v: string): string => {
    if (!values.includes(v))
      throw new InvalidArgumentError(
        `${name} must be one of ${values.join(', ')}`
      );
    return v;
  };

function schedulesTable(schedules: Schedule[]): string {
  if (!schedules.length) return 'No schedules.';
  return table([
    ['ID', 'NAME', 'OWNER', 'WHEN', 'NEXT', 'LAST JOB', 'STATE'],
    ...schedules.map(s => [
      s.id,
      s.name,
      s.owner,
      s.description,
      s.next_run_at ?? '-',
      s.last_job_id ?? s.last_pipeline_id ?? '-',
      s.paused ? 'paused' : s.next_run_at ? 'active' : 'ended'
    ])
  ]);
}

/** The job a notebook file schedules, as `nbqueue submit` would send it. */
function jobOf(
  full: string,
  file: string,
  opts: {
    profile: string;
    queue?: string;
    priority?: string;
    param: Record<string, unknown>;
  }
): JobSubmit {
  let notebook: JobSubmit['notebook'];
  try {
    notebook = stripOutputs(
      JSON.parse(fs.readFileSync(full, 'utf8')) as JobSubmit['notebook']
    );
  } catch (e) {
    throw new CliError(
      `Cannot read ${file} as a notebook: ${(e as Error).message}`
    );
  }
  return {
    notebook,
    profile: opts.profile,
    queue: opts.queue,
    priority: opts.priority,
    parameters: opts.param,
    notebook_path: path.basename(full),
    cwd: path.dirname(full)
  };
}

/** A pipeline file's body, with the command line's parameters over every step's own. */
function pipelineWith(
  pipeline: PipelineSubmit,
  params: Record<string, unknown>
): PipelineSubmit {
  if (!Object.keys(params).length) return pipeline;
  return {
    ...pipeline,
    steps: pipeline.steps.map(step => ({
      ...step,
      parameters: { ...(step.parameters ?? {}), ...params }
    }))
  };
}

export function addScheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Run a notebook or a pipeline on a cron schedule, as you');

  schedule
    .command('create <file>')
    .description(
      'Schedule a notebook (its job is submitted at each firing time) or a pipeline file (.yaml, .yml or .json: the pipeline starts at each firing time)'
    )
    .requiredOption(
      '--cron <expr>',
      '5-field cron: minute hour day month weekday'
    )
    .option('--tz <zone>', 'IANA time zone the cron is read in', 'UTC')
    .option('--name <name>', 'schedule name (default: the file name)')
    .option('--profile <name>', 'resource profile (a notebook)', 'cpu')
    .option('--queue <name>', "queue (default: the profile's)")
    .option('--priority <p>', 'low, normal, high or urgent')
    .option(
      '-p, --param <name=value>',
      'parameter (JSON value or string; "{{ date }}" and "{{ datetime }}" become the firing time), for every step of a pipeline; repeat for more',
      parseParam,
      {}
    )
    .option(
      '--overlap <what>',
      'when the previous job still runs: skip, queue, cancel_previous',
      choice('--overlap', ['skip', 'queue', 'cancel_previous']),
      'skip'
    )
    .option(
      '--missed <what>',
      'firing times missed while the sidecar was down: skip, run_once',
      choice('--missed', ['skip', 'run_once']),
      'skip'
    )
    .option('--end <date-time>', 'no firing after this ISO 8601 time')
    .option('--paused', 'create it paused')
    .option('--json', 'print the schedule as JSON')
    .action(async (file: string, opts) => {
      const full = path.resolve(file);
      const client = new Client(resolveConnection());
      const s = await client.call('post', '/api/schedules', {
        body: {
          name: opts.name,
          cron: opts.cron,
          timezone: opts.tz,
          overlap: opts.overlap,
          missed: opts.missed,
          end_at: opts.end,
          paused: opts.paused ? true : undefined,
          ...(/\.(ya?ml|json)$/i.test(file)
            ? { pipeline: pipelineWith(readPipelineFile(full), opts.param) }
            : { job: jobOf(full, file, opts) })
        }
      });
      print(
        opts.json,
        s,
        () => `${s.id} ${s.description}; next ${s.next_run_at ?? '-'}`
      );
    });

  schedule
    .command('list')
    .description("List your schedules (admins: --all for everyone's)")
    .option('--all', "everyone's schedules (admins)")
    .option('--json', 'JSON output')
    .action(async opts => {
      const { schedules } = await new Client(resolveConnection()).call(
        'get',
        '/api/schedules',
        { query: { all: opts.all ? '1' : undefined } }
      );
      print(opts.json, schedules, () => schedulesTable(schedules));
    });

  for (const [verb, what] of [
    ['pause', 'Pause a schedule: nothing fires until resumed'],
    ['resume', 'Resume a schedule from the next firing time']
  ] as const)
    schedule
      .command(`${verb} <id>`)
      .description(what)
      .option('--json', 'print the schedule as JSON')
      .action(async (id: string, opts) => {
        const s = await new Client(resolveConnection()).call(
          'post',
          `/api/schedules/{id}/${verb}`,
          { id }
        );
        print(
          opts.json,
          s,
          () =>
            `${s.id} ${s.paused ? 'paused' : `next ${s.next_run_at ?? '-'}`}`
        );
      });

  schedule
    .command('delete <id>')
    .description('Delete a schedule (its jobs stay)')
    .action(async (id: string) => {
      await new Client(resolveConnection()).call(
        'delete',
        '/api/schedules/{id}',
        { id }
      );
      process.stdout.write(`${id} deleted\n`);
    });

  schedule
    .command('run-now <id>')
    .description(
      'Submit the schedule’s job (or start its pipeline) now, as its owner'
    )
    .option('--json', 'print the answer as JSON')
    .action(async (id: string, opts) => {
      const fired = await new Client(resolveConnection()).call(
        'post',
        '/api/schedules/{id}/run-now',
        { id }
      );
      print(opts.json, fired, () =>
        fired.job
          ? `${fired.job.id} queued (position ${fired.job.position ?? '-'} in ${fired.job.queue})`
          : `pipeline ${String(fired.pipeline?.id)} started`
      );
    });
}
