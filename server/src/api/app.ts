import express, { NextFunction, Request, Response } from 'express';
import type { Authenticator, Identity } from '../auth/auth';
import { tokenFromHeader } from '../auth/auth';
import type { BrowserLogin } from '../auth/hubOAuth';
import type { Config } from '../config/schema';
import { ApiError, badRequest } from '../errors';
import { EVENTS_BODY_BYTES, type JobService } from '../jobs/service';
import type { JobRecord, JobState } from '../jobs/types';
import { toCsv } from '../metrics/csv';
import { METRIC_KINDS, MetricKind } from '../metrics/store';
import { checkInputBundle, mountFileRoutes } from '../files/routes';
import type { FileStore } from '../files/store';
import { openApiDocument } from './openapi';
import { megabytes } from '../notebook/size';
import { VERSION } from '../version';

type Handler = (req: Request, res: Response) => unknown | Promise<unknown>;

declare module 'express-serve-static-core' {
  interface Request {
    identity?: Identity;
    runnerJob?: JobRecord;
  }
}

const STATES: JobState[] = [
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'cancelled'
];

/** Wraps a handler so thrown ApiErrors (sync or async) become JSON answers. */
const route =
  (fn: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req, res))
      .then(body => {
        if (body !== undefined && !res.headersSent) res.json(body);
      })
      .catch(next);
  };

/** Like route, for middleware: runs fn, then passes on to the next handler. */
const guard =
  (fn: (req: Request) => Promise<void> | void) =>
  (req: Request, _res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req))
      .then(() => next())
      .catch(next);
  };

function intParam(
  value: unknown,
  name: string,
  fallback: number,
  max: number
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw badRequest(
      'invalid_request',
      `"${name}" must be a whole number ≥ 0.`
    );
  return Math.min(n, max);
}

function metricKind(value: unknown): MetricKind | undefined {
  if (value === undefined || value === '') return undefined;
  if (!METRIC_KINDS.includes(value as MetricKind))
    throw badRequest(
      'invalid_request',
      `"kind" must be ${METRIC_KINDS.join(' or ')}.`
    );
  return value as MetricKind;
}

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

/** The methods each documented path serves, for 405 answers to any other method. */
function declaredMethods(
  doc: Record<string, unknown>
): (path: string) => string[] | undefined {
  const table = Object.entries(doc.paths as Record<string, object>).map(
    ([template, ops]) => ({
      pattern: new RegExp(
        `^${template
          .split(/\{[^}]+\}/)
          .map(part => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
          .join('[^/]+')}$`
      ),
      methods: Object.keys(ops).map(m => m.toUpperCase())
    })
  );
  return path => table.find(entry => entry.pattern.test(path))?.methods;
}

/** POST /api/jobs: the one route whose body may carry a notebook's outputs. */
const isSubmit = (req: Request): boolean =>
  req.method === 'POST' && req.path === '/api/jobs';

/** A runner's finish: it carries the executed notebook, outputs and all. */
const isFinish = (req: Request): boolean =>
  req.method === 'POST' &&
  /^\/api\/runner\/jobs\/[^/]+\/finish$/.test(req.path);

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

export interface AppDeps {
  config: Config;
  jobs: JobService;
  auth: Authenticator;
  backendName: string;
  /** Hub mode: the OAuth login for a browser navigating to a download link. */
  browserLogin?: BrowserLogin;
  /** Where job files are kept (server/src/files); without it the files routes answer 503. */
  files?: FileStore;
}

/**
 * A top-level navigation by the browser itself (Fetch Metadata, sent by every current
 * browser): a fetch() or an iframe from another page on the hub's origin is not one. Without
 * these headers the cookie is not taken: the API takes `Authorization` headers.
 */
const isCookieNavigation = (req: Request): boolean =>
  req.method === 'GET' &&
  req.header('sec-fetch-mode') === 'navigate' &&
  req.header('sec-fetch-dest') === 'document';

/** A person's browser opening a link (not a script calling the API). */
const isNavigation = (req: Request): boolean =>
  req.method === 'GET' &&
  !req.header('authorization') &&
  (req.header('sec-fetch-mode') === 'navigate' ||
    (req.header('accept') ?? '').includes('text/html'));

export function createApp({
  config,
  jobs,
  auth,
  backendName,
  browserLogin,
  files
}: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');

  // Bearer tokens only, no cookies: any origin may call, as it must prove a token.
  app.use((req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader(
      'Access-Control-Allow-Headers',
      'Authorization, Content-Type'
    );
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });

  app.get('/api/health', (_req, res) => {
    res.json({ status: 'ok', version: VERSION });
  });

  // A method a documented path does not serve is 405 with Allow, before anything else.
  const apiDocument = openApiDocument(config);
  const methodsOf = declaredMethods(apiDocument);
  app.use((req, res, next) => {
    const methods = methodsOf(req.path);
    if (
      !methods ||
      methods.includes(req.method) ||
      (req.method === 'HEAD' && methods.includes('GET'))
    )
      return next();
    res.setHeader('Allow', methods.join(', '));
    next(
      new ApiError(
        405,
        'method_not_allowed',
        `${req.path} does not take ${req.method}; it takes ${methods.join(' and ')}. See GET /api/openapi.json.`
      )
    );
  });

  // Bodies are parsed by each route, after its token is checked, each with its own limit. Over
  // this size a submit or a finish is parsed one at a time (oneAtATime).
  const bodyLimit = config.limits.max_notebook_bytes + 1024 * 1024;
  const submitLimit = Math.max(config.limits.max_request_bytes, bodyLimit);
  const submitParser = oneAtATime(
    express.json({ limit: submitLimit, inflate: false }),
    bodyLimit
  );
  const submitBody: express.RequestHandler = (req, res, next) =>
    declaredOver(req, res, submitLimit)
      ? next({ type: 'entity.too.large' })
      : submitParser(req, res, next);
  const controlBody = jsonBody(CONTROL_BODY_BYTES, 'this route');
  const eventsBody = jsonBody(EVENTS_BODY_BYTES, 'an events POST');

  if (browserLogin) app.use(browserLogin.router);

  const user = express.Router();
  user.use(async (req, res, next) => {
    // The login cookie authenticates a person's browser opening a link, and nothing else:
    // a script on the same origin (another user's server behind the same hub) cannot use it
    // (isCookieNavigation), and what it opens cannot be read from another page (sandboxed).
    if (!browserLogin || req.header('authorization') || req.method !== 'GET')
      return next();
    try {
      const cookie = isCookieNavigation(req)
        ? browserLogin.tokenFromCookie(req)
        : undefined;
      const identity = cookie ? await auth.authenticate(cookie, req) : null;
      if (identity) {
        req.identity = identity;
        res.setHeader(
          'Content-Security-Policy',
          "sandbox; frame-ancestors 'none'"
        );
        res.setHeader('X-Frame-Options', 'DENY');
      } else if (isNavigation(req))
        return browserLogin.redirectToLogin(req, res);
      next();
    } catch (err) {
      next(err);
    }
  });
  user.use(
    guard(async req => {
      if (req.identity) return;
      const identity = await auth.authenticate(
        tokenFromHeader(req.header('authorization')),
        req
      );
      if (!identity) {
        throw new ApiError(
          401,
          'unauthorized',
          auth.mode === 'hub'
            ? 'Missing, invalid or expired JupyterHub token, or one without access to this service. Send "Authorization: token <token>" with a hub token that has the access:services scope for nbqueue.'
            : 'Missing or invalid token. Send "Authorization: Bearer <token>" with the sidecar token (see `nbqueue serve` output).'
        );
      }
      req.identity = identity;
    })
  );
  const me = (req: Request): Identity => req.identity as Identity;

  user.get(
    '/info',
    route(req => ({
      version: VERSION,
      backend: backendName,
      user: me(req).user,
      admin: me(req).admin,
      // The classes the dialog and the Jobs panel offer this caller (lowest first).
      priorities: {
        classes: config.priorities,
        allowed: jobs.allowedPriorities(me(req)),
        default: config.default_priority
      },
      limits: {
        max_notebook_bytes: config.limits.max_notebook_bytes,
        max_request_bytes: config.limits.max_request_bytes
      },
      files: {
        bundle: config.files.bundle,
        max_input_bytes: config.files.max_input_bytes,
        collect_outputs: config.files.collect_outputs,
        max_output_bytes: config.files.max_output_bytes
      }
    }))
  );
  user.get(
    '/profiles',
    route(() => ({ profiles: jobs.profiles() }))
  );
  user.get(
    '/queues',
    route(() => ({ queues: jobs.queues() }))
  );
  user.get(
    '/openapi.json',
    route(() => apiDocument)
  );
  user.post(
    '/jobs',
    submitBody,
    route((req, res) => {
      checkInputBundle(files, me(req), req.body);
      const job = jobs.submit(me(req), req.body);
      res.status(201);
      return job;
    })
  );
  user.get(
    '/jobs',
    route(req => {
      let states: JobState[] | undefined;
      if (typeof req.query.state === 'string' && req.query.state) {
        states = req.query.state.split(',') as JobState[];
        const bad = states.find(s => !STATES.includes(s));
        if (bad)
          throw badRequest(
            'invalid_request',
            `Unknown state "${bad}"; use ${STATES.join(', ')}.`
          );
      }
      const queue =
        typeof req.query.queue === 'string' && req.query.queue
          ? req.query.queue
          : undefined;
      return jobs.list(me(req), {
        states,
        queue,
        all: req.query.all === '1' || req.query.all === 'true',
        limit:
          req.query.limit === undefined
            ? undefined
            : Math.max(1, intParam(req.query.limit, 'limit', 1000, 1000)),
        cursor: intParam(req.query.cursor, 'cursor', 0, Number.MAX_SAFE_INTEGER)
      });
    })
  );
  user.get(
    '/jobs/:id',
    route(req => jobs.get(me(req), req.params.id))
  );
  user.post(
    '/jobs/:id/cancel',
    controlBody,
    route(req => jobs.cancel(me(req), req.params.id))
  );
  user.get(
    '/jobs/:id/events',
    route(req =>
      jobs.events(
        me(req),
        req.params.id,
        intParam(req.query.after, 'after', 0, Number.MAX_SAFE_INTEGER),
        intParam(req.query.limit, 'limit', 10000, 10000)
      )
    )
  );
  user.get(
    '/jobs/:id/metrics',
    route(req => {
      const since = intParam(
        req.query.since,
        'since',
        0,
        Number.MAX_SAFE_INTEGER
      );
      const metrics = jobs.metrics(me(req), req.params.id, {
        since,
        kind: metricKind(req.query.kind),
        limit: intParam(req.query.limit, 'limit', 100000, 100000)
      });
      return {
        metrics,
        cursor: metrics.length ? metrics[metrics.length - 1].seq : since
      };
    })
  );
  user.get(
    '/jobs/:id/metrics.csv',
    route((req, res) => {
      const rows = jobs.metrics(me(req), req.params.id, {
        since: intParam(req.query.since, 'since', 0, Number.MAX_SAFE_INTEGER),
        kind: metricKind(req.query.kind)
      });
      res
        .type('text/csv; charset=utf-8')
        .setHeader(
          'Content-Disposition',
          `attachment; filename="${req.params.id}-metrics.csv"`
        );
      res.send(toCsv(req.params.id, rows));
      return undefined;
    })
  );
  user.post(
    '/jobs/:id/hold',
    controlBody,
    route(req => jobs.hold(me(req), req.params.id))
  );
  user.post(
    '/jobs/:id/release',
    controlBody,
    route(req => jobs.release(me(req), req.params.id))
  );
  user.post(
    '/jobs/:id/rerun',
    controlBody,
    route((req, res) => {
      const job = jobs.rerun(me(req), req.params.id, req.body);
      res.status(201);
      return job;
    })
  );
  user.post(
    '/jobs/:id/move',
    controlBody,
    route(req => jobs.move(me(req), req.params.id, req.body))
  );
  user.post(
    '/jobs/:id/priority',
    controlBody,
    route(req => jobs.setPriority(me(req), req.params.id, req.body))
  );
  user.post(
    '/jobs/:id/reorder',
    controlBody,
    route(req => jobs.reorder(me(req), req.params.id, req.body))
  );
  user.get(
    '/jobs/:id/log',
    route(async (req, res) => {
      const text = await jobs.log(me(req), req.params.id);
      res.type('text/plain').send(text);
      return undefined;
    })
  );
  user.get(
    '/jobs/:id/result',
    route((req, res) => {
      const text = jobs.result(me(req), req.params.id);
      if (req.query.download === '1')
        res.setHeader(
          'Content-Disposition',
          `attachment; filename="${req.params.id}.ipynb"`
        );
      res.type('application/json').send(text);
      return undefined;
    })
  );

  const runner = express.Router();
  runner.use(
    '/jobs/:id',
    guard(req => {
      req.runnerJob = jobs.authenticateRunner(
        req.params.id,
        tokenFromHeader(req.header('authorization'))
      );
    })
  );
  runner.get(
    '/jobs/:id',
    route(req => jobs.runnerFetch(req.runnerJob as JobRecord))
  );
  runner.post(
    '/jobs/:id/events',
    eventsBody,
    route(req => jobs.ingestEvents(req.runnerJob as JobRecord, req.body))
  );
  runner.post(
    '/jobs/:id/finish',
    // The executed notebook keeps its outputs: parsed after the job token, as a submit is.
    submitBody,
    route(req => {
      jobs.finish(req.runnerJob as JobRecord, req.body);
      return { ok: true };
    })
  );

  mountFileRoutes(user, runner, { config, jobs, files });

  app.use('/api/runner', runner);
  app.use('/api', user);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(
      new ApiError(
        404,
        'not_found',
        `No such endpoint: ${req.method} ${req.path}. See GET /api/openapi.json.`
      )
    );
  });

  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (e.type === 'entity.too.large') {
      apiError = isFinish(_req)
        ? new ApiError(
            413,
            'notebook_too_large',
            `The executed notebook is larger than the ${megabytes(Math.max(config.limits.max_request_bytes, bodyLimit))} a finish may send (limits.max_request_bytes); its outputs are kept in the job's events.`
          )
        : isSubmit(_req)
          ? new ApiError(
              413,
              'notebook_too_large',
              `The request is larger than the ${megabytes(Math.max(config.limits.max_request_bytes, bodyLimit))} a submit may send (limits.max_request_bytes). The sidecar leaves outputs out, but they travel in the request: clear them (Edit → Clear Outputs of All Cells) or submit with \`nbqueue submit\` (it leaves them out before sending), and submit again.`
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
  });

  return app;
}
