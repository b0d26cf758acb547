/**
 * The runner harness: plays the kubelet's part kwok leaves out (harness.ts says how).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PYTHON, REPO, tmpDir, waitFor } from '../helpers';
import { CONTAINER_PODS, Cluster, JOBS_NS, Obj, terminated } from './cluster';
import { ContainerEnd, PodContainer, PodVolumes, runArgs } from './kubelet';

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
  /**
   * Pods seen waiting with PodScheduled=False (nbqueue should never create one), each with the
   * scheduler's reason and message ("0/6 nodes are available: ...").
   */
  readonly unschedulable = new Map<string, string>();

  /**
   * The pods the scheduler found no room for ("Insufficient nvidia.com/gpu", "Too many pods"):
   * what nbqueue's admission must never cause. Not among them: a pod held back for a moment by
   * the scheduler's volume binding ("pod has unbound immediate PersistentVolumeClaims", with
   * many pods mounting one claim at once, kubernetes/kubernetes#86669), which no node, new or
   * old, would change.
   */
  noRoom(): Record<string, string> {
    return Object.fromEntries(
      [...this.unschedulable].filter(([, why]) =>
        /Insufficient |Too many pods/.test(why)
      )
    );
  }
  /** Pod name -> ms since the epoch when the harness started its runner. */
  readonly startedAt = new Map<string, number>();
  /** Pod name -> why its container could not be started (the pod is then marked Failed). */
  readonly refused = new Map<string, string>();
  /** Pods whose token Secret was not there yet when their runner was to start. */
  readonly secretWaits = new Set<string>();
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
        const waiting = (pod.status?.conditions ?? []).find(
          (c: Obj) => c.type === 'PodScheduled' && c.status === 'False'
        );
        if (waiting && !this.unschedulable.has(name))
          this.unschedulable.set(
            name,
            `${new Date().toISOString()} ${waiting.reason}: ${waiting.message}`
          );
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
    let env: Record<string, string>;
    try {
      env = await this.podEnv(pod);
    } catch (err) {
      // The token Secret is written just after its Job: as a kubelet does
      // (CreateContainerConfigError), try again on a later tick.
      if (/^Error: secret .*: 404$/.test(String(err))) {
        this.secretWaits.add(name);
        return;
      }
      throw err;
    }
    this.startedAt.set(name, Date.now());
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
