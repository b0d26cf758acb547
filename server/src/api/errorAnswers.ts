/** Everything that goes wrong becomes `{"error": {code, message}}` with its status. */
import type { NextFunction, Request, Response } from 'express';
import { ApiError, badRequest } from '../errors';
import { megabytes } from '../notebook/size';

/** POST /api/jobs: the one route whose body may carry a notebook's outputs. */
const isSubmit = (req: Request): boolean =>
  req.method === 'POST' && req.path === '/api/jobs';

/** A runner's finish: it carries the executed notebook, outputs and all. */
const isFinish = (req: Request): boolean =>
  req.method === 'POST' &&
  /^\/api\/runner\/jobs\/[^/]+\/finish$/.test(req.path);

/** The answer to an unknown path. */
export function notFoundAnswer(
  req: Request,
  _res: Response,
  next: NextFunction
): void {
  next(
    new ApiError(
      404,
      'not_found',
      `No such endpoint: ${req.method} ${req.path}. See GET /api/openapi.json.`
    )
  );
}

/** The error handler; `notebookLimit` is the most a submit or a finish may send. */
export function errorAnswers(notebookLimit: number) {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (e.type === 'entity.too.large') {
      apiError = isFinish(req)
        ? new ApiError(
            413,
            'notebook_too_large',
            `The executed notebook is larger than the ${megabytes(notebookLimit)} a finish may send (limits.max_request_bytes); its outputs are kept in the job's events.`
          )
        : isSubmit(req)
          ? new ApiError(
              413,
              'notebook_too_large',
              `The request is larger than the ${megabytes(notebookLimit)} a submit may send (limits.max_request_bytes). The sidecar leaves outputs out, but they travel in the request: clear them (Edit → Clear Outputs of All Cells) or submit with \`nbqueue submit\` (it leaves them out before sending), and submit again.`
            )
          : new ApiError(
              413,
              'request_too_large',
              'The request body is larger than this endpoint takes.'
            );
    } else if (e.type === 'entity.parse.failed') {
      apiError = badRequest(
        'invalid_json',
        `The request body is not valid JSON: ${e.message}.`
      );
    } else if (e.type === 'encoding.unsupported') {
      apiError = new ApiError(
        415,
        'unsupported_encoding',
        'Send the request body without Content-Encoding (gzip and deflate are not taken).'
      );
    } else if (e.status && e.status >= 400 && e.status < 500) {
      apiError = new ApiError(
        e.status,
        'invalid_request',
        e.message ?? 'Invalid request.'
      );
    } else {
      console.error('nbqueue: unexpected error', err);
      apiError = new ApiError(
        500,
        'internal_error',
        'The sidecar hit an unexpected error; it was logged. Try again, and report it if it repeats.'
      );
    }
    res.status(apiError.status).json(apiError.toJSON());
  };
}
