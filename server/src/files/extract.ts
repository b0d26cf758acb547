import * as fs from 'fs';
import * as path from 'path';
import * as tar from 'tar';
import type { FileEntry } from './archive';

/**
 * Unpacks a job's files (tar.gz) into `dir`: regular files and directories only; node-tar
 * already refuses paths that would leave `dir`. Returns the files written.
 */
export async function extractArchive(
  file: string,
  dir: string
): Promise<FileEntry[]> {
  fs.mkdirSync(dir, { recursive: true });
  const written: FileEntry[] = [];
  await tar.x({
    file,
    cwd: dir,
    strict: true,
    filter: (p, entry) => {
      const type = (entry as tar.ReadEntry).type;
      if (type === 'File' || type === 'OldFile') {
        written.push({
          path: p.split(path.sep).join('/'),
          size: (entry as tar.ReadEntry).size ?? 0
        });
        return true;
      }
      return type === 'Directory';
    }
  });
  return written;
}
