/**
 * The REST API: express, put together from the contract (api/contract), one validation
 * middleware (api/validate.ts) and the routes of each resource (api/routes).
 */
import express from 'express';
import type { Authenticator } from '../auth/auth';
import type { BrowserLogin } from '../auth/hubOAuth';
import type { Config } from '../config/schema';
import { mountCheckpointRoutes } from '../files/checkpointRoutes';
import { mountFileRoutes } from '../files/routes';
import { mountResultRoutes } from '../results/routes';
import type { FileStore } from '../files/store';
import type { JobService } from '../jobs/service';
import { VERSION } from '../version';
import { authenticate } from './authenticate';
import { bodyParsers } from './bodies';
import { apiContract, operationsOf } from './contract';
import { openApiDocument } from './contract/document';
import { errorAnswers, notFoundAnswer } from './errorAnswers';
import { methodNotAllowed } from './methods';
import { mountInfoRoutes } from './routes/info';
import { mountJobRoutes } from './routes/jobs';
import { mountNotificationRoutes } from './routes/notifications';
import type { NotificationService } from '../notifications/service';
import { mountPipelineRoutes } from './routes/pipelines';
import { mountRetentionRoutes } from './routes/retention';
import type { Retention } from '../retention/service';
import type { PipelineRoom } from '../pipelines/room';
import { mountRunnerRoutes } from './routes/runner';
import { mountScheduleRoutes } from './routes/schedules';
import type { ScheduleService } from '../schedules/service';

export { CONTROL_BODY_BYTES } from './bodies';

export interface AppDeps {
  config: Config;
  jobs: JobService;
  auth: Authenticator;
  backendName: string;
  /** Hub mode: the OAuth login for a browser navigating to a download link. */
  browserLogin?: BrowserLogin;
  /** Where job files are kept (server/src/files); without it the files routes answer 503. */
  files?: FileStore;
  /** The pipeline room (server/src/pipelines). */
  pipelines: PipelineRoom;
  /** Schedules (server/src/schedules). */
  schedules: ScheduleService;
  /** Usage, prune and backup (server/src/retention); without it those routes answer 503. */
  retention?: Retention;
  /** Each user's notifications when their jobs end (server/src/notifications). */
  notifications?: NotificationService;
}

export function createApp({
  config,
  jobs,
  auth,
  backendName,
  browserLogin,
  files,
  pipelines,
  schedules,
  retention,
  notifications
}: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const contract = apiContract(config);
  const document = openApiDocument(config);

  // Bearer tokens only, no cookies: any origin may call, as it must prove a token.
  app.use((req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader(
      'Access-Control-Allow-Headers',
      'Authorization, Content-Type'
    );
    res.setHeader(
      'Access-Control-Allow-Methods',
      'GET, POST, PUT, DELETE, OPTIONS'
    );
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });

  app.get('/api/health', (_req, res) => {
    res.json({ status: 'ok', version: VERSION });
  });

  app.use(methodNotAllowed(operationsOf(contract)));

  // Bodies are parsed by each route, after its token is checked, each with its own limit.
  const bodies = bodyParsers(config);

  if (browserLogin) app.use(browserLogin.router);

  const user = express.Router();
  user.use(...authenticate(auth, browserLogin));
  mountInfoRoutes(user, contract.info, { config, jobs, backendName, document });
  mountJobRoutes(user, contract.jobs, { jobs, files, bodies });
  mountPipelineRoutes(user, contract.pipelines, { pipelines, bodies });
  mountScheduleRoutes(user, contract.schedules, { schedules, bodies });
  mountRetentionRoutes(user, contract.retention, { retention, bodies });
  mountNotificationRoutes(user, contract.notifications, {
    notifications,
    bodies
  });

  const runner = express.Router();
  mountRunnerRoutes(runner, contract.runner, { jobs, bodies });

  mountFileRoutes(user, runner, contract.files, { config, jobs, files });
  mountResultRoutes(user, runner, contract, { config, jobs, files });
  mountCheckpointRoutes(user, runner, contract.checkpoints, {
    config,
    jobs,
    files
  });

  app.use('/api/runner', runner);
  app.use('/api', user);
  app.use(notFoundAnswer);
  app.use(errorAnswers(bodies.notebookLimit));
  return app;
}
