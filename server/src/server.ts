import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { createApp } from './api/app';
import { TokenAuthenticator, newToken } from './auth/token';
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
}

export interface Sidecar {
  url: string;
  token: string;
  store: Store;
  jobs: JobService;
  close(): Promise<void>;
}

/** Builds and starts the sidecar: store, auth, backend, job service, REST and socket.io. */
export async function startSidecar({
  config,
  dbPath,
  runnerEnv
}: SidecarOptions): Promise<Sidecar> {
  const dataDir = defaultDataDir();
  const store = new Store(
    dbPath ?? config.store.path ?? path.join(dataDir, 'nbqueue.db')
  );
  let token =
    config.auth.token ?? process.env.NBQUEUE_TOKEN ?? store.getSetting('token');
  if (!token) {
    token = newToken();
    store.setSetting('token', token);
  }
  const auth = new TokenAuthenticator(
    token,
    config.auth.user ?? os.userInfo().username,
    config.auth.admin,
    config.auth.users
  );

  let url = '';
  const jobs = new JobService({
    config,
    store,
    sidecarUrl: () => config.server.public_url ?? url
  });
  const backend = new LocalBackend(
    {
      python: config.backend.local.python,
      restore: config.backend.local.environment === 'restore',
      cancelGraceSeconds: config.backend.local.cancel_grace_seconds,
      logDir:
        config.backend.local.log_dir ??
        path.join(
          path.dirname(
            path.resolve(dbPath ?? config.store.path ?? path.join(dataDir, 'x'))
          ),
          'logs'
        ),
      env: runnerEnv
    },
    jobs
  );
  const dbFile = dbPath ?? config.store.path ?? path.join(dataDir, 'nbqueue.db');
  const files = new FileStore(
    dbFile,
    config.files.dir ?? path.join(path.dirname(path.resolve(dbFile)), 'files')
  );
  const app = createApp({
    config,
    jobs,
    auth,
    backendName: backend.name,
    files
  });
  const server = http.createServer(app);
  const live = new LiveHub(server, auth, jobs);
  jobs.attach(backend, live);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host =
    config.server.host === '0.0.0.0' || config.server.host === '::'
      ? '127.0.0.1'
      : config.server.host;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  await jobs.readopt();

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
