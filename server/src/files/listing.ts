import { humanBytes } from '@nbqueue/common';
import type { FileEntry, LeftOut } from './archive';
import type { Checkpoint } from './checkpoints';

/** GET /api/jobs/:id/files, as the CLI reads it. */
export interface FilesSummary {
  bytes: number;
  total_bytes: number;
  files: FileEntry[];
  left_out: LeftOut[];
  created_at: string;
}

export interface JobFilesListing {
  input: FilesSummary | null;
  output: FilesSummary | null;
}

/**
 * The `nbqueue files ID` listing: one line per file, then what was left out, then the job's
 * checkpoints (newest first).
 */
export function filesText(
  id: string,
  output: FilesSummary | null,
  checkpoints: Checkpoint[] = []
): string {
  const text = outputText(id, output);
  if (!checkpoints.length) return text;
  const lines = checkpoints.map(
    c =>
      `checkpoint ${String(c.seq).padStart(3)}  ${`${c.name}${c.kind === 'folder' ? '/' : ''}`.padEnd(24)} ${humanBytes(c.bytes).padStart(9)}  ${c.created_at}`
  );
  lines.push(
    `save one with: nbqueue files ${id} --checkpoint ${checkpoints[0].seq} -o DIR`
  );
  return `${text}\n${lines.join('\n')}`;
}

function outputText(id: string, output: FilesSummary | null): string {
  if (!output) return `${id}: no files came back (yet).`;
  const width = Math.max(4, ...output.files.map(f => f.path.length));
  const lines = output.files.map(
    f => `${f.path.padEnd(width)}  ${humanBytes(f.size).padStart(9)}`
  );
  lines.push(
    `${output.files.length} file(s), ${humanBytes(output.total_bytes)}; save them with: nbqueue files ${id} -o DIR`
  );
  for (const f of output.left_out)
    lines.push(
      `left out: ${f.path}${f.size !== null ? ` (${humanBytes(f.size)})` : ''}: ${f.reason}`
    );
  return lines.join('\n');
}
