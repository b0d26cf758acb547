import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ServerState {
  url: string;
  token: string;
  pid: number;
}

/** Where `nbqueue serve` tells the CLI and the Jupyter server extension how to reach it. */
export function defaultStateFile(): string {
  if (process.env.NBQUEUE_STATE_FILE) return process.env.NBQUEUE_STATE_FILE;
  const data =
    process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'nbqueue', 'server.json');
}

export function defaultDataDir(): string {
  const data =
    process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'nbqueue');
}

export function writeState(file: string, state: ServerState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  // The token is a secret: readable by its owner only.
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readState(file: string): ServerState | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ServerState;
  } catch {
    return undefined;
  }
}

/** Removes the state file only if it still describes this process. */
export function clearState(file: string): void {
  const state = readState(file);
  if (state?.pid === process.pid) fs.rmSync(file, { force: true });
}
