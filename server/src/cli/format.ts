import type { JobView } from '../jobs/types';

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

export function jobsTable(jobs: JobView[]): string {
  if (!jobs.length) return 'No jobs.';
  const rows = [
    ['ID', 'NAME', 'PROFILE', 'PRIORITY', 'STATE', 'POS', 'CREATED']
  ];
  for (const j of jobs) {
    rows.push([
      j.id,
      j.name,
      j.profile,
      j.priority,
      j.state,
      j.position ? String(j.position) : '',
      j.created_at.replace('T', ' ').slice(0, 19)
    ]);
  }
  return table(rows);
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
