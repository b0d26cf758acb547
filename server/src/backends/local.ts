import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Backend, BackendObserver, LaunchRequest } from './backend';
import type { JobRecord, JobSpec } from '../jobs/types';
import { badRequest } from '../errors';
import { checkConfinement } from '../jobs/confinement';
import { OsAccount, lookupAccount, systemUsername } from './osAccount';
import { runnerEnvironment } from './runnerEnv';
import { WarmRunner, WarmRunners } from './warmRunners';

export interface LocalBackendOptions {
  /** Interpreter for jobs whose kernel Python is unknown. */
  python: string;
  /** Restore mode: every runner starts on `python`, which rebuilds the captured environment. */
  restore?: boolean;
  cancelGraceSeconds: number;
  logDir: string;
  /** Variables set for every runner (backend.local.env; tests shorten retry windows). */
  env?: Record<string, string>;
  /** Names (or "PREFIX*") runners take from the sidecar's environment besides the usual. */
  envAllow?: string[];
  /** The sidecar's environment (default process.env): runners get only its allowed part. */
  sidecarEnv?: NodeJS.ProcessEnv;
  /** Several users: the OS account each job runs as, `{username}` its owner (needs root). */
  osUser?: string;
  /** Interpreters jobs may name besides `python` and their owner's home (with osUser). */
  allowedPythons?: string[];
  /** How often to check an adopted runner (not our child) is still alive. */
  pollMs?: number;
  /** backend.local.warm_kernels: keep a runner with its kernel started per (profile, owner...). */
  warmKernels?: boolean;
}

const MAX_LOG_BYTES = 1024 * 1024;

interface LocalRef {
  pid: number;
  log: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a reused pid is not our runner.
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('nbqueue.runner');
  } catch {
    return true;
  }
}

/**
 * Runs `fn` (a spawn: the child is forked before it returns) with the process umask set to
 * `mask`; Node's spawn has no umask option, and a child inherits its parent's.
 */
function withUmask<T>(mask: number, fn: () => T): T {
  const before = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(before);
  }
}

function tail(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Runs each job's runner as a local process (`python -m nbqueue.runner`) in the notebook's
 * directory, on the Python of the kernel the notebook was using, with an allow-listed
 * environment; with several users, as the job owner's OS account (`osUser`). Runners are
 * started in their own session, so they outlive a sidecar restart and are re-adopted by pid.
 */
export class LocalBackend implements Backend {
  readonly name = 'local';
  private readonly watchers = new Map<string, NodeJS.Timeout>();
  private readonly killTimers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Runners with their kernel started, waiting for a job (backend.local.warm_kernels). */
  readonly warm?: WarmRunners;

  constructor(
    private readonly options: LocalBackendOptions,
    private readonly observer: BackendObserver
  ) {
    // Runners' logs may hold what their jobs print: the sidecar's account only.
    fs.mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
    // Restore mode: the kernel's interpreter is known only once the runner restored it.
    if (options.warmKernels && !options.restore) this.warm = new WarmRunners();
  }

  /** The OS account `owner`'s jobs run as (undefined: the sidecar's own). */
  private account(owner: string): OsAccount | undefined {
    const template = this.options.osUser;
    if (!template) return undefined;
    const name = systemUsername(template, owner);
    const account = lookupAccount(name);
    if (!account) {
      throw badRequest(
        'no_os_account',
        `User ${owner} has no OS account ${name} on the sidecar's machine (backend.local.os_user is "${template}"), and jobs run as their owner's account. Ask the operator to create it (useradd -m ${name}).`
      );
    }
    if (account.uid === 0) {
      throw badRequest(
        'no_os_account',
        `User ${owner}'s OS account ${name} is root (uid 0); nbqueue runs no job as root.`
      );
    }
    return account;
  }

  check(owner: string, spec: JobSpec): void {
    this.confined(owner, spec);
  }

  /** The owner's account, once the job's cwd and kernel Python are found inside its home. */
  private confined(owner: string, spec: JobSpec): OsAccount | undefined {
    const account = this.account(owner);
    if (!account) return undefined;
    checkConfinement(spec, {
      account: account.name,
      home: account.home,
      pythons: [this.options.python, ...(this.options.allowedPythons ?? [])],
      checkPython: !this.options.restore
    });
    return account;
  }

  async submit({ job, token, sidecarUrl }: LaunchRequest): Promise<void> {
    // Checked at submit; again here, as accounts and homes may have changed since.
    const account = this.confined(job.owner, job.spec);
    const python =
      (this.options.restore ? undefined : job.spec.kernel.python) ||
      this.options.python;
    const fallback = account
      ? fs.existsSync(account.home)
        ? account.home
        : '/'
      : process.cwd();
    const cwd =
      job.spec.cwd && fs.existsSync(job.spec.cwd) ? job.spec.cwd : fallback;
    const jobLog = path.join(this.options.logDir, `${job.id}.log`);
    // Everything a runner's start depends on: a warm one is never handed to another user's job.
    const key = JSON.stringify([
      job.profile,
      python,
      job.owner,
      account?.name ?? null,
      account?.uid ?? null
    ]);
    const warm = this.warm?.take(key);
    let child: ChildProcess;
    let log = jobLog;
    if (warm) {
      // Its environment is the one below less the job's id and token, handed over now.
      this.warm?.handOver(warm, { job_id: job.id, token, cwd });
      child = warm.child;
      log = fs.existsSync(jobLog) ? warm.log : jobLog;
      if (log !== warm.log) fs.renameSync(warm.log, log);
    } else {
      const env = this.runnerEnv(account, {
        NBQUEUE_URL: sidecarUrl,
        NBQUEUE_JOB_ID: job.id,
        NBQUEUE_JOB_TOKEN: token
      });
      child = this.spawnRunner(python, cwd, env, account, log, 'ignore');
    }
    const ref: LocalRef = { pid: child.pid as number, log };
    // Stored before anything awaits: a sidecar that dies from here on finds the runner by its
    // pid after a restart (re-adopts it) instead of starting a second one.
    if (child.pid) this.observer.handle(job.id, { ...ref });
    if (!warm) {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve());
        child.once('error', err =>
          reject(
            new Error(
              `Could not start the runner with ${python}: ${err.message}. Check that the kernel's Python exists and has nbqueue installed (pip install nbqueue).`
            )
          )
        );
      });
    }
    child.once('exit', (code, signal) => {
      this.clearTimers(job.id);
      // After close() the sidecar is gone; the next one re-adopts or fails the job.
      if (this.closed) return;
      this.observer.exited(job.id, this.exitReason(code, signal, log, python));
      // The next job of this key finds its kernel started (used once, then replaced).
      this.warm?.fill(key, () =>
        this.spawnWarm(python, cwd, account, sidecarUrl)
      );
    });
    child.unref();
  }

  /** The runner's environment (runnerEnv.ts) with `job`'s variables. */
  private runnerEnv(
    account: OsAccount | undefined,
    job: Record<string, string>
  ): Record<string, string> {
    return runnerEnvironment({
      from: this.options.sidecarEnv ?? process.env,
      allow: this.options.envAllow ?? [],
      set: this.options.env ?? {},
      account,
      job: { ...job, PYTHONUNBUFFERED: '1' }
    });
  }

  /** A warm runner: as a job's, but without the job's id and token (handed over on stdin). */
  private spawnWarm(
    python: string,
    cwd: string,
    account: OsAccount | undefined,
    sidecarUrl: string
  ): WarmRunner {
    const log = path.join(
      this.options.logDir,
      `warm-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.log`
    );
    const env = this.runnerEnv(account, {
      NBQUEUE_URL: sidecarUrl,
      NBQUEUE_WARM: '1'
    });
    const child = this.spawnRunner(python, cwd, env, account, log, 'pipe');
    child.once('error', () => undefined); // it is then not taken (take checks it runs)
    child.unref();
    return { child, log };
  }

  private spawnRunner(
    python: string,
    cwd: string,
    env: Record<string, string>,
    account: OsAccount | undefined,
    log: string,
    stdin: 'ignore' | 'pipe'
  ): ChildProcess {
    const out = fs.openSync(log, 'a', 0o600);
    const start = () =>
      spawn(python, ['-m', 'nbqueue.runner'], {
        cwd,
        detached: true,
        stdio: [stdin, out, out],
        env,
        // As JupyterHub's LocalProcessSpawner: the owner's uid and gid (Node drops the
        // sidecar's supplementary groups), umask 077 so what the job writes is its own.
        ...(account ? { uid: account.uid, gid: account.gid } : {})
      });
    try {
      return account ? withUmask(0o077, start) : start();
    } finally {
      fs.closeSync(out);
    }
  }

  private exitReason(
    code: number | null,
    signal: NodeJS.Signals | null,
    log: string,
    python: string
  ): string {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const last = tail(log);
    if (/No module named nbqueue/.test(last)) {
      return `The runner could not start: ${python} has no nbqueue package. Install it into the kernel's environment (pip install nbqueue) and re-run.`;
    }
    return `The runner ${how} before reporting a result.${last ? ` Last lines of its log (${log}):\n${last}` : ''}`;
  }

  async cancel(job: JobRecord): Promise<void> {
    const ref = job.backend_ref as LocalRef | null;
    if (!ref?.pid || !alive(ref.pid)) return;
    try {
      process.kill(ref.pid, 'SIGTERM');
    } catch {
      return;
    }
    // The runner interrupts, waits the grace period, stops its kernel and reports; if it has
    // not gone by then (plus time to upload), stop the whole process group.
    const timer = setTimeout(
      () => {
        try {
          process.kill(-ref.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      },
      (this.options.cancelGraceSeconds + 15) * 1000
    );
    timer.unref();
    this.killTimers.set(job.id, timer);
  }

  async logs(job: JobRecord): Promise<string | null> {
    const ref = job.backend_ref as LocalRef | null;
    if (!ref?.log) return null;
    try {
      const fd = await fs.promises.open(ref.log, 'r');
      try {
        const { size } = await fd.stat();
        const length = Math.min(size, MAX_LOG_BYTES);
        const buffer = Buffer.alloc(length);
        await fd.read(buffer, 0, length, size - length);
        return (
          (size > length
            ? `[… first ${size - length} bytes left out …]\n`
            : '') + buffer.toString('utf8')
        );
      } finally {
        await fd.close();
      }
    } catch {
      return null;
    }
  }

  async readopt(job: JobRecord): Promise<boolean> {
    const ref = job.backend_ref as LocalRef | null;
    if (!ref?.pid || !alive(ref.pid)) return false;
    // Not our child any more: watch the pid.
    const timer = setInterval(() => {
      if (!alive(ref.pid)) {
        this.clearTimers(job.id);
        this.observer.exited(
          job.id,
          `The runner (pid ${ref.pid}) stopped before reporting a result. Its log: ${ref.log}`
        );
      }
    }, this.options.pollMs ?? 1000);
    timer.unref();
    this.watchers.set(job.id, timer);
    return true;
  }

  async neverStarted(job: JobRecord): Promise<boolean> {
    // The pid is stored as soon as the runner is spawned: without one, none was.
    return !(job.backend_ref as LocalRef | null)?.pid;
  }

  private clearTimers(jobId: string): void {
    clearInterval(this.watchers.get(jobId));
    this.watchers.delete(jobId);
    clearTimeout(this.killTimers.get(jobId));
    this.killTimers.delete(jobId);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.warm?.close();
    for (const id of [...this.watchers.keys(), ...this.killTimers.keys()])
      this.clearTimers(id);
  }
}
