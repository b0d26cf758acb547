/**
 * Request bodies: parsed by each route after its caller is authenticated, each with its own
 * limit (docs/security.md): control routes 4 KB, events 1 MB, submit and finish up to
 * limits.max_request_bytes, parsed one at a time when large. No gzip.
 */
import express, { Request, Response } from 'express';
import type { Config } from '../config/schema';
import { ApiError } from '../errors';
import { EVENTS_BODY_BYTES } from '../jobs/runnerIntake';
import { megabytes } from '../notebook/size';

/** Control routes (cancel, hold, priority, ...) carry a few fields at most. */
export const CONTROL_BODY_BYTES = 4 * 1024;

/**
 * A JSON body for one route, parsed after the caller is authenticated: a body declared larger
 * than `limit` is refused from its Content-Length before it is read, one that grows past it
 * as soon as it does; gzip is refused (nothing sends it, and it would let a small body inflate).
 */
function jsonBody(limit: number, what: string): express.RequestHandler {
  const parse = express.json({ limit, inflate: false });
  const tooLarge = () =>
    new ApiError(
      413,
      'request_too_large',
      `The request body is larger than the ${limit >= 1024 * 1024 ? megabytes(limit) : `${limit / 1024} KB`} ${what} takes.`
    );
  return (req, res, next) => {
    if (declaredOver(req, res, limit)) return next(tooLarge());
    parse(req, res, err =>
      next(
        (err as { type?: string } | undefined)?.type === 'entity.too.large'
          ? tooLarge()
          : err
      )
    );
  };
}

/**
 * Whether the request says (Content-Length) that its body is over `limit`: then it is answered
 * at once and the connection closed, instead of reading the body first as body-parser does.
 */
function declaredOver(req: Request, res: Response, limit: number): boolean {
  const length = Number(req.header('content-length'));
  if (!(length > limit)) return false;
  res.setHeader('Connection', 'close');
  return true;
}

/**
 * Parses bodies over `small` bytes one at a time, each until its answer is sent: a body takes
 * about three times its size in memory while it is read, parsed and checked.
 */
function oneAtATime(
  parser: express.RequestHandler,
  small: number
): express.RequestHandler {
  let last: Promise<void> = Promise.resolve();
  return (req, res, next) => {
    const length = Number(req.header('content-length'));
    if (length <= small) return parser(req, res, next);
    const turn = last.then(
      () =>
        new Promise<void>(done => {
          res.once('close', done);
          parser(req, res, err => {
            if (err) done();
            next(err);
          });
        })
    );
    last = turn.catch(() => undefined);
  };
}

export interface BodyParsers {
  /** A submit or a runner's finish: a notebook, outputs and all. */
  notebook: express.RequestHandler;
  control: express.RequestHandler;
  events: express.RequestHandler;
  /** The most a submit or a finish may send. */
  notebookLimit: number;
}

export function bodyParsers(config: Config): BodyParsers {
  // Over this size a submit or a finish is parsed one at a time (oneAtATime).
  const bodyLimit = config.limits.max_notebook_bytes + 1024 * 1024;
  const notebookLimit = Math.max(config.limits.max_request_bytes, bodyLimit);
  const parser = oneAtATime(
    express.json({ limit: notebookLimit, inflate: false }),
    bodyLimit
  );
  return {
    notebook: (req, res, next) =>
      declaredOver(req, res, notebookLimit)
        ? next({ type: 'entity.too.large' })
        : parser(req, res, next),
    control: jsonBody(CONTROL_BODY_BYTES, 'this route'),
    events: jsonBody(EVENTS_BODY_BYTES, 'an events POST'),
    notebookLimit
  };
}
