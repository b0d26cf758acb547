/**
 * A real JupyterHub (from the dev virtualenv) with configurable-http-proxy (from npm), running
 * deploy/jupyterhub/jupyterhub_config.py through jupyterhub_test_config.py: the nbqueue sidecar
 * is the hub's `nbqueue` service, started by the hub from the built CLI (server/dist).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { REPO, PYTHON, tmpDir, waitFor } from '../helpers';

export const HUB_PASSWORD = 'nbqueue-test-password';

export interface Hub {
  /** The proxy's public URL (people's address for the hub), no trailing slash. */
  url: string;
  /** The nbqueue service behind the proxy: http://127.0.0.1:<port>/services/nbqueue */
  service: string;
  dir: string;
  /** A new hub token for `user`, asked with the user's password. */
  token(
    user: string,
    options?: { scopes?: string[]; expiresIn?: number }
  ): Promise<string>;
  /** GET/POST/DELETE on the hub's REST API (`route` below /hub/api). */
  hubApi<T = unknown>(
    method: string,
    route: string,
    token: string,
    body?: unknown
  ): Promise<{ status: number; body: T }>;
  /** A call through the proxy, to `url + route`, with `Authorization: token <token>`. */
  call<T = unknown>(
    method: string,
    route: string,
    token: string | null,
    body?: unknown
  ): Promise<{ status: number; body: T }>;
  log(): string;
  stop(): Promise<void>;
}

async function request<T>(
  method: string,
  url: string,
  token: string | null,
  body?: unknown
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    headers: {
      ...(token ? { Authorization: `token ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {})
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T };
}

/** What the suite needs built; a clear message instead of a hub that never gets ready. */
export function missingForHub(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(path.join(REPO, 'server', 'dist', 'cli', 'main.js')))
    missing.push('the sidecar build: npm run build -w server');
  if (!fs.existsSync(path.join(path.dirname(PYTHON), 'jupyterhub')))
    missing.push('jupyterhub in .venv (requirements-dev.lock)');
  if (
    !fs.existsSync(
      path.join(REPO, 'node_modules', '.bin', 'configurable-http-proxy')
    )
  )
    missing.push('configurable-http-proxy: npm ci');
  return missing;
}

/**
 * Starts the hub on `port` (proxy), port + 1 (proxy API), port + 2 (hub), port + 3 (the
 * nbqueue service); single-user servers on labPort and up.
 */
export async function startHub(
  port: number,
  labPort: number,
  sidecar: Record<string, unknown> = {}
): Promise<Hub> {
  const missing = missingForHub();
  if (missing.length)
    throw new Error(`Build these first:\n  ${missing.join('\n  ')}`);
  const dir = tmpDir('nbq-hub-');
  // The example sidecar configuration, with this run's store and the venv's Python.
  const example = YAML.parse(
    fs.readFileSync(
      path.join(REPO, 'deploy', 'jupyterhub', 'nbqueue.yaml'),
      'utf8'
    )
  ) as Record<string, Record<string, unknown>>;
  const config = {
    ...example,
    store: { path: path.join(dir, 'nbqueue.db') },
    backend: {
      type: 'local',
      local: {
        python: PYTHON,
        cancel_grace_seconds: 3,
        log_dir: path.join(dir, 'logs'),
        // SimpleLocalProcessSpawner runs every user's server as the hub's own account; so do
        // these jobs (the example's os_user needs a root hub and real accounts).
        single_os_user: true
      }
    },
    ...sidecar
  };
  const configFile = path.join(dir, 'nbqueue.yaml');
  fs.writeFileSync(configFile, YAML.stringify(config));

  const logFile = path.join(dir, 'jupyterhub.log');
  const out = fs.openSync(logFile, 'a');
  const hub: ChildProcess = spawn(
    path.join(path.dirname(PYTHON), 'jupyterhub'),
    ['-f', path.join(__dirname, 'jupyterhub_test_config.py')],
    {
      cwd: dir,
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        NBQUEUE_HUB_TMP: dir,
        NBQUEUE_HUB_PORT: String(port),
        NBQUEUE_HUB_PASSWORD: HUB_PASSWORD,
        NBQUEUE_LAB_PORT: String(labPort),
        NBQUEUE_SERVICE_URL: `http://127.0.0.1:${port + 3}`,
        NBQUEUE_SIDECAR_CONFIG: configFile,
        NBQUEUE_COMMAND: `node ${path.join(REPO, 'server', 'bin', 'nbqueue.js')}`,
        NBQUEUE_STATE_FILE: path.join(dir, 'server.json'),
        PYTHONPATH: path.join(REPO, 'runner-image'),
        PATH: `${path.dirname(PYTHON)}:${process.env.PATH ?? ''}`
      }
    }
  );
  fs.closeSync(out);
  let exited: number | null | undefined;
  hub.on('exit', code => (exited = code));

  const url = `http://127.0.0.1:${port}`;
  const service = `${url}/services/nbqueue`;
  const log = () => fs.readFileSync(logFile, 'utf8');
  try {
    await waitFor(
      async () => {
        if (exited !== undefined)
          throw new Error(
            `jupyterhub exited (${exited}):\n${log().slice(-3000)}`
          );
        const health = await fetch(`${service}/api/health`);
        return health.ok;
      },
      'the hub and its nbqueue service',
      90000,
      250
    );
  } catch (err) {
    await stopProcess(hub);
    throw new Error(
      `${(err as Error).message}\n--- hub log ---\n${log().slice(-4000)}`
    );
  }

  return {
    url,
    service,
    dir,
    log,
    async token(user, options = {}) {
      const { status, body } = await request<{ token: string }>(
        'POST',
        `${url}/hub/api/users/${user}/tokens`,
        null,
        {
          auth: { username: user, password: HUB_PASSWORD },
          note: 'nbqueue hub tests',
          ...(options.scopes ? { scopes: options.scopes } : {}),
          ...(options.expiresIn ? { expires_in: options.expiresIn } : {})
        }
      );
      if (status !== 201)
        throw new Error(`token for ${user}: ${status} ${JSON.stringify(body)}`);
      return body.token;
    },
    hubApi(method, route, token, body) {
      return request(method, `${url}/hub/api${route}`, token, body);
    },
    call(method, route, token, body) {
      return request(method, `${url}${route}`, token, body);
    },
    async stop() {
      await stopProcess(hub);
      // The scratch folder (hub database, homes, logs) goes, unless asked to keep it.
      if (!process.env.NBQUEUE_KEEP_HUB_TMP)
        fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** SIGTERM to the hub (it stops the proxy, the service and the servers), SIGKILL if it lingers. */
async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>(resolve => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-(proc.pid as number), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 20000);
  await done;
  clearTimeout(timer);
}
