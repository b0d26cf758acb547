import { createHash } from 'crypto';
import * as fs from 'fs';
import type { IncomingMessage } from 'http';
import { Transform } from 'stream';
import { RESULT_MEDIA } from '../api/contract/runner';
import { ApiError, badRequest } from '../errors';
import { NotebookOutline } from '../notebook/outline';
import { megabytes } from '../notebook/size';

export const resultTooLarge = (max: number): ApiError =>
  new ApiError(
    413,
    'result_too_large',
    `The executed notebook is larger than limits.result_bytes (${max} bytes, ${megabytes(max)}). ` +
      "Clear or shrink the largest outputs (images, long prints) in the notebook, or raise limits.result_bytes in the sidecar's configuration; the job's outputs stay in its events."
  );

/**
 * Writes a result upload to `dest` as it arrives, never holding more than a chunk: refused
 * (413) from its Content-Length or as soon as it passes `maxBytes`, checked as it streams to
 * be a notebook (JSON and nbformat 4's outline: notebook/outline.ts; 400 invalid_result).
 * Answers its size and SHA-256; on any refusal `dest` is removed.
 */
export async function receiveResult(
  req: IncomingMessage,
  dest: string,
  maxBytes: number
): Promise<{ bytes: number; sha256: string }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes)
    throw resultTooLarge(maxBytes);
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (!RESULT_MEDIA.includes(type))
    throw badRequest(
      'invalid_result',
      `Send the executed notebook as its .ipynb file with Content-Type application/x-ipynb+json, not ${type || 'without one'}.`
    );
  const hash = createHash('sha256');
  const outline = new NotebookOutline();
  let bytes = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) return done(resultTooLarge(maxBytes));
      hash.update(chunk);
      if (!outline.write(chunk)) return done(notANotebook(outline.end()));
      done(null, chunk);
    },
    flush(done) {
      const problem = outline.end();
      done(problem ? notANotebook(problem) : null);
    }
  });
  // The result holds the user's outputs: readable by the sidecar's account only.
  const out = fs.createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        // The rest of the body is read and dropped (not the connection cut), so the runner
        // reads the answer that says why.
        req.unpipe(check);
        check.unpipe(out);
        out.destroy();
        req.resume();
        reject(err);
      };
      req.once('aborted', () =>
        fail(
          badRequest(
            'invalid_result',
            'The upload was interrupted; send it again.'
          )
        )
      );
      req.once('error', fail);
      check.once('error', fail);
      out.once('error', fail);
      out.once('finish', () => resolve());
      req.pipe(check).pipe(out);
    });
  } catch (err) {
    fs.rmSync(dest, { force: true });
    throw err;
  }
  return { bytes, sha256: hash.digest('hex') };
}

const notANotebook = (problem: string | null): ApiError =>
  badRequest(
    'invalid_result',
    `The upload is not an nbformat 4 notebook: ${problem ?? 'it could not be read'}. Send the executed notebook as nbformat writes it.`
  );
