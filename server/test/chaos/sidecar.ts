/**
 * The real sidecar as a process (`node server/bin/nbqueue.js serve`, from dist) with the local
 * backend, on a fixed port and store so a restart finds its jobs, started with NBQUEUE_FAULTS
 * (src/faults.ts) when a test arms a crash, and killed from outside with SIGKILL.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { PYTHON, REPO, tmpDir, waitFor } from '../helpers';

export const TOKEN = 'chaos-token-0123456789abcdef';

/** What a sidecar prints when an armed fault (NBQUEUE_FAULTS) kills it. */
export const FAULT_FIRED = /fault (\S+)@\d+: killing the sidecar\n/;

/** A loopback port free now: a restarted sidecar listens on the same one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface ChaosOptions {
  /** Process slots of the one profile, cpu. */
  capacity?: number;
  /** Where runners reach the sidecar (a cutting proxy's URL); the sidecar itself by default. */
  publicUrl?: string;
}

export class ChaosSidecar {
  readonly dir = tmpDir('nbq-chaos-');
  readonly url: string;
  child: ChildProcess | undefined;
  output = '';
  /** How many times this sidecar was started (the first start included). */
  starts = 0;

  constructor(
    readonly port: number,
    options: ChaosOptions = {}
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const config = {
      server: {
        host: '127.0.0.1',
        port,
        ...(options.publicUrl ? { public_url: options.publicUrl } : {})
      },
      auth: { token: TOKEN, user: 'alice' },
      backend: {
        type: 'local',
        local: {
          python: PYTHON,
          cancel_grace_seconds: 2,
          single_os_user: true,
          log_dir: path.join(this.dir, 'logs'),
          // The runners from this checkout; they wait out every restart of the tests.
          env: {
            PYTHONPATH: path.join(REPO, 'runner-image'),
            NBQUEUE_RETRY_SECONDS: '120',
            NBQUEUE_SYSTEM_METRICS_SECONDS: '0'
          }
        }
      },
      profiles: [
        {
          name: 'cpu',
          cpus: 1,
          gpus: 0,
          memory: '1Gi',
          capacity: options.capacity ?? 2
        }
      ]
    };
    fs.writeFileSync(
      path.join(this.dir, 'nbqueue.json'),
      JSON.stringify(config)
    );
  }

  get running(): boolean {
    return (
      !!this.child && this.child.exitCode === null && !this.child.signalCode
    );
  }

  /**
   * Starts it (crashing at `faults`, NBQUEUE_FAULTS's syntax, if given); resolves once it
   * answers, or once an armed fault has killed it before it did (a runner that reconnects at
   * once can reach the fault's point first): then `running` is false.
   */
  async start(faults = ''): Promise<void> {
    this.starts += 1;
    const child = spawn(
      process.execPath,
      [
        path.join(REPO, 'server/bin/nbqueue.js'),
        'serve',
        '--config',
        path.join(this.dir, 'nbqueue.json'),
        '--db',
        path.join(this.dir, 'nbqueue.db'),
        '--state-file',
        path.join(this.dir, 'server.json')
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NBQUEUE_FAULTS: faults }
      }
    );
    this.child = child;
    const log = path.join(this.dir, 'sidecar.log');
    fs.appendFileSync(
      log,
      `--- start ${this.starts} ${new Date().toISOString()} NBQUEUE_FAULTS=${faults}\n`
    );
    for (const stream of [child.stdout, child.stderr])
      stream?.on('data', d => {
        this.output += d;
        fs.appendFileSync(log, d);
      });
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode) {
          if (faults && FAULT_FIRED.test(this.output)) return true;
          throw new Error(`the sidecar exited: ${this.output.slice(-2000)}`);
        }
        return (await this.api('GET', '/api/health')).status === 200;
      },
      'the sidecar to answer',
      30000,
      50
    );
  }

  /** Resolves when the process is gone; its signal (SIGKILL for a fault that fired). */
  exited(): Promise<string | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode)
      return Promise.resolve(child?.signalCode ?? null);
    return new Promise(resolve =>
      child.once('exit', (_, signal) => resolve(signal))
    );
  }

  /** Kills it at once from outside, as a crash or a node loss would. */
  async kill(): Promise<void> {
    if (!this.running) return;
    const gone = this.exited();
    this.child?.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    const gone = this.exited();
    this.child?.kill('SIGTERM');
    await gone;
  }

  /**
   * One REST call on a connection of its own (a kept-alive one may be the killed sidecar's),
   * failing after 20 s: the sidecar may die while it answers.
   */
  api<T = any>( // eslint-disable-line @typescript-eslint/no-explicit-any
    method: string,
    route: string,
    body?: unknown
  ): Promise<{ status: number; body: T }> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.url}${route}`,
        {
          method,
          agent: false,
          timeout: 20000,
          headers: {
            Authorization: `Bearer ${TOKEN}`,
            ...(data !== undefined
              ? {
                  'Content-Type': 'application/json',
                  'Content-Length': Buffer.byteLength(data)
                }
              : {})
          }
        },
        res => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', d => (text += d));
          res.on('error', reject);
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
        }
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${route} timed out`))
      );
      req.on('error', reject);
      req.end(data);
    });
  }
}
