/**
 * The one place requests are checked: an operation's path parameters, query and body against
 * its zod schemas (api/contract). A handler gets the parsed values, typed, in `req.valid`; a
 * refusal is an ApiError with the code and sentence the contract gives.
 */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod/v4';
import { ApiError, badRequest } from '../errors';
import { decoded, Operation } from './contract/operation';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler of `O` is given: its parameters, query and body as the contract parses them. */
export interface Valid<O extends Operation> {
  params: Out<O['params']>;
  query: Out<O['query']>;
  body: Out<O['body']>;
}

declare module 'express-serve-static-core' {
  interface Request {
    valid?: unknown;
  }
}

/** The first issue, as the error a person reads. */
export function refusal(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const carried = (issue as { params?: { apiError?: unknown } }).params
    ?.apiError;
  if (carried instanceof ApiError) return carried;
  const said = decoded(issue.message);
  if (said) return badRequest(said.code, said.message);
  const where = issue.path.length ? `"${issue.path.join('.')}": ` : '';
  return badRequest('invalid_request', `${where}${issue.message}.`);
}

/** Parses `value` with `schema`; a refusal is thrown as its ApiError. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw refusal(result.error);
  return result.data;
}

/** Middleware: checks the request against `op` and leaves the parsed values in `req.valid`. */
export function validate<O extends Operation>(op: O) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    try {
      req.valid = {
        params: op.params ? parse(op.params, req.params) : undefined,
        query: op.query ? parse(op.query, req.query) : undefined,
        // A route without a body in its contract reads none (control routes: cancel, hold).
        body: op.body ? parse(op.body, bodyOf(req, op.bodyOptional)) : undefined
      } satisfies Valid<Operation>;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** express.json leaves `{}` for a request without a body; an optional body may be absent. */
function bodyOf(req: Request, optional?: boolean): unknown {
  if (optional && (req.body === undefined || req.body === null)) return {};
  return req.body;
}

/** The values `validate(op)` left for this request (`op` names their types). */
export function valid<O extends Operation>(req: Request, op: O): Valid<O> {
  void op;
  return req.valid as Valid<O>;
}
