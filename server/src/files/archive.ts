import * as fs from 'fs';
import type { IncomingMessage } from 'http';
import * as tar from 'tar';
import { ApiError, badRequest } from '../errors';

/** One file of a bundle: its path (posix, relative) and size in bytes. */
export interface FileEntry {
  path: string;
  size: number;
}

/** A file a job wrote that did not come back, and why (the runner says). */
export interface LeftOut {
  path: string;
  size: number | null;
  reason: string;
}

const mb = (n: number): string => {
  const v = n / (1024 * 1024);
  return v >= 10 || Number.isInteger(v)
    ? `${Math.round(v)} MB`
    : `${v.toFixed(1)} MB`;
};

export const tooLarge = (what: string, max: number, hint: string): ApiError =>
  new ApiError(
    413,
    'files_too_large',
    `${what} is larger than the ${mb(max)} limit (${max} bytes). ${hint}`
  );

/**
 * Writes a request body to `dest`, refusing (413) as soon as it passes `maxBytes`: the
 * declared Content-Length is checked before anything is read, a chunked body as it arrives.
 * Returns the number of bytes written.
 */
export async function receiveBody(
  req: IncomingMessage,
  dest: string,
  maxBytes: number,
  tooLargeError: () => ApiError
): Promise<number> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLargeError();
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  if (
    type &&
    ![
      'application/gzip',
      'application/x-gzip',
      'application/x-tar',
      'application/octet-stream'
    ].includes(type)
  ) {
    throw badRequest(
      'invalid_bundle',
      `Send the files as a tar.gz body with Content-Type application/gzip, not ${type}.`
    );
  }
  // Users' files: readable by the sidecar's account only.
  const out = fs.createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  let received = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        req.unpipe(out);
        out.destroy();
        reject(err);
      };
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) fail(tooLargeError());
      });
      req.once('aborted', () =>
        fail(badRequest('invalid_bundle', 'The upload was interrupted.'))
      );
      req.once('error', fail);
      out.once('error', fail);
      out.once('finish', () => resolve());
      req.pipe(out);
    });
  } catch (err) {
    fs.rmSync(dest, { force: true });
    throw err;
  }
  return received;
}

/** A relative posix path inside the archive's directory, or null when it would leave it. */
function safePath(name: string): string | null {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return null;
  const parts = name
    .replace(/\\/g, '/')
    .split('/')
    .filter(p => p !== '' && p !== '.');
  if (!parts.length || parts.includes('..')) return null;
  return parts.join('/');
}

/**
 * The regular files of a tar.gz, checked: only files and directories, all paths relative and
 * inside; the unpacked total at most `maxTotal` (else the 413 from `tooLargeError`).
 */
export async function listArchive(
  file: string,
  maxTotal: number,
  tooLargeError: () => ApiError
): Promise<FileEntry[]> {
  const files: FileEntry[] = [];
  let problem: ApiError | null = null;
  let total = 0;
  try {
    await tar.t({
      file,
      strict: true,
      onReadEntry: entry => {
        if (problem) return;
        const path = safePath(entry.path);
        if (path === null) {
          problem = badRequest(
            'invalid_bundle',
            `The archive has a path outside its directory: ${JSON.stringify(entry.path)}.`
          );
        } else if (entry.type === 'File' || entry.type === 'OldFile') {
          const size = entry.size ?? 0;
          total += size;
          if (total > maxTotal) problem = tooLargeError();
          else files.push({ path, size });
        } else if (entry.type !== 'Directory') {
          problem = badRequest(
            'invalid_bundle',
            `The archive has ${JSON.stringify(entry.path)}, a ${entry.type}: only regular files and directories may travel with a job.`
          );
        }
      }
    });
  } catch (err) {
    throw badRequest(
      'invalid_bundle',
      `The upload is not a readable tar.gz archive (${(err as Error).message}).`
    );
  }
  if (problem) throw problem;
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}
