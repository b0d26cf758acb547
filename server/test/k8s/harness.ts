/**
 * What the Kubernetes tests run against: the control plane global-setup.js started, a real
 * sidecar process (from dist, with the ServiceAccount token of deploy/kubernetes/rbac.yaml),
 * and a runner harness that plays the kubelet's part kwok leaves out: for each job pod kwok
 * reports Running it runs the real runner with that pod's environment (its Secret resolved),
 * then marks the pod Succeeded or Failed the way a kubelet would.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import YAML from 'yaml';
import { PYTHON, REPO, tmpDir, waitFor } from '../helpers';
import {
  ContainerEnd,
  PodContainer,
  PodVolumes,
  engine,
  engineArgs,
  runArgs
} from './kubelet';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const plain = require('./api-plain') as {
  readEnv(dir: string): Record<string, string>;
  request(
    env: Record<string, string>,
    method: string,
    route: string,
    body?: unknown,
    contentType?: string
  ): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

export const JOBS_NS = 'nbqueue-jobs';
export const OWNED = 'app.kubernetes.io/managed-by=nbqueue';
/** An image the kwok stages never start (ImagePullBackOff). */
export const MISSING_IMAGE = 'nbqueue.invalid/missing:0';
/**
 * Each job pod runs as containers of the runner image (podman, from the pod spec: kubelet.ts).
 * NBQUEUE_K8S_PODS=host runs the runner on this host's Python instead, to debug the harness.
 */
export const CONTAINER_PODS = process.env.NBQUEUE_K8S_PODS !== 'host';
/** The runner image images/build.sh --base local builds (global-setup.js builds it). */
export const RUNNER_IMAGE = 'nbqueue-runner:test';
/** A folder every job pod mounts read-only (claim GATES_CLAIM): tests open gates in it. */
export const GATES = process.env.NBQUEUE_K8S_GATES as string;
export const GATES_CLAIM = 'nbqueue-test-gates';
/** The environment cache's claim (global-setup.js): a folder owned by uid 1001. */
export const ENVIRONMENTS_CLAIM = 'nbqueue-test-environments';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Obj = any;

export class Cluster {
  readonly dir = process.env.NBQUEUE_K8S_DIR as string;
  readonly env = plain.readEnv(this.dir);

  async call(
    method: string,
    route: string,
    body?: unknown,
    contentType?: string
  ): Promise<{ status: number; body: Obj }> {
    return plain.request(this.env, method, route, body, contentType);
  }

  async list(route: string, labelSelector = OWNED): Promise<Obj[]> {
    const sep = route.includes('?') ? '&' : '?';
    const res = await this.call(
      'GET',
      `${route}${sep}labelSelector=${encodeURIComponent(labelSelector)}`
    );
    if (res.status !== 200)
      throw new Error(
        `GET ${route}: ${res.status} ${JSON.stringify(res.body)}`
      );
    return res.body.items;
  }

  jobs(): Promise<Obj[]> {
    return this.list(`/apis/batch/v1/namespaces/${JOBS_NS}/jobs`);
  }

  pods(): Promise<Obj[]> {
    return this.list(`/api/v1/namespaces/${JOBS_NS}/pods`);
  }

  secrets(): Promise<Obj[]> {
    return this.list(`/api/v1/namespaces/${JOBS_NS}/secrets`);
  }

  async patchPodStatus(name: string, status: Obj): Promise<void> {
    const res = await this.call(
      'PATCH',
      `/api/v1/namespaces/${JOBS_NS}/pods/${name}/status`,
      { status },
      'application/merge-patch+json'
    );
    if (res.status !== 200 && res.status !== 404)
      throw new Error(
        `patch pod ${name}: ${res.status} ${JSON.stringify(res.body)}`
      );
  }

  /** Deletes every nbqueue Job (and so its pods and Secret) left by an earlier test. */
  async clean(): Promise<void> {
    await this.call(
      'DELETE',
      `/apis/batch/v1/namespaces/${JOBS_NS}/jobs?labelSelector=${encodeURIComponent(OWNED)}&propagationPolicy=Background`
    );
    await waitFor(
      async () =>
        (await this.pods()).length === 0 && (await this.jobs()).length === 0,
      'no nbqueue Jobs or pods left',
      60000,
      250
    );
  }
}

/** The pod's terminated container status, as a kubelet reports it. */
export function terminated(pod: Obj, exitCode: number, reason: string): Obj {
  const now = new Date().toISOString();
  return {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions: [
      { type: 'Ready', status: 'False', lastTransitionTime: now },
      { type: 'ContainersReady', status: 'False', lastTransitionTime: now }
    ],
    containerStatuses: pod.spec.containers.map((c: Obj) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      restartCount: 0,
      started: false,
      state: {
        terminated: {
          exitCode,
          reason,
          startedAt: pod.status?.startTime ?? now,
          finishedAt: now
        }
      }
    }))
  };
}

interface RunnerProc {
  stop(graceSeconds: number): void;
  kill(): void;
  pod: string;
  jobId: string;
  started: number;
}

export interface HarnessOptions {
  /**
   * Runs `python -m nbqueue.runner` on this host's Python instead of the pod's container: only
   * for a test that says why (no image, or a check of the runner alone).
   */
  hostRunners?: boolean;
  /** Host runners only: more environment for them. */
  extraEnv?: Record<string, string>;
}

/**
 * For each nbqueue pod kwok reports Running, runs its container from the pod spec
 * (kubelet.ts); when the container exits, its pod is marked Succeeded (exit 0) or Failed with
 * the container's exit code and reason (OOMKilled included); when its pod is deleted, the
 * container is stopped (SIGTERM, then SIGKILL after the pod's grace period), as a kubelet would.
 */
export class RunnerHarness {
  readonly runners = new Map<string, RunnerProc>();
  /** Pods seen waiting with PodScheduled=False (nbqueue should never create one). */
  readonly unschedulable = new Set<string>();
  /** Pod name -> ms since the epoch when the harness started its runner. */
  readonly startedAt = new Map<string, number>();
  /** Pod name -> why its container could not be started (the pod is then marked Failed). */
  readonly refused = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private nextStart = 0;
  private readonly workDir = tmpDir('nbq-k8s-runners-');
  private readonly prefix = `nbq-k8s-${process.pid}-`;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: HarnessOptions = { hostRunners: !CONTAINER_PODS }
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), 200);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const pods = await this.cluster.pods();
      const seen = new Set<string>();
      for (const pod of pods) {
        const name = pod.metadata.name as string;
        seen.add(name);
        if (
          (pod.status?.conditions ?? []).some(
            (c: Obj) => c.type === 'PodScheduled' && c.status === 'False'
          )
        )
          this.unschedulable.add(name);
        const running = this.runners.get(name);
        const ended = ['Succeeded', 'Failed'].includes(pod.status?.phase);
        if (running && (pod.metadata.deletionTimestamp || ended)) {
          if (ended) running.kill();
          else running.stop(pod.spec.terminationGracePeriodSeconds ?? 30);
          continue;
        }
        if (
          !running &&
          !this.startedAt.has(name) &&
          pod.status?.phase === 'Running' &&
          !pod.metadata.deletionTimestamp &&
          Date.now() >= this.nextStart
        ) {
          // Runners start a little apart: pods here share the host's network, where kernels
          // starting at the same instant can race for the same free port.
          this.nextStart = Date.now() + 250;
          await this.run(pod);
        }
      }
      for (const [name, r] of this.runners) if (!seen.has(name)) r.stop(2);
    } catch {
      /* the API server restarting or a pod going away mid-read: next tick */
    } finally {
      this.busy = false;
    }
  }

  /** A container's environment, each secretKeyRef read from its Secret. */
  private async podEnv(
    pod: Obj,
    c: Obj = pod.spec.containers[0]
  ): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        const secret = await this.cluster.call(
          'GET',
          `/api/v1/namespaces/${pod.metadata.namespace}/secrets/${ref.name}`
        );
        if (secret.status !== 200)
          throw new Error(`secret ${ref.name}: ${secret.status}`);
        env[e.name] = Buffer.from(secret.body.data[ref.key], 'base64').toString(
          'utf8'
        );
      }
    }
    return env;
  }

  private readonly volumes: PodVolumes = {
    claim: async (claim: string) => {
      const pvc = await this.cluster.call(
        'GET',
        `/api/v1/namespaces/${JOBS_NS}/persistentvolumeclaims/${claim}`
      );
      const pv = pvc.body?.spec?.volumeName
        ? await this.cluster.call(
            'GET',
            `/api/v1/persistentvolumes/${pvc.body.spec.volumeName}`
          )
        : undefined;
      const host = pv?.body?.spec?.hostPath?.path;
      if (!host)
        throw new Error(`claim ${claim} is not bound to a hostPath volume`);
      return host;
    },
    emptyDir: (pod: string, name: string) => {
      const dir = path.join(this.workDir, 'emptydir', pod, name);
      fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      return dir;
    }
  };

  private async run(pod: Obj): Promise<void> {
    const name = pod.metadata.name as string;
    this.startedAt.set(name, Date.now());
    const env = await this.podEnv(pod);
    const logPath = path.join(this.workDir, `${name}.log`);
    const log = fs.openSync(logPath, 'a');
    let proc: RunnerProc;
    let ended: Promise<ContainerEnd>;
    try {
      if (this.options.hostRunners) {
        const child = spawn(PYTHON, ['-m', 'nbqueue.runner'], {
          cwd: this.workDir,
          stdio: ['ignore', log, log],
          env: {
            ...process.env,
            PYTHONPATH: path.join(REPO, 'runner-image'),
            ...this.options.extraEnv,
            ...env
          }
        });
        proc = {
          stop: () => child.kill('SIGTERM'),
          kill: () => child.kill('SIGKILL'),
          pod: name,
          jobId: env.NBQUEUE_JOB_ID,
          started: Date.now()
        };
        ended = new Promise(resolve =>
          child.once('exit', code =>
            resolve({
              exitCode: code ?? 137,
              reason: code === 0 ? 'Completed' : 'Error'
            })
          )
        );
      } else {
        // Its init containers one after another, each to a clean exit, then its container.
        let current: PodContainer | undefined;
        let stopped = false;
        const sequence = [
          ...(pod.spec.initContainers ?? []),
          pod.spec.containers[0]
        ];
        const runAll = async (): Promise<ContainerEnd> => {
          for (const [i, c] of sequence.entries()) {
            if (stopped) return { exitCode: 137, reason: 'Error' };
            const last = i === sequence.length - 1;
            const cname = this.prefix + name + (last ? '' : `-${c.name}`);
            const args = await runArgs(
              pod,
              c,
              await this.podEnv(pod, c),
              this.volumes,
              cname
            );
            const out = fs.openSync(logPath, 'a');
            fs.writeSync(out, `# ${args.join(' ')}\n`);
            current = new PodContainer(cname, args, out);
            fs.closeSync(out);
            const end = await current.ended;
            if (last || end.exitCode !== 0) return end;
          }
          throw new Error('unreachable');
        };
        proc = {
          stop: grace => {
            stopped = true;
            current?.stop(grace);
          },
          kill: () => {
            stopped = true;
            current?.kill();
          },
          pod: name,
          jobId: env.NBQUEUE_JOB_ID,
          started: Date.now()
        };
        ended = runAll().catch(err => {
          this.refused.set(name, String(err));
          return { exitCode: 128, reason: 'Error' as const };
        });
      }
    } catch (err) {
      // What a kubelet reports as CreateContainerConfigError, shown as a failed container.
      this.refused.set(name, String(err));
      fs.writeSync(log, `${err}\n`);
      ended = Promise.resolve({ exitCode: 128, reason: 'Error' as const });
      proc = {
        stop: () => undefined,
        kill: () => undefined,
        pod: name,
        jobId: env.NBQUEUE_JOB_ID,
        started: Date.now()
      };
    } finally {
      fs.closeSync(log);
    }
    this.runners.set(name, proc);
    void ended
      .then(async ({ exitCode, reason }) => {
        this.runners.delete(name);
        const res = await this.cluster.call(
          'GET',
          `/api/v1/namespaces/${pod.metadata.namespace}/pods/${name}`
        );
        if (res.status !== 200 || res.body.metadata.deletionTimestamp) return;
        if (res.body.status?.phase !== 'Running') return;
        await this.cluster.patchPodStatus(
          name,
          terminated(res.body, exitCode, reason)
        );
      })
      .catch(() => undefined);
  }

  runnerLog(pod: string): string {
    try {
      return fs.readFileSync(path.join(this.workDir, `${pod}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const r of this.runners.values()) r.kill();
    await waitFor(() => this.runners.size === 0, 'runners stopped', 30000);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

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
  private readonly container: string;
  output = '';

  constructor(
    readonly port: number,
    kubernetes: Record<string, unknown> = {},
    profiles?: unknown[],
    options: {
      fromImage?: boolean;
      /** More users, each with its own token (auth.users). */
      users?: { user: string; token: string }[];
    } = {}
  ) {
    const cluster = process.env.NBQUEUE_K8S_DIR as string;
    this.fromImage = options.fromImage ?? SIDECAR_FROM_IMAGE;
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
      ]
    };
    fs.writeFileSync(
      path.join(this.dir, 'nbqueue.yaml'),
      YAML.stringify(config)
    );
  }

  async start(): Promise<void> {
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
            NBQUEUE_STATE_FILE: path.join(this.dir, 'server.json')
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
