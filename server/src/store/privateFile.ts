import * as fs from 'fs';
import * as path from 'path';

/**
 * Makes `file` (and its SQLite companions, where they exist) readable by the sidecar's account
 * only, creating its folder 0700 if need be: the store holds every user's notebooks and results.
 */
export function privateFile(file: string): void {
  const full = path.resolve(file);
  fs.mkdirSync(path.dirname(full), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(full, 'a', 0o600));
  for (const f of [full, `${full}-wal`, `${full}-shm`]) {
    try {
      fs.chmodSync(f, 0o600);
    } catch {
      /* not there (yet) */
    }
  }
}
