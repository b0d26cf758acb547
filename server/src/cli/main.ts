import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, loadConfigFile } from '../config/load';
import type { JobEvent, JobView } from '../jobs/types';
import { checkRunnerPython } from '../backends/preflight';
import { startSidecar } from '../server';
import { clearState, defaultStateFile, writeState } from '../statefile';
import { VERSION } from '../version';
import { CliError, Client, resolveConnection } from './client';
import { jobsTable, outputText, queuesTable } from './format';
import { extractArchive } from '../files/extract';
import { stripOutputs } from '../notebook/normalize';
import { filesText, JobFilesListing } from '../files/listing';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** `-p name=value`: the value is JSON when it parses as JSON, else a string. */
function parseParam(
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

function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(
    json ? JSON.stringify(data, null, 2) + '\n' : human() + '\n'
  );
}

/** Prints a job's outputs as they arrive; resolves with the job's final state. */
export function follow(
  client: Client,
  jobId: string,
  out = process.stdout,
  err = process.stderr
): Promise<JobView> {
  return new Promise((resolve, reject) => {
    const socket = client.socket();
    let last = 0;
    let done = false;
    const finish = (job: JobView) => {
      if (done) return;
      done = true;
      socket.close();
      resolve(job);
    };
    const checkFinal = async () => {
      const job = await client.request<JobView>('GET', `/api/jobs/${jobId}`);
      // Every event is stored before the job ends, so the backlog is complete by now.
      if (FINAL.has(job.state) && last >= job.last_seq) finish(job);
    };
    socket.on('connect', () => {
      socket.emit(
        'subscribe',
        { job_id: jobId, after: last },
        (answer: { ok: boolean; error?: { message: string } }) => {
          if (!answer.ok) {
            socket.close();
            reject(new CliError(answer.error?.message ?? 'subscribe failed'));
            return;
          }
          void checkFinal().catch(reject);
        }
      );
    });
    socket.on('connect_error', e => {
      if (e.message === 'unauthorized') {
        socket.close();
        reject(
          new CliError(
            'The sidecar refused the token (unauthorized). Check NBQUEUE_TOKEN.'
          )
        );
      }
    });
    socket.on('events', (msg: { job_id: string; events: JobEvent[] }) => {
      if (msg.job_id !== jobId) return;
      for (const ev of msg.events) {
        if (ev.seq <= last) continue;
        last = ev.seq;
        if (ev.type === 'output') {
          const { text, stderr } = outputText(
            ev.output as Record<string, unknown>
          );
          (stderr ? err : out).write(text);
        } else if (
          ev.type === 'log' &&
          (ev.level === 'warning' || ev.level === 'error')
        ) {
          err.write(`[nbqueue] ${String(ev.message)}\n`);
        }
      }
      void checkFinal().catch(reject);
    });
    socket.on('job', (job: JobView) => {
      if (job.id === jobId && FINAL.has(job.state))
        void checkFinal().catch(reject);
    });
  });
}

export function buildProgram(): Command {
  const program = new Command('nbqueue')
    .version(VERSION)
    .description(
      'Queue notebooks as jobs on GPUs and stream their outputs back.'
    );
  program.showHelpAfterError();

  program
    .command('serve')
    .description(
      'Start the sidecar (REST + socket.io) with the configured backend'
    )
    .option(
      '-c, --config <file>',
      'configuration file (YAML or JSON); built-in defaults when absent',
      process.env.NBQUEUE_CONFIG
    )
    .option('--host <host>', 'interface to listen on (overrides server.host)')
    .option(
      '--port <port>',
      'port (overrides server.port; 0 picks a free one)',
      v => Number(v)
    )
    .option('--db <file>', 'SQLite file (overrides store.path)')
    .option(
      '--state-file <file>',
      'where to write {url, token, pid} for the CLI and JupyterLab',
      defaultStateFile()
    )
    .action(async opts => {
      let config;
      try {
        config = loadConfigFile(opts.config);
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(e.message + '\n');
          process.exit(2);
        }
        throw e;
      }
      if (opts.host) config.server.host = opts.host;
      if (opts.port !== undefined) config.server.port = opts.port;
      if (config.backend.type === 'local') {
        const check = await checkRunnerPython(config.backend.local.python);
        if (!check.ok) {
          // Restore mode starts every runner on it; kernel mode only the jobs that do not say
          // which kernel Python they came from (CLI submits), so those fail, each saying why.
          if (config.backend.local.environment === 'restore') {
            process.stderr.write(
              `nbqueue: not starting: ${check.message} In restore mode every job's runner starts on it.\n`
            );
            process.exit(2);
          }
          process.stderr.write(
            `nbqueue: WARNING: ${check.message} Jobs that do not name their kernel's Python (nbqueue submit) will fail until then; jobs from JupyterLab run on their kernel's own Python.\n`
          );
        }
      }
      let sidecar;
      try {
        sidecar = await startSidecar({ config, dbPath: opts.db });
      } catch (e) {
        // A setting that cannot work here (e.g. several users without their own accounts).
        if (e instanceof ConfigError) {
          process.stderr.write(e.message + '\n');
          process.exit(2);
        }
        throw e;
      }
      const stateFile = path.resolve(opts.stateFile);
      writeState(stateFile, {
        url: sidecar.url,
        token: sidecar.token,
        pid: process.pid
      });
      process.stdout.write(
        `nbqueue ${VERSION} serving at ${sidecar.url} (backend: ${config.backend.type})\nstate file: ${stateFile}\n`
      );
      const stop = async () => {
        clearState(stateFile);
        await sidecar.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });

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
      let notebook: unknown;
      try {
        // Outputs stay home: a run starts without them, and they can be most of the file.
        notebook = stripOutputs(JSON.parse(fs.readFileSync(full, 'utf8')));
      } catch (e) {
        throw new CliError(
          `Cannot read ${file} as a notebook: ${(e as Error).message}`
        );
      }
      const client = new Client(resolveConnection());
      const job = await client.request<JobView>('POST', '/api/jobs', {
        notebook,
        profile: opts.profile,
        queue: opts.queue,
        priority: opts.priority,
        name: opts.name,
        parameters: opts.param,
        deadline_seconds: opts.deadline,
        notebook_path: path.basename(full),
        cwd: path.dirname(full)
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
      const { queues } = await new Client(resolveConnection()).request<{
        queues: Array<{
          name: string;
          profile: string;
          queued: number;
          running: number;
        }>;
      }>('GET', '/api/queues');
      print(opts.json, queues, () => queuesTable(queues));
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
      const query = new URLSearchParams();
      if (opts.state) query.set('state', opts.state);
      if (opts.queue) query.set('queue', opts.queue);
      if (opts.all) query.set('all', '1');
      const jobs: JobView[] = [];
      let cursor: number | null = 0;
      while (cursor !== null) {
        query.set('cursor', String(cursor));
        const page: { jobs: JobView[]; next_cursor: number | null } =
          await client.request('GET', `/api/jobs?${query}`);
        jobs.push(...page.jobs);
        cursor = page.next_cursor;
      }
      print(opts.json, jobs, () => jobsTable(jobs));
    });

  /** A command that POSTs one job operation and prints the job it answers. */
  const jobAction = (
    name: string,
    description: string,
    path: string,
    say: (job: JobView) => string
  ) =>
    program
      .command(`${name} <id>`)
      .description(description)
      .option('--json', 'JSON output')
      .action(async (id: string, opts) => {
        const job = await new Client(resolveConnection()).request<JobView>(
          'POST',
          `/api/jobs/${encodeURIComponent(id)}/${path}`,
          {}
        );
        print(opts.json, job, () => say(job));
      });
  jobAction(
    'hold',
    'Hold a queued job: it keeps its place but does not start',
    'hold',
    j => `${j.id} held`
  );
  jobAction(
    'release',
    'Release a held job',
    'release',
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
      const job = await new Client(resolveConnection()).request<JobView>(
        'POST',
        `/api/jobs/${encodeURIComponent(id)}/rerun`,
        {
          profile: opts.profile
        }
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
      const job = await new Client(resolveConnection()).request<JobView>(
        'POST',
        `/api/jobs/${encodeURIComponent(id)}/move`,
        {
          queue: opts.queue
        }
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
      const job = await new Client(resolveConnection()).request<JobView>(
        'POST',
        `/api/jobs/${encodeURIComponent(id)}/priority`,
        {
          priority
        }
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
      const body = opts.before
        ? { before: opts.before }
        : { to: opts.front ? 'front' : 'back' };
      const job = await new Client(resolveConnection()).request<JobView>(
        'POST',
        `/api/jobs/${encodeURIComponent(id)}/reorder`,
        body
      );
      print(
        opts.json,
        job,
        () => `${job.id} now at position ${job.position ?? '-'} in ${job.queue}`
      );
    });

  program
    .command('logs <id>')
    .description("Print the runner's log of a job")
    .option('--follow', 'keep printing until the job ends')
    .action(async (id: string, opts) => {
      const client = new Client(resolveConnection());
      let shown = 0;
      for (;;) {
        const job = await client.request<JobView>(
          'GET',
          `/api/jobs/${encodeURIComponent(id)}`
        );
        let text = '';
        try {
          text = await client.text(`/api/jobs/${encodeURIComponent(id)}/log`);
        } catch (e) {
          // Following a job whose runner has not written its log yet: wait for it.
          if (!opts.follow || FINAL.has(job.state)) throw e;
        }
        if (text.length > shown) process.stdout.write(text.slice(shown));
        shown = Math.max(shown, text.length);
        if (!opts.follow || FINAL.has(job.state)) break;
        await new Promise(r => setTimeout(r, 1000));
      }
    });

  program
    .command('cancel <id>')
    .description('Cancel a queued or running job')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const job = await new Client(resolveConnection()).request<JobView>(
        'POST',
        `/api/jobs/${encodeURIComponent(id)}/cancel`
      );
      print(opts.json, job, () =>
        job.state === 'cancelled'
          ? `${id} cancelled`
          : `${id}: cancel requested (${job.state})`
      );
    });

  program
    .command('result <id>')
    .description('Save the executed notebook of a finished job')
    .requiredOption('-o, --output <file>', 'where to write the notebook')
    .action(async (id: string, opts) => {
      const nb = await new Client(resolveConnection()).request<unknown>(
        'GET',
        `/api/jobs/${encodeURIComponent(id)}/result`
      );
      fs.writeFileSync(opts.output, JSON.stringify(nb, null, 1) + '\n');
      process.stdout.write(`wrote ${opts.output}\n`);
    });

  program
    .command('files <id>')
    .description(
      'List the files a job wrote, or save them into a directory with -o'
    )
    .option('-o, --output <dir>', 'save the files into this directory')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const client = new Client(resolveConnection());
      const job = `/api/jobs/${encodeURIComponent(id)}/files`;
      const listing = await client.request<JobFilesListing>('GET', job);
      const output = listing.output;
      if (!opts.output) {
        print(opts.json, listing, () => filesText(id, output));
        return;
      }
      if (!output)
        throw new CliError(
          `Job ${id} brought back no files (yet): it wrote none, or has not ended.`
        );
      const archive = path.join(
        fs.mkdtempSync(path.join(os.tmpdir(), 'nbqueue-files-')),
        'files.tar.gz'
      );
      try {
        await client.download(`${job}/output`, archive);
        const written = await extractArchive(archive, opts.output);
        print(
          opts.json,
          { dir: path.resolve(opts.output), files: written },
          () =>
            written
              .map(f => `wrote ${path.join(opts.output, f.path)}`)
              .concat(
                output.left_out.map(f => `left out ${f.path}: ${f.reason}`)
              )
              .join('\n')
        );
      } finally {
        fs.rmSync(path.dirname(archive), { recursive: true, force: true });
      }
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`nbqueue: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
