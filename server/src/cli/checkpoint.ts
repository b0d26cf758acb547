import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { FileEntry } from '../files/archive';
import type { Checkpoint } from '../files/checkpoints';
import { extractArchive } from '../files/extract';
import { CliError, Client } from './client';

/**
 * `nbqueue files ID --checkpoint N -o DIR`: a file checkpoint is written as DIR/<name>, a
 * folder's tar is unpacked into DIR/<name>/.
 */
export async function saveCheckpoint(
  client: Client,
  id: string,
  checkpoints: Checkpoint[],
  which: string,
  dir: string
): Promise<FileEntry[]> {
  const chosen =
    which === 'latest'
      ? checkpoints[0]
      : checkpoints.find(c => String(c.seq) === which);
  if (!chosen)
    throw new CliError(
      checkpoints.length
        ? `Job ${id} has no checkpoint ${which}; it keeps ${checkpoints.map(c => c.seq).join(', ')} (or say latest).`
        : `Job ${id} has saved no checkpoint (nbqueue.checkpoint.save in the notebook).`
    );
  const route = `/api/jobs/${encodeURIComponent(id)}/checkpoints/${chosen.seq}`;
  fs.mkdirSync(dir, { recursive: true });
  if (chosen.kind === 'file') {
    const target = path.join(dir, chosen.name);
    await client.download(route, target);
    return [{ path: chosen.name, size: fs.statSync(target).size }];
  }
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'nbqueue-checkpoint-'));
  try {
    const archive = path.join(temp, 'checkpoint.tar');
    await client.download(route, archive);
    const written = await extractArchive(archive, path.join(dir, chosen.name));
    return written.map(f => ({ ...f, path: `${chosen.name}/${f.path}` }));
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}
