/**
 * The part of a kubelet kwok leaves out, for one pod: its container run with podman (or
 * docker) from the pod spec (image, command and args, env with secretKeyRef values,
 * securityContext, volumes, working directory, memory limit), and its end as a kubelet reports
 * it (exit code; OOMKilled when the memory cgroup killed something).
 *
 * Volumes: a PersistentVolumeClaim is the host folder of its bound PersistentVolume's hostPath
 * (the tests create those), shared by every pod that mounts the claim as a ReadWriteMany volume
 * would be; an emptyDir is a fresh folder per pod. Pods share the host's network (the sidecar
 * listens on 127.0.0.1 here, as a Service would answer in a cluster).
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

const ENGINE_SH = path.resolve(__dirname, '../../../images/engine.sh');

/** Runs the container engine of images/engine.sh (podman with this host's settings, or docker). */
export function engineArgs(args: string[]): [string, string[]] {
  return [
    'bash',
    [
      '-c',
      `source '${ENGINE_SH}' && exec "\${ENGINE[@]}" "$@"`,
      'engine',
      ...args
    ]
  ];
}

export function engine(args: string[], timeoutMs = 60000): Promise<string> {
  const [cmd, argv] = engineArgs(args);
  return new Promise((resolve, reject) =>
    execFile(cmd, argv, { timeout: timeoutMs }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${args[0]}: ${err.message} ${stderr}`))
        : resolve(stdout)
    )
  );
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40
};

/** A Kubernetes memory quantity ("256Mi", "4Gi", "1e9") in bytes. */
export function bytes(quantity: string): number {
  const m = /^([0-9.e+]+)([kMGT]i?)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? '']);
}

export interface PodVolumes {
  /** Host folder of a claim (the hostPath of its bound PersistentVolume). */
  claim(name: string): Promise<string>;
  /** A fresh folder for one pod's emptyDir. */
  emptyDir(pod: string, name: string): string;
}

export interface ContainerEnd {
  exitCode: number;
  reason: 'Completed' | 'Error' | 'OOMKilled';
}

/** The engine's `run` arguments for one of a pod's containers `c` (its env already resolved). */
export async function runArgs(
  pod: Obj,
  c: Obj,
  env: Record<string, string>,
  volumes: PodVolumes,
  containerName: string
): Promise<string[]> {
  const spec = pod.spec;
  const podSec = spec.securityContext ?? {};
  const sec = { ...podSec, ...(c.securityContext ?? {}) };
  const args = [
    'run',
    '--name',
    containerName,
    '--pull',
    'never',
    '--network',
    'host',
    '--hostname',
    pod.metadata.name
  ];
  if (sec.runAsUser !== undefined) {
    if (sec.runAsNonRoot && sec.runAsUser === 0)
      throw new Error('runAsNonRoot with runAsUser 0');
    args.push('--user', `${sec.runAsUser}:${sec.runAsGroup ?? sec.runAsUser}`);
  } else if (sec.runAsNonRoot) {
    const user = (
      await engine([
        'image',
        'inspect',
        '--format',
        '{{.Config.User}}',
        c.image
      ])
    ).trim();
    if (!user || /^(root|0)(:|$)/.test(user))
      throw new Error(`image ${c.image} runs as root and runAsNonRoot is set`);
  }
  if (podSec.fsGroup !== undefined)
    args.push('--group-add', String(podSec.fsGroup));
  if (sec.readOnlyRootFilesystem)
    args.push('--read-only', '--read-only-tmpfs=false');
  if (sec.allowPrivilegeEscalation === false)
    args.push('--security-opt', 'no-new-privileges');
  for (const cap of sec.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of sec.capabilities?.add ?? []) args.push('--cap-add', cap);
  const memory = c.resources?.limits?.memory;
  if (memory) {
    const limit = String(bytes(memory));
    args.push('--memory', limit, '--memory-swap', limit);
  }
  // A CPU limit above this host's cores cannot be set: the host's cores are the limit then.
  const cpus = c.resources?.limits?.cpu;
  if (cpus) {
    const n = cpus.endsWith('m')
      ? Number(cpus.slice(0, -1)) / 1000
      : Number(cpus);
    args.push('--cpus', String(Math.min(n, os.cpus().length)));
  }
  if (c.workingDir) args.push('--workdir', c.workingDir);
  const byName = new Map<string, Obj>(
    (spec.volumes ?? []).map((v: Obj) => [v.name, v])
  );
  for (const mount of c.volumeMounts ?? []) {
    const volume = byName.get(mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} has no volume`);
    let host: string;
    let readOnly = Boolean(mount.readOnly);
    if (volume.persistentVolumeClaim) {
      host = await volumes.claim(volume.persistentVolumeClaim.claimName);
      readOnly ||= Boolean(volume.persistentVolumeClaim.readOnly);
    } else if (volume.emptyDir) {
      host = volumes.emptyDir(pod.metadata.name, mount.name);
    } else {
      throw new Error(
        `volume ${mount.name}: only claims and emptyDir are run here`
      );
    }
    if (mount.subPath) {
      host = path.join(host, mount.subPath);
      fs.mkdirSync(host, { recursive: true });
    }
    args.push('-v', `${host}:${mount.mountPath}:${readOnly ? 'ro' : 'rw'}`);
  }
  for (const [name, value] of Object.entries(env))
    args.push('-e', `${name}=${value}`);
  if (c.command?.length) args.push('--entrypoint', JSON.stringify(c.command));
  args.push(c.image, ...(c.args ?? []));
  return args;
}

/** The oom_kill count of a container's memory cgroup (cgroup v1 or v2), or 0. */
function oomKills(cgroupPath: string): number {
  for (const [file, key] of [
    [`/sys/fs/cgroup/memory${cgroupPath}/memory.oom_control`, 'oom_kill'],
    [`/sys/fs/cgroup${cgroupPath}/memory.events`, 'oom_kill']
  ]) {
    try {
      const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(
        fs.readFileSync(file, 'utf8')
      );
      if (m) return Number(m[1]);
    } catch {
      /* not this cgroup version, or gone */
    }
  }
  return 0;
}

/**
 * One pod's container, started in the foreground (its output goes to `log`). Its memory cgroup
 * is watched while it runs: like containerd, an OOM kill of any of its processes (the kernel,
 * usually, not the runner) makes the container's reason OOMKilled. podman sets
 * State.OOMKilled only for some hosts, so both are read.
 */
export class PodContainer {
  readonly child: ChildProcess;
  readonly ended: Promise<ContainerEnd>;
  private oom = false;

  constructor(
    readonly name: string,
    args: string[],
    log: number
  ) {
    const [cmd, argv] = engineArgs(args);
    this.child = spawn(cmd, argv, { stdio: ['ignore', log, log] });
    let exited = false;
    const watch = async (): Promise<void> => {
      let cgroup = '';
      while (!exited && !cgroup) {
        cgroup = await engine([
          'inspect',
          '--format',
          '{{.State.CgroupPath}}',
          name
        ]).then(
          out => out.trim(),
          () => ''
        );
        if (!cgroup) await new Promise(r => setTimeout(r, 200));
      }
      while (!exited) {
        if (oomKills(cgroup) > 0) this.oom = true;
        await new Promise(r => setTimeout(r, 100));
      }
    };
    void watch();
    this.ended = new Promise(resolve =>
      this.child.once('exit', code => {
        exited = true;
        resolve(code ?? 137);
      })
    ).then(async code => {
      try {
        if (
          (
            await engine(['inspect', '--format', '{{.State.OOMKilled}}', name])
          ).trim() === 'true'
        )
          this.oom = true;
      } catch {
        /* removed already */
      }
      await engine(['rm', '-f', name]).catch(() => undefined);
      const exitCode = code as number;
      return {
        exitCode: this.oom && exitCode === 0 ? 137 : exitCode,
        reason: this.oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error'
      };
    });
  }

  /** SIGTERM, then SIGKILL after `graceSeconds` (a pod deleted). */
  stop(graceSeconds: number): void {
    void engine(['stop', '-t', String(graceSeconds), this.name], 120000).catch(
      () => undefined
    );
  }

  /** At once (the pod already ended, or the harness stops). */
  kill(): void {
    void engine(['kill', this.name]).catch(() => undefined);
  }
}
