/** Mounting a contract operation on a router: its path, its validation, then its handler. */
import type {
  NextFunction,
  Request,
  RequestHandler,
  Response,
  Router
} from 'express';
import type { Identity } from '../../auth/auth';
import type { Operation } from '../contract/operation';
import { valid, validate, Valid } from '../validate';

type Handler<O extends Operation> = (
  input: Valid<O>,
  req: Request,
  res: Response
) => unknown | Promise<unknown>;

/** Wraps a handler so thrown ApiErrors (sync or async) become JSON answers. */
export const route =
  (fn: (req: Request, res: Response) => unknown | Promise<unknown>) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req, res))
      .then(body => {
        if (body !== undefined && !res.headersSent) res.json(body);
      })
      .catch(next);
  };

/** Like route, for middleware: runs fn, then passes on to the next handler. */
export const guard =
  (fn: (req: Request) => Promise<void> | void) =>
  (req: Request, _res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req))
      .then(() => next())
      .catch(next);
  };

/** The caller, as the authentication middleware left it. */
export const me = (req: Request): Identity => req.identity as Identity;

/**
 * Serves `op` on `router` (mounted at `prefix`): `before` runs first (a body parser), then the
 * request is validated against the contract and `handler` gets the parsed values.
 */
export function serve<O extends Operation>(
  router: Router,
  prefix: string,
  op: O,
  handler: Handler<O>,
  before: RequestHandler[] = []
): void {
  if (!op.path.startsWith(prefix))
    throw new Error(`${op.path} is not under ${prefix}`);
  const path = op.path.slice(prefix.length).replace(/\{(\w+)\}/g, ':$1');
  router[op.method](
    path,
    ...before,
    validate(op),
    route((req, res) => handler(valid(req, op), req, res))
  );
}
