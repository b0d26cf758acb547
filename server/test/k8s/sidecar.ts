/**
 * A sidecar for the test cluster (harness.ts says how it runs), and a notebook run through it.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { REPO, tmpDir, waitFor } from '../helpers';
import {
  CONTAINER_PODS,
  GATES,
  GATES_CLAIM,
  JOBS_NS,
  Obj,
  RUNNER_IMAGE,
  plain
} from './cluster';
import { engine, engineArgs } from './kubelet';

export const TOKEN = 'k8s-test-token-0123456789abcdef';

/** The sidecar image images/build.sh --base local builds (global-setup.js builds it). */
export const SIDECAR_IMAGE = 'nbqueue-sidecar:test';
/**
 * Where the tests' sidecars run: from the sidecar image (the default), as the deployment runs
 * it, or NBQUEUE_K8S_SIDECAR=host: `node server/bin/nbqueue.js` from dist (for debugging).
 */
export const SIDECAR_FROM_IMAGE = process.env.NBQUEUE_K8S_SIDECAR !== 'host';

/** Where the sidecar's container finds its ServiceAccount (as a pod's token volume). */
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The sidecar, configured for the test cluster, so a test can kill it: by default a container
 * of the sidecar image on the host's network, as deploy/kubernetes/sidecar.yaml runs it (its
 * uid, its ServiceAccount's token, ca.crt and namespace mounted where a pod has them, the API
 * server named by KUBERNETES_SERVICE_HOST/PORT); with `fromImage: false` a process from dist.
 */
export class SidecarProcess {
  child: ChildProcess | undefined;
  readonly dir = tmpDir('nbq-k8s-sidecar-');
  readonly url: string;
  readonly fromImage: boolean;
  private readonly nodeArgs: string[];
  private readonly container: string;
  output = '';

  constructor(
    readonly port: number,
    kubernetes: Record<string, unknown> = {},
    profiles?: unknown[],
    options: {
      fromImage?: boolean;
      /** From dist only: node's own options (e.g. --cpu-prof for the benchmark). */
      nodeArgs?: string[];
      /** More users, each with its own token (auth.users). */
      users?: { user: string; token: string }[];
      /** More top-level sections of its nbqueue.yaml (e.g. checkpoints). */
      config?: Record<string, unknown>;
    } = {}
  ) {
    const cluster = process.env.NBQUEUE_K8S_DIR as string;
    this.fromImage = options.fromImage ?? SIDECAR_FROM_IMAGE;
    this.nodeArgs = options.nodeArgs ?? [];
    this.container = `nbq-k8s-sidecar-${process.pid}-${port}`;
    this.url = `http://127.0.0.1:${port}`;
    const config = {
      server: { host: '127.0.0.1', port },
      auth: { token: TOKEN, user: 'alice', users: options.users ?? [] },
      backend: {
        type: 'kubernetes',
        local: { cancel_grace_seconds: 2 },
        kubernetes: {
          namespace: JOBS_NS,
          image: RUNNER_IMAGE,
          // In its container: the in-cluster ServiceAccount, as in a pod.
          ...(this.fromImage
            ? {}
            : { kubeconfig: path.join(cluster, 'kubeconfig-sidecar') }),
          sidecar_url: this.url,
          watch_stall_seconds: 30,
          // The gate folder of the tests, a claim on a hostPath volume (global-setup.js).
          volumes: CONTAINER_PODS
            ? [{ claim_name: GATES_CLAIM, mount_path: GATES, read_only: true }]
            : [],
          // Runners wait out a sidecar restart; no system metrics series in these tests.
          env: {
            NBQUEUE_RETRY_SECONDS: '120',
            NBQUEUE_SYSTEM_METRICS_SECONDS: '0'
          },
          ...kubernetes
        }
      },
      profiles: profiles ?? [
        {
          name: 'cpu',
          cpus: 2,
          gpus: 0,
          memory: '4Gi',
          capacity: 50,
          kubernetes: {
            node_selector: { 'nbqueue.io/pool': 'cpu' },
            tolerations: []
          }
        },
        { name: 'gpu-1', cpus: 8, gpus: 1, memory: '32Gi', capacity: 50 },
        { name: 'gpu-2', cpus: 16, gpus: 2, memory: '64Gi', capacity: 50 }
      ],
      ...options.config
    };
    fs.writeFileSync(
      path.join(this.dir, 'nbqueue.yaml'),
      YAML.stringify(config)
    );
  }

  /** Starts it; `env`: more variables for it (NBQUEUE_FAULTS: src/faults.ts). */
  async start(env: Record<string, string> = {}): Promise<void> {
    this.output = '';
    if (this.fromImage) {
      const cluster = process.env.NBQUEUE_K8S_DIR as string;
      const api = new URL(plain.readEnv(cluster).K8S_SERVER);
      // Its state folder is the sidecar's own, as its volume in the deployment.
      fs.chownSync(this.dir, 1000, 1000);
      for (const f of fs.readdirSync(this.dir))
        fs.chownSync(path.join(this.dir, f), 1000, 1000);
      const [cmd, argv] = engineArgs([
        'run',
        '--rm',
        '--name',
        this.container,
        '--pull',
        'never',
        '--network',
        'host',
        '--cap-drop',
        'ALL',
        '--security-opt',
        'no-new-privileges',
        '-v',
        `${this.dir}:/var/lib/nbqueue:rw`,
        '-v',
        `${path.join(cluster, 'serviceaccount')}:${SA_DIR}:ro`,
        '-e',
        `KUBERNETES_SERVICE_HOST=${api.hostname}`,
        '-e',
        `KUBERNETES_SERVICE_PORT=${api.port}`,
        '-e',
        'NBQUEUE_STATE_FILE=/var/lib/nbqueue/server.json',
        ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        SIDECAR_IMAGE,
        'serve',
        '--config',
        '/var/lib/nbqueue/nbqueue.yaml',
        '--db',
        '/var/lib/nbqueue/nbqueue.db'
      ]);
      this.child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    } else
      this.child = spawn(
        'node',
        [
          ...this.nodeArgs,
          path.join(REPO, 'server/bin/nbqueue.js'),
          'serve',
          '--config',
          path.join(this.dir, 'nbqueue.yaml'),
          '--db',
          path.join(this.dir, 'nbqueue.db')
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            NBQUEUE_STATE_FILE: path.join(this.dir, 'server.json'),
            ...env
          }
        }
      );
    this.child.stdout?.on('data', d => (this.output += d));
    this.child.stderr?.on('data', d => (this.output += d));
    const child = this.child;
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(
            `the sidecar exited (${child.exitCode}): ${this.output}`
          );
        const res = await fetch(`${this.url}/api/health`);
        return res.ok;
      },
      'the sidecar to answer',
      30000,
      100
    ).catch(err => {
      throw new Error(`${err.message}\nsidecar output:\n${this.output}`);
    });
  }

  /** Whether it has stopped (a fault killed it, or a test). */
  get exited(): boolean {
    return (
      !this.child || this.child.exitCode !== null || !!this.child.signalCode
    );
  }

  /** Kills it at once, as a crash or a node loss would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise(r => child.once('exit', r));
    if (this.fromImage)
      await engine(['kill', '--signal', 'KILL', this.container]).catch(
        () => undefined
      );
    else child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise(r => child.once('exit', r));
    if (this.fromImage)
      await engine(['stop', '-t', '10', this.container], 60000).catch(
        () => undefined
      );
    else child.kill('SIGTERM');
    await gone;
  }

  async api<T = Obj>(
    method: string,
    route: string,
    body?: unknown,
    token = TOKEN
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${route}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {})
      },
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* text */
    }
    return { status: res.status, body: parsed as T };
  }

  async job(id: string): Promise<Obj> {
    return (await this.api('GET', `/api/jobs/${id}`)).body;
  }
}

/**
 * Submits the notebook file `file` (an .ipynb, e.g. one of runner-image/tests/corpus) to
 * `sidecar` with `profile` and waits for it to end: the job view at its end. The place for the
 * corpus subset to run through this suite.
 */
export async function runNotebookFile(
  sidecar: SidecarProcess,
  profile: string,
  file: string,
  timeoutMs = 180000,
  parameters?: Record<string, unknown>
): Promise<Obj> {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  const res = await sidecar.api('POST', '/api/jobs', {
    profile,
    notebook: nb,
    name: path.basename(file),
    ...(parameters ? { parameters } : {})
  });
  if (res.status !== 201)
    throw new Error(
      `submit ${file}: ${res.status} ${JSON.stringify(res.body)}`
    );
  const id = res.body.id as string;
  return waitFor(
    async () => {
      const job = await sidecar.job(id);
      return ['succeeded', 'failed', 'cancelled'].includes(job.state)
        ? job
        : null;
    },
    `${path.basename(file)} (job ${id}) to end`,
    timeoutMs,
    250
  );
}
