import type { FileEntry, LeftOut } from './archive';

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

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The `nbqueue files ID` listing: one line per file, then what was left out. */
export function filesText(id: string, output: FilesSummary | null): string {
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
