/**
 * How the REST contract is written down: each operation names its method, path and the zod
 * schemas of its path parameters, query, body and answers. The routes validate requests with
 * these schemas (api/validate.ts) and the OpenAPI document is generated from them
 * (contract/document.ts), so the two cannot drift apart.
 */
import { z } from 'zod/v4';
import { ApiError } from '../../errors';

export type Method = 'get' | 'post' | 'put' | 'delete';

/** One answer of an operation: JSON with a schema, another media type, or no body said. */
export interface Answer {
  description?: string;
  /** The JSON body (application/json unless `media` says otherwise). */
  schema?: z.ZodType;
  /** The media type(s) of a body that is not JSON (text/csv, text/plain, application/gzip). */
  media?: string | string[];
  /** Operations a client can call next with the job it was answered (OpenAPI links). */
  links?: boolean;
}

export interface Operation {
  method: Method;
  /** The OpenAPI path template, e.g. /api/jobs/{id}. */
  path: string;
  operationId?: string;
  summary: string;
  description?: string;
  /** Answered without a token (health). */
  public?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Whether the body may be left out (default: required when there is one). */
  bodyOptional?: boolean;
  /**
   * A body that is not JSON (an archive, a result notebook): described here, streamed by the
   * route; `media` lists every Content-Type the route accepts.
   */
  upload?: { media: string | string[]; description: string; maxBytes?: number };
  /** Answers with a body; `errors` lists the statuses answered with the Error body. */
  ok: Record<number, Answer>;
  errors: number[];
}

export const operation = <O extends Operation>(op: O): O => op;

/**
 * How a schema reads in the document where zod cannot say it (a value checked in code, such
 * as the notebook against the official nbformat schema): `replace` takes the place of what
 * zod would write, `extra` is added to it.
 */
const documentedAs = new WeakMap<
  z.ZodType,
  { replace?: Record<string, unknown>; extra?: Record<string, unknown> }
>();

export function documented<T extends z.ZodType>(
  schema: T,
  how: { replace?: Record<string, unknown>; extra?: Record<string, unknown> }
): T {
  documentedAs.set(schema, how);
  return schema;
}

export function documentation(
  schema: z.ZodType
):
  | { replace?: Record<string, unknown>; extra?: Record<string, unknown> }
  | undefined {
  return documentedAs.get(schema);
}

/**
 * A refusal a person can act on, carried through zod: the issue's message holds the error
 * code and the sentence (api/validate.ts turns it into an ApiError).
 */
const SEPARATOR = '\u0000';

export const coded = (code: string, message: string): string =>
  `${code}${SEPARATOR}${message}`;

export function decoded(
  message: string
): { code: string; message: string } | undefined {
  const at = message.indexOf(SEPARATOR);
  if (at < 0) return undefined;
  return { code: message.slice(0, at), message: message.slice(at + 1) };
}

/** zod's `error` option: this code and sentence, made from the refused value. */
export const refuse = (
  code: string,
  message: string | ((input: unknown, issue: { code?: string }) => string)
) => ({
  error: (issue: { input?: unknown; code?: string }) =>
    coded(
      code,
      typeof message === 'string' ? message : message(issue.input, issue)
    )
});

/** A job id in a path. */
export const JobId = z.object({ id: z.string().min(1) });

/**
 * A whole number ≥ 0 in a query string; larger than `max` is taken as `max`, absent is
 * `fallback`.
 */
export const count = (name: string, fallback: number, max: number) =>
  documented(
    z
      .string(
        refuse('invalid_request', `"${name}" must be a whole number ≥ 0.`)
      )
      .optional()
      .refine(
        v => v === undefined || (Number.isInteger(Number(v)) && Number(v) >= 0),
        refuse('invalid_request', `"${name}" must be a whole number ≥ 0.`)
      )
      .transform(v => (v === undefined ? fallback : Math.min(Number(v), max))),
    {
      replace: {
        type: 'integer',
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER
      }
    }
  );

/**
 * One of names this sidecar's configuration gives (profiles, queues, priority classes): the
 * served document lists them; the generated TypeScript types take any string
 * (`x-configured`, see document.ts `typesDocument`).
 */
export const configured = (
  what: string,
  values: readonly string[],
  params?: ReturnType<typeof refuse>
) =>
  documented(z.enum(values as [string, ...string[]], params), {
    extra: { 'x-configured': what }
  });

/** A check done in code whose refusal (an ApiError) becomes the issue the answer carries. */
export function checked<T>(
  check: (value: unknown) => T
): (value: unknown, ctx: z.RefinementCtx) => T {
  return (value, ctx) => {
    try {
      return check(value);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: err.message,
        params: { apiError: err }
      });
      return z.NEVER;
    }
  };
}
