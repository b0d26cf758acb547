import express from 'express';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { createApp } from './api/app';
import type { Authenticator } from './auth/auth';
import { HubAuthenticator, hubSettings } from './auth/hub';
import { HubOAuth } from './auth/hubOAuth';
import { TokenAuthenticator, newToken } from './auth/token';
import type { Backend } from './backends/backend';
import { LocalBackend } from './backends/local';
import { FileStore } from './files/store';
import type { Config } from './config/schema';
import { JobService } from './jobs/service';
import { LiveHub } from './live/socket';
import { Store } from './store/store';
import { defaultDataDir } from './statefile';

export interface SidecarOptions {
  config: Config;
  /** Overrides config.store.path (tests give each run its own file). */
  dbPath?: string;
  /** Extra environment for runners. */
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
  close(): Promise<void>;
}

/** Builds and starts the sidecar: store, auth, backend, job service, REST and socket.io. */
export async function startSidecar({
  config,
  dbPath,
  runnerEnv,
  env = process.env
}: SidecarOptions): Promise<Sidecar> {
  const dataDir = defaultDataDir();
  const store = new Store(
    dbPath ?? config.store.path ?? path.join(dataDir, 'nbqueue.db')
  );
  let token = '';
  let auth: Authenticator;
  let hubOAuth: HubOAuth | undefined;
  // Hub mode: the app answers under the service prefix, where the hub's proxy sends it.
  let prefix = '';
  let { host, port } = config.server;
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
    // A hub-managed service listens where the hub's proxy expects it.
    if (settings.serviceUrl) {
      const where = new URL(settings.serviceUrl);
      host = where.hostname.replace(/^\[(.*)\]$/, '$1');
      port = Number(where.port || (where.protocol === 'https:' ? 443 : 80));
    }
  } else {
    token =
      config.auth.token ?? env.NBQUEUE_TOKEN ?? store.getSetting('token') ?? '';
    if (!token) {
      token = newToken();
      store.setSetting('token', token);
    }
    auth = new TokenAuthenticator(
      token,
      config.auth.user ?? os.userInfo().username,
      config.auth.admin,
      config.auth.users
    );
  }

  let url = '';
  const jobs = new JobService({
    config,
    store,
    sidecarUrl: () => config.server.public_url ?? url
  });
  const backend: Backend =
    config.backend.type === 'kubernetes'
      ? await startKubernetesBackend(config, jobs)
      : new LocalBackend(
          {
            python: config.backend.local.python,
            restore: config.backend.local.environment === 'restore',
            cancelGraceSeconds: config.backend.local.cancel_grace_seconds,
            logDir:
              config.backend.local.log_dir ??
              path.join(
                path.dirname(
                  path.resolve(
                    dbPath ?? config.store.path ?? path.join(dataDir, 'x')
                  )
                ),
                'logs'
              ),
            env: runnerEnv
          },
          jobs
        );
  const dbFile =
    dbPath ?? config.store.path ?? path.join(dataDir, 'nbqueue.db');
  const files = new FileStore(
    dbFile,
    config.files.dir ?? path.join(path.dirname(path.resolve(dbFile)), 'files')
  );
  const app = createApp({
    config,
    jobs,
    auth,
    backendName: backend.name,
    browserLogin: hubOAuth,
    files
  });
  let handler: express.Express = app;
  if (prefix) {
    handler = express();
    handler.disable('x-powered-by');
    handler.use(prefix, app);
  }
  const server = http.createServer(handler);
  const live = new LiveHub(server, auth, jobs, `${prefix}/socket.io`);
  jobs.attach(backend, live);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  url = `http://${local.includes(':') ? `[${local}]` : local}:${address.port}${prefix}`;

  await jobs.readopt();
  await backend.afterReadopt?.();

  return {
    url,
    token,
    store,
    jobs,
    async close() {
      await backend.close();
      await live.close();
      await new Promise<void>(resolve => server.close(() => resolve()));
      files.close();
      store.close();
    }
  };
}

/**
 * Loaded only when configured: @kubernetes/client-node is an ES module (loaded through Node's
 * require(esm)), and a sidecar with the local backend has no use for it.
 */
async function startKubernetesBackend(
  config: Config,
  jobs: JobService
): Promise<Backend> {
  const { KubernetesBackend } = await import('./backends/kubernetes/backend');
  const backend = new KubernetesBackend(
    {
      config: config.backend.kubernetes,
      profiles: config.profiles,
      cancelGraceSeconds: config.backend.local.cancel_grace_seconds,
      onCapacity: () => void jobs.schedule()
    },
    jobs
  );
  await backend.start();
  return backend;
}
