import type { api } from '@nbqueue/common';
import { CAUSE_TEXT } from '../jobs/restarts';
import { etaCell, progressCell } from './etaText';

type Job = api.Job;
type Queue = api.Queue;

/** A plain aligned table for terminals. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map(r => (r[i] ?? '').length))
  );
  return rows
    .map(r =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]))
        .join('  ')
        .trimEnd()
    )
    .join('\n');
}

/** `42 s`, `3 min`, `2 h 5 min`: short durations for tables. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** `2/3`: which run of the job this is, of how many allowed; empty for a single run. */
function attemptCell(j: Job): string {
  return j.max_attempts > 1 || j.attempt > 1
    ? `${j.attempt}/${j.max_attempts}`
    : '';
}

/** One job, for `nbqueue status`: its state, why, its attempt and each restart. */
export function jobStatus(j: Job): string {
  const lines = [
    `${j.id}  ${j.name}  ${j.state}${j.position ? ` (position ${j.position} in ${j.queue})` : ''}`
  ];
  if (j.max_attempts > 1 || j.attempt > 1) {
    const last = j.restarts[j.restarts.length - 1];
    lines.push(
      `attempt ${j.attempt} of ${j.max_attempts}${last ? `, restarted after ${CAUSE_TEXT[last.cause]}` : ''}`
    );
  }
  if (j.reason) lines.push(j.reason);
  for (const r of j.restarts)
    lines.push(
      `  attempt ${r.attempt}: ${r.started_at ?? '-'} to ${r.ended_at}, ${CAUSE_TEXT[r.cause]}: ${r.reason}`
    );
  return lines.join('\n');
}

export function jobsTable(jobs: Job[], now = Date.now()): string {
  if (!jobs.length) return 'No jobs.';
  const rows = [
    [
      'ID',
      'NAME',
      'OWNER',
      'QUEUE',
      'PRIORITY',
      'STATE',
      'ATTEMPT',
      'POS',
      'ETA',
      'PROGRESS',
      'CREATED',
      'WAITING'
    ]
  ];
  for (const j of jobs) {
    rows.push([
      j.id,
      j.name,
      j.owner,
      j.queue,
      j.priority,
      j.state,
      attemptCell(j),
      j.position ? String(j.position) : '',
      etaCell(j),
      progressCell(j, now),
      j.created_at.replace('T', ' ').slice(0, 19),
      j.waiting?.summary ?? ''
    ]);
  }
  return table(rows);
}

export function queuesTable(queues: Queue[]): string {
  return table([
    ['QUEUE', 'PROFILE', 'RUNNING', 'QUEUED'],
    ...queues.map(q => [q.name, q.profile, String(q.running), String(q.queued)])
  ]);
}

/** Text of a streamed output, for --follow (rich outputs get a one-line stand-in). */
export function outputText(output: Record<string, unknown>): {
  text: string;
  stderr: boolean;
} {
  switch (output.output_type) {
    case 'stream': {
      const text = Array.isArray(output.text)
        ? output.text.join('')
        : String(output.text ?? '');
      return { text, stderr: output.name === 'stderr' };
    }
    case 'error':
      return { text: `${output.ename}: ${output.evalue}\n`, stderr: true };
    default: {
      const data = (output.data ?? {}) as Record<string, unknown>;
      const plain = data['text/plain'];
      if (plain !== undefined)
        return {
          text: (Array.isArray(plain) ? plain.join('') : String(plain)) + '\n',
          stderr: false
        };
      return { text: `[${Object.keys(data).join(', ')}]\n`, stderr: false };
    }
  }
}

/** JSON for --json, else the sentence or table a person reads. */
export function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(
    json ? JSON.stringify(data, null, 2) + '\n' : human() + '\n'
  );
}
