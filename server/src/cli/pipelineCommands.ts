/**
 * `nbqueue pipeline run|list|show|cancel|rerun`: pipelines from a YAML or JSON file
 * (docs/pipelines.md), each step's notebook read from a path relative to that file as
 * `nbqueue submit` reads a notebook.
 */
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import type { api } from '@nbqueue/common';
import { stripOutputs } from '../notebook/normalize';
import { CliError, Client, resolveConnection } from './client';
import { print, table } from './format';

type Pipeline = api.Pipeline;
type PipelineSubmit = api.PipelineSubmit;
type Notebook = api.JobSubmit['notebook'];

const FOLLOW_SECONDS = 2;

/** A pipeline file: { name?, steps: [{ name, notebook: path, profile, ... }] }. */
export function readPipelineFile(file: string): PipelineSubmit {
  const full = path.resolve(file);
  let doc: unknown;
  try {
    // YAML is a superset of JSON: one parser takes both.
    doc = YAML.parse(fs.readFileSync(full, 'utf8'));
  } catch (e) {
    throw new CliError(`Cannot read ${file}: ${(e as Error).message}`);
  }
  const steps = (doc as { steps?: unknown })?.steps;
  if (!Array.isArray(steps) || !steps.length)
    throw new CliError(`${file} has no "steps": a list of steps is needed.`);
  const dir = path.dirname(full);
  return {
    ...(doc as object),
    steps: steps.map((raw, i) => {
      const step = raw as Record<string, unknown>;
      const label = typeof step?.name === 'string' ? step.name : `#${i + 1}`;
      if (typeof step?.notebook !== 'string')
        throw new CliError(
          `Step ${label} of ${file}: "notebook" must be the path of a notebook, relative to ${file}.`
        );
      const nbFile = path.resolve(dir, step.notebook);
      let notebook: Notebook;
      try {
        // Outputs stay home, as for `nbqueue submit`.
        notebook = stripOutputs(
          JSON.parse(fs.readFileSync(nbFile, 'utf8')) as Notebook
        );
      } catch (e) {
        throw new CliError(
          `Step ${label}: cannot read ${step.notebook} as a notebook: ${(e as Error).message}`
        );
      }
      return {
        ...step,
        notebook,
        notebook_path: path.relative(dir, nbFile),
        cwd: path.dirname(nbFile)
      } as PipelineSubmit['steps'][number];
    })
  } as PipelineSubmit;
}

function stepsTable(p: Pipeline): string {
  const rows = [['STEP', 'STATE', 'JOB', 'AFTER', 'OUTPUTS']];
  for (const s of p.steps)
    rows.push([
      s.name,
      s.state,
      s.job_id ?? '-',
      s.after.join(',') || '-',
      Object.keys(s.outputs).length ? JSON.stringify(s.outputs) : '-'
    ]);
  return table(rows);
}

export function pipelineText(p: Pipeline): string {
  return [
    `${p.id}  ${p.name}  ${p.state} (attempt ${p.attempt})${p.reason ? `: ${p.reason}` : ''}`,
    stepsTable(p)
  ].join('\n');
}

function pipelinesTable(list: Pipeline[]): string {
  if (!list.length) return 'No pipelines.';
  const rows = [['ID', 'NAME', 'OWNER', 'STATE', 'STEPS', 'CREATED']];
  for (const p of list)
    rows.push([
      p.id,
      p.name,
      p.owner,
      p.state,
      `${p.steps.filter(s => s.state === 'succeeded').length}/${p.steps.length}`,
      p.created_at
    ]);
  return table(rows);
}

/** Prints each step's changes until the pipeline ends; its end. */
async function followPipeline(client: Client, id: string): Promise<Pipeline> {
  const last = new Map<string, string>();
  for (;;) {
    const p = await client.call('get', '/api/pipelines/{id}', {
      id
    });
    for (const s of p.steps) {
      const now = `${s.state}${s.job_id ? ` (${s.job_id})` : ''}`;
      if (last.get(s.name) !== now)
        process.stderr.write(`[nbqueue] ${s.name}: ${now}\n`);
      last.set(s.name, now);
    }
    if (p.state !== 'running') return p;
    await new Promise(r => setTimeout(r, FOLLOW_SECONDS * 1000));
  }
}

export function addPipelineCommands(program: Command): void {
  const pipeline = program
    .command('pipeline')
    .description('Run notebooks as the steps of a pipeline');

  pipeline
    .command('run <file>')
    .description(
      'Start the pipeline a YAML or JSON file describes (notebooks relative to it)'
    )
    .option(
      '--follow',
      'print the steps as they change; exit non-zero unless it succeeds'
    )
    .option('--json', 'print the pipeline as JSON')
    .action(async (file: string, opts) => {
      const body = readPipelineFile(file);
      const client = new Client(resolveConnection());
      const started = await client.call('post', '/api/pipelines', { body });
      if (!opts.follow) {
        print(opts.json, started, () => pipelineText(started));
        return;
      }
      if (!opts.json)
        process.stderr.write(`[nbqueue] pipeline ${started.id} started\n`);
      const end = await followPipeline(client, started.id);
      print(opts.json, end, () => pipelineText(end));
      if (end.state !== 'succeeded') process.exitCode = 1;
    });

  pipeline
    .command('list')
    .description("List your pipelines (admins: --all for everyone's)")
    .option('--all', "everyone's pipelines (admins)")
    .option('--json', 'JSON output')
    .action(async opts => {
      const { pipelines } = await new Client(resolveConnection()).call(
        'get',
        '/api/pipelines',
        { query: { all: opts.all ? '1' : undefined } }
      );
      print(opts.json, pipelines, () => pipelinesTable(pipelines));
    });

  pipeline
    .command('show <id>')
    .description('A pipeline: its steps with their states, jobs and outputs')
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      const p = await new Client(resolveConnection()).call(
        'get',
        '/api/pipelines/{id}',
        { id }
      );
      print(opts.json, p, () => pipelineText(p));
    });

  for (const [verb, what] of [
    ['cancel', 'Cancel a running pipeline (its running steps too)'],
    [
      'rerun',
      'Re-run a failed or cancelled pipeline from the steps that did not succeed'
    ]
  ] as const)
    pipeline
      .command(`${verb} <id>`)
      .description(what)
      .option('--json', 'JSON output')
      .action(async (id: string, opts) => {
        const p = await new Client(resolveConnection()).call(
          'post',
          `/api/pipelines/{id}/${verb}`,
          { id }
        );
        print(opts.json, p, () => pipelineText(p));
      });
}
