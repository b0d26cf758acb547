import express from 'express';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { createApp } from './api/app';
import type { Authenticator } from './auth/auth';
import { HubAuthenticator, hubSettings } from './auth/hub';
import { HubOAuth } from './auth/hubOAuth';
import { TokenAuthenticator, hashToken, newToken } from './auth/token';
import { LocalBackend } from './backends/local';
import { checkLocalAccounts } from './backends/osAccount';
import { FileStore } from './files/store';
import type { Config } from './config/schema';
import { JobService } from './jobs/service';
import { LiveHub } from './live/socket';
import { smtpMailer } from './notifications/email';
import { NotificationService } from './notifications/service';
import { PipelineRoom } from './pipelines/room';
import { Retention } from './retention/service';
import { RetentionSweep } from './retention/sweep';
import { ScheduleLoop } from './schedules/loop';
import { ScheduleService } from './schedules/service';
import { Store } from './store/store';
import { defaultDataDir } from './statefile';

export interface SidecarOptions {
  config: Config;
  /** Overrides config.store.path (tests give each run its own file). */
  dbPath?: string;
  /** Extra environment for runners (backend.local.env, in the file, has the last word). */
  runnerEnv?: Record<string, string>;
  /** Environment to read JUPYTERHUB_* from in hub mode (tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

export interface Sidecar {
  /** Base URL of the API (hub mode: with the service prefix, e.g. .../services/nbqueue). */
  url: string;
  /** The sidecar token (empty in hub mode, where hub tokens are used). */
  token: string;
  store: Store;
  jobs: JobService;
  pipelines: PipelineRoom;
  schedules: ScheduleService;
  /** Bounded storage: the retention rules, prune, usage, backup (server/src/retention). */
  retention: Retention;
  /** Mail and webhooks when a job ends (server/src/notifications). */
  notifications: NotificationService;
  close(): Promise<void>;
}

/** Builds and starts the sidecar: store, auth, backend, job service, REST and socket.io. */
export async function startSidecar({
  config,
  dbPath,
  runnerEnv,
  env = process.env
}: SidecarOptions): Promise<Sidecar> {
  // Before anything is created: several users on the local backend need their own accounts.
  checkLocalAccounts(config);
  const dataDir = defaultDataDir();
  const dbFile =
    dbPath ?? config.store.path ?? path.join(dataDir, 'nbqueue.db');
  const store = new Store(dbFile);
  let token = '';
  let auth: Authenticator;
  let hubOAuth: HubOAuth | undefined;
  // Hub mode: the app answers under the service prefix, where the hub's proxy sends it.
  let prefix = '';
  let { host, port } = config.server;
  // Where links in notifications lead: the hub's public address in hub mode.
  let publicBase: string | undefined;
  if (config.auth.mode === 'hub') {
    let settings;
    try {
      settings = hubSettings(config, env);
    } catch (err) {
      store.close();
      throw err;
    }
    auth = new HubAuthenticator(settings);
    hubOAuth = new HubOAuth(settings);
    prefix = settings.servicePrefix.replace(/\/+$/, '');
    if (settings.publicHubUrl)
      publicBase = new URL(settings.publicHubUrl).origin + prefix;
    // A hub-managed service listens where the hub's proxy expects it.
    if (settings.serviceUrl) {
      const where = new URL(settings.serviceUrl);
      host = where.hostname.replace(/^\[(.*)\]$/, '$1');
      port = Number(where.port || (where.protocol === 'https:' ? 443 : 80));
    }
  } else {
    token =
      config.auth.token ?? env.NBQUEUE_TOKEN ?? generatedToken(store, dbFile);
    // Earlier versions kept a generated token in the store itself.
    store.deleteSetting('token');
    auth = new TokenAuthenticator(
      token,
      config.auth.user ?? os.userInfo().username,
      config.auth.admin,
      config.auth.users
    );
  }

  let url = '';
  // After SIGTERM the runner gives the notebook's on_preempt callbacks up to
  // checkpoints.preempt_seconds, then the running cell cancel_grace_seconds: a runner is
  // killed only after both (and time to report).
  const stopSeconds =
    config.backend.local.cancel_grace_seconds +
    config.checkpoints.preempt_seconds;
  // Loaded only when configured: @kubernetes/client-node is an ES module (loaded through Node's
  // require(esm)), and a sidecar with the local backend has no use for it.
  const kubernetes =
    config.backend.type === 'kubernetes'
      ? await import('./backends/kubernetes/backend')
      : undefined;
  const jobs = new JobService({
    config,
    store,
    sidecarUrl: () => config.server.public_url ?? url,
    backend: outcomes =>
      kubernetes
        ? new kubernetes.KubernetesBackend(
            {
              config: config.backend.kubernetes,
              profiles: config.profiles,
              onCapacity: () => outcomes.capacityFreed()
            },
            outcomes
          )
        : new LocalBackend(
            {
              python: config.backend.local.python,
              restore: config.backend.local.environment === 'restore',
              cancelGraceSeconds: stopSeconds,
              logDir:
                config.backend.local.log_dir ??
                path.join(path.dirname(path.resolve(dbFile)), 'logs'),
              env: { ...runnerEnv, ...config.backend.local.env },
              envAllow: config.backend.local.env_allow,
              osUser: config.backend.local.os_user,
              allowedPythons: config.backend.local.allowed_pythons,
              warmKernels: config.backend.local.warm_kernels
            },
            outcomes
          )
  });
  const { backend } = jobs;
  // The Kubernetes backend watches the cluster from here on; what it sees goes to the jobs.
  if (kubernetes && backend instanceof kubernetes.KubernetesBackend)
    await backend.start();
  const files = new FileStore(
    dbFile,
    config.files.dir ?? path.join(path.dirname(path.resolve(dbFile)), 'files')
  );
  const retention = new Retention({
    table: store.retention,
    settings: config.retention,
    filesDir: files.dir,
    logDir: kubernetes
      ? undefined
      : (config.backend.local.log_dir ??
        path.join(path.dirname(path.resolve(dbFile)), 'logs'))
  });
  const retentionSweep = new RetentionSweep({
    retention,
    intervalMs: config.retention.sweep_interval_seconds * 1000
  });
  const pipelines = PipelineRoom.forJobs(config, store, jobs);
  const now = () => new Date();
  const schedules = new ScheduleService({
    store,
    jobs,
    pipelines: pipelines.forSchedules(),
    now
  });
  const scheduleLoop = new ScheduleLoop({
    table: store.schedules,
    service: schedules,
    now,
    log: message => console.error(message)
  });
  schedules.changed = () => scheduleLoop.wake();
  let notifications: NotificationService;
  try {
    const { smtp, timeout_seconds } = config.notifications;
    notifications = new NotificationService({
      store,
      publisher: jobs.publisher,
      settings: config.notifications,
      mailer: smtp ? smtpMailer(smtp, timeout_seconds * 1000, env) : undefined,
      linkBase: () =>
        config.notifications.link_base_url ??
        publicBase ??
        config.server.public_url ??
        url,
      log: message => console.error(message)
    });
  } catch (err) {
    await backend.close();
    files.close();
    store.close();
    throw err;
  }
  const app = createApp({
    config,
    jobs,
    pipelines,
    auth,
    backendName: backend.name,
    browserLogin: hubOAuth,
    files,
    schedules,
    retention,
    notifications
  });
  let handler: express.Express = app;
  if (prefix) {
    handler = express();
    handler.disable('x-powered-by');
    handler.use(prefix, app);
  }
  const server = http.createServer(handler);
  const live = new LiveHub(server, auth, jobs, `${prefix}/socket.io`);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  url = `http://${local.includes(':') ? `[${local}]` : local}:${address.port}${prefix}`;

  // Before the readoption: the jobs it ends are notified too.
  notifications.start();
  await jobs.scheduling.readopt();
  await backend.afterReadopt?.();
  // Step jobs that ended while the sidecar was down move their pipelines on now.
  pipelines.resume();
  // After the jobs and pipelines are readopted: a schedule's previous run is known before
  // anything fires.
  await scheduleLoop.start();
  // Last: a step job a pipeline resumed above still needs is known as needed.
  retentionSweep.start();

  return {
    url,
    token,
    store,
    jobs,
    pipelines,
    schedules,
    retention,
    notifications,
    async close() {
      await retentionSweep.stop();
      await scheduleLoop.stop();
      pipelines.stop();
      await backend.close();
      await notifications.stop();
      await live.close();
      await new Promise<void>(resolve => server.close(() => resolve()));
      files.close();
      store.close();
    }
  };
}

/**
 * The sidecar token nbqueue made itself, the same across restarts: kept in `<store>.token`
 * (0600, next to the store; the state file hands it to the CLI and JupyterLab), while the store
 * keeps only its hash, so a copy of the store (or a job that reads it) does not carry it.
 */
function generatedToken(store: Store, dbFile: string): string {
  const file =
    dbFile === ':memory:' ? undefined : `${path.resolve(dbFile)}.token`;
  let token = '';
  if (file) {
    try {
      token = fs.readFileSync(file, 'utf8').trim();
    } catch {
      /* none yet */
    }
  }
  const hash = store.getSetting('token_hash');
  // A token file that is not this store's (copied from elsewhere) is not used.
  if (token && hash && hashToken(token) !== hash) token = '';
  // Stores of earlier versions kept the token itself: it moves to the file.
  token ||= store.getSetting('token') ?? newToken();
  if (file) {
    fs.writeFileSync(`${file}.tmp`, token + '\n', { mode: 0o600 });
    fs.chmodSync(`${file}.tmp`, 0o600);
    fs.renameSync(`${file}.tmp`, file);
  }
  store.setSetting('token_hash', hashToken(token));
  return token;
}
