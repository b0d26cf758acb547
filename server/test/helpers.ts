import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseConfig } from '../src/config/load';
import type { ConfigInput } from '../src/config/schema';
import type { Backend, BackendObserver } from '../src/backends/backend';
import { LocalBackend } from '../src/backends/local';
import { startSidecar, Sidecar } from '../src/server';

export const REPO = path.resolve(__dirname, '..', '..');
/** The dev virtualenv's Python (make installs it), with ipykernel and nbclient. */
export const PYTHON =
  process.env.NBQUEUE_TEST_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');

export function tmpDir(prefix = 'nbq-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The local backend, for tests that build the job rooms themselves; its logs in a new folder. */
export function localBackend(observer: BackendObserver): Backend {
  return new LocalBackend(
    { python: PYTHON, cancelGraceSeconds: 1, logDir: tmpDir('nbq-logs-') },
    observer
  );
}

export interface TestSidecar extends Sidecar {
  dir: string;
  dbPath: string;
  api<T = unknown>(
    method: string,
    route: string,
    body?: unknown,
    token?: string | null
  ): Promise<{ status: number; body: T }>;
}

/** A real sidecar on a free loopback port, with its own store, running runners from the repo. */
export async function startTestSidecar(
  overrides: ConfigInput = {},
  dir = tmpDir()
): Promise<TestSidecar> {
  const config = parseConfig({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...(overrides.server ?? {}) },
    backend: {
      type: 'local',
      local: {
        python: PYTHON,
        cancel_grace_seconds: 3,
        log_dir: path.join(dir, 'logs'),
        // Test users share the test's account unless a test gives each its own (os_user).
        single_os_user: !overrides.backend?.local?.os_user,
        ...(overrides.backend?.local ?? {})
      }
    },
    auth: {
      token: 'test-token-0123456789abcdef',
      user: 'alice',
      ...(overrides.auth ?? {})
    }
  });
  const dbPath = path.join(dir, 'nbqueue.db');
  const sidecar = await startSidecar({
    config,
    dbPath,
    runnerEnv: {
      PYTHONPATH: path.join(REPO, 'runner-image'),
      NBQUEUE_RETRY_SECONDS: '60'
    }
  });
  return {
    ...sidecar,
    dir,
    dbPath,
    async api<T>(
      method: string,
      route: string,
      body?: unknown,
      token: string | null = sidecar.token
    ) {
      const res = await fetch(`${sidecar.url}${route}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {})
        },
        body:
          body === undefined
            ? undefined
            : typeof body === 'string'
              ? body
              : JSON.stringify(body)
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
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 30000,
  everyMs = 50
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`
      );
    await new Promise(r => setTimeout(r, everyMs));
  }
}

let cellCounter = 0;
export function code(
  source: string,
  extra: Record<string, unknown> = {}
): Record<string, unknown> {
  cellCounter += 1;
  return {
    cell_type: 'code',
    id: `c${cellCounter}`,
    metadata: {},
    source,
    outputs: [],
    execution_count: null,
    ...extra
  };
}

export function notebook(
  cells: Record<string, unknown>[]
): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    cells
  };
}

const CLI_BIN = path.join(__dirname, '..', 'bin', 'nbqueue.js');

/** Runs the real `nbqueue` CLI (needs `npm run build -w server`) with extra environment. */
export function cli(
  args: string[],
  env: Record<string, string>
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      env: { ...process.env, ...env }
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.on('close', c => resolve({ code: c ?? -1, stdout, stderr }));
  });
}

/**
 * Writes the on-disk notebook fixtures with nbformat (test/fixtures/notebooks/make.py) into a
 * fresh folder; `extra` is passed on (e.g. `--big big.ipynb 200`).
 */
export function makeNotebooks(...extra: string[]): string {
  const dir = tmpDir('nbq-notebooks-');
  execFileSync(
    PYTHON,
    [path.join(__dirname, 'fixtures', 'notebooks', 'make.py'), dir, ...extra],
    { stdio: 'pipe' }
  );
  return dir;
}

/** The make.py notebooks that run (same cells, several nbformat versions and shapes). */
export const VARIANTS = [
  'v4.0.ipynb',
  'v4.2.ipynb',
  'v4.4.ipynb',
  'v4.5-no-kernelspec.ipynb'
];
