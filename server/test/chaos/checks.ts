/**
 * The chaos tests' notebooks (written with nbformat) and what each job must show at its end,
 * whatever failed on the way: its state, every event once (seqs 1..last_seq, no gap, no
 * repeat), the result notebook equal to the replayed events, and every line it printed.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { JobEvent, JobView } from '../../src/jobs/types';
import { PYTHON, tmpDir, waitFor } from '../helpers';
import { coalesce, replay } from '../replay';
import type { ChaosSidecar } from './sidecar';

export type Notebook = {
  cells: Array<{ id: string; source: string; outputs?: unknown[] }>;
} & Record<string, unknown>;

/** Writes each `{name, cells}` with nbformat.write and reads it back, by name. */
export function writeNotebooks(
  specs: Array<{ name: string; cells: string[] }>
): Map<string, Notebook> {
  const dir = tmpDir('nbq-chaos-notebooks-');
  const spec = path.join(dir, 'spec.json');
  fs.writeFileSync(spec, JSON.stringify(specs));
  execFileSync(PYTHON, [path.join(__dirname, 'notebooks.py'), spec, dir]);
  return new Map(
    specs.map(s => [
      s.name,
      JSON.parse(
        fs.readFileSync(path.join(dir, `${s.name}.ipynb`), 'utf8')
      ) as Notebook
    ])
  );
}

/** Cells that print `lines` lines each, tagged, with a short sleep between. */
export function printingCells(tag: string, cells = 2, lines = 4): string[] {
  return Array.from(
    { length: cells },
    (_, c) =>
      `import time\nfor i in range(${lines}):\n    print(f"${tag} cell ${c} line {i}", flush=True)\n    time.sleep(0.05)`
  );
}

/** What printingCells prints, in order. */
export function printed(tag: string, cells = 2, lines = 4): string {
  let out = '';
  for (let c = 0; c < cells; c += 1)
    for (let i = 0; i < lines; i += 1) out += `${tag} cell ${c} line ${i}\n`;
  return out;
}

export const FINAL = ['succeeded', 'failed', 'cancelled'];

/** The job's view once it has ended (polling through restarts: an unreachable sidecar is retried). */
export function ended(
  s: ChaosSidecar,
  id: string,
  timeoutMs = 90000
): Promise<JobView> {
  return waitFor(
    async () => {
      const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
      return FINAL.includes(job.state) ? job : undefined;
    },
    `job ${id} to end`,
    timeoutMs,
    100
  );
}

export async function events(s: ChaosSidecar, id: string): Promise<JobEvent[]> {
  return (await s.api<{ events: JobEvent[] }>('GET', `/api/jobs/${id}/events`))
    .body.events;
}

const streamText = (outputs: Array<Record<string, unknown>>): string =>
  coalesce(outputs as never)
    .filter(o => o.output_type === 'stream')
    .map(o => String(o.text))
    .join('');

/**
 * Checks an ended job: its events are 1..last_seq exactly once each, the result's outputs are
 * the replayed events', and what it printed is `text` (all of it, once). Returns a list of
 * what is wrong (empty when nothing is), so the random run can count instead of stopping.
 */
export async function problems(
  s: ChaosSidecar,
  job: JobView,
  text: string | RegExp
): Promise<string[]> {
  const wrong: string[] = [];
  const evs = await events(s, job.id);
  const seqs = evs.map(e => e.seq);
  const want = Array.from({ length: job.last_seq }, (_, i) => i + 1);
  if (JSON.stringify(seqs) !== JSON.stringify(want))
    wrong.push(`event seqs ${seqs.join(',')} are not 1..${job.last_seq}`);
  const outputs = evs
    .filter(e => e.type === 'output')
    .map(e => e.output as Record<string, unknown>);
  const got = streamText(outputs);
  if (typeof text === 'string' ? got !== text : !text.test(got))
    wrong.push(`printed ${JSON.stringify(got)}, expected ${String(text)}`);
  const res = await s.api<{ cells: Notebook['cells'] }>(
    'GET',
    `/api/jobs/${job.id}/result`
  );
  if (res.status !== 200) {
    wrong.push(`no result notebook (${res.status})`);
    return wrong;
  }
  const live = replay(res.body.cells as never, evs);
  for (const cell of res.body.cells) {
    const streamed = coalesce((live.get(cell.id)?.outputs ?? []) as never);
    const stored = coalesce((cell.outputs ?? []) as never);
    // Key order is not content: the result is written as nbformat writes it (sorted keys).
    if (canonical(streamed) !== canonical(stored))
      wrong.push(
        `cell ${cell.id}: result outputs ${JSON.stringify(stored)} differ from the events' ${JSON.stringify(streamed)}`
      );
  }
  return wrong;
}

/** JSON with every object's keys sorted, so two equal values give one text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0
          )
        )
      : v
  );
}
