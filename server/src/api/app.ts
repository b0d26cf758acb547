import express, { NextFunction, Request, Response } from 'express';
import type { Authenticator, Identity } from '../auth/auth';
import { tokenFromHeader } from '../auth/auth';
import type { BrowserLogin } from '../auth/hubOAuth';
import type { Config } from '../config/schema';
import { ApiError, badRequest } from '../errors';
import type { JobService } from '../jobs/service';
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

  // A little over the notebook limit, so the rest of the body still fits around it. A submit
  // is parsed later, after its token is checked, with its own larger limit (submitBody).
  const bodyLimit = config.limits.max_notebook_bytes + 1024 * 1024;
  const json = express.json({ limit: bodyLimit });
  app.use((req, res, next) =>
    isSubmit(req) || isFinish(req) ? next() : json(req, res, next)
  );
  const submitBody = oneAtATime(
    express.json({
      limit: Math.max(config.limits.max_request_bytes, bodyLimit)
    }),
    bodyLimit
  );

  if (browserLogin) app.use(browserLogin.router);

  const user = express.Router();
  user.use(async (req, res, next) => {
    // The login cookie only ever authenticates reads: a cross-site form cannot act with it.
    if (!browserLogin || req.header('authorization') || req.method !== 'GET')
      return next();
    try {
      const cookie = browserLogin.tokenFromCookie(req);
      const identity = cookie ? await auth.authenticate(cookie, req) : null;
      if (identity) req.identity = identity;
      else if (isNavigation(req)) return browserLogin.redirectToLogin(req, res);
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
    route(() => openApiDocument())
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
      res.send(toCsv(rows));
      return undefined;
    })
  );
  user.post(
    '/jobs/:id/hold',
    route(req => jobs.hold(me(req), req.params.id))
  );
  user.post(
    '/jobs/:id/release',
    route(req => jobs.release(me(req), req.params.id))
  );
  user.post(
    '/jobs/:id/rerun',
    route((req, res) => {
      const job = jobs.rerun(me(req), req.params.id, req.body);
      res.status(201);
      return job;
    })
  );
  user.post(
    '/jobs/:id/move',
    route(req => jobs.move(me(req), req.params.id, req.body))
  );
  user.post(
    '/jobs/:id/priority',
    route(req => jobs.setPriority(me(req), req.params.id, req.body))
  );
  user.post(
    '/jobs/:id/reorder',
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
              'notebook_too_large',
              `The request is larger than the ${megabytes(bodyLimit)} this endpoint takes (limits.max_notebook_bytes and 1 MB around it).`
            );
    } else if (e.type === 'entity.parse.failed') {
      apiError = badRequest(
        'invalid_json',
        `The request body is not valid JSON: ${e.message}.`
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
