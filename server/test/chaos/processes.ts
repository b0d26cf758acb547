/**
 * What runs for the jobs, seen from /proc: every runner process (python -m nbqueue.runner) and
 * the job it runs (its NBQUEUE_JOB_ID), sampled while a test runs, so a test can say that no
 * job ever had two runners; and a job's kernel, to kill it.
 */
import * as fs from 'fs';

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The pids of the processes whose command line contains `needle`. */
function processes(needle: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter(name => /^\d+$/.test(name))
    .map(Number)
    .filter(pid => pid !== process.pid)
    .filter(pid => read(`/proc/${pid}/cmdline`).includes(needle));
}

/** A variable of a process's environment. */
function envOf(pid: number, name: string): string | undefined {
  const env = read(`/proc/${pid}/environ`).split('\0');
  return env.find(e => e.startsWith(`${name}=`))?.slice(name.length + 1);
}

/**
 * The runner processes now, by job id: those of the sidecar(s) at `urls` (what runners were
 * told as NBQUEUE_URL), else every one on the machine.
 */
export function runnersNow(urls?: string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const pids = processes('nbqueue.runner');
  // A runner's child between fork and exec (starting its kernel) still looks like it.
  const forks = new Set(pids.filter(pid => pids.includes(parentOf(pid))));
  for (const pid of pids) {
    if (forks.has(pid)) continue;
    const job = envOf(pid, 'NBQUEUE_JOB_ID');
    if (urls && !urls.includes(envOf(pid, 'NBQUEUE_URL') ?? '')) continue;
    if (job) out.set(job, [...(out.get(job) ?? []), pid]);
  }
  return out;
}

function parentOf(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  // pid (comm) state ppid ...: the comm may hold spaces, the fields after it do not.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The kernel the runner of `jobId` started (a child of the runner), if there is one now. */
export function kernelOf(jobId: string): number | undefined {
  const runners = new Set(runnersNow().get(jobId) ?? []);
  return processes('ipykernel').find(pid => runners.has(parentOf(pid)));
}

/**
 * Samples the runner processes of the sidecar(s) at `urls` every `everyMs` until stopped:
 * every runner pid of each job.
 */
export class RunnerWatch {
  readonly seen = new Map<string, Set<number>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly urls: string[],
    everyMs = 150
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    for (const [job, pids] of runnersNow(this.urls)) {
      const set = this.seen.get(job) ?? new Set<number>();
      for (const pid of pids) set.add(pid);
      this.seen.set(job, set);
    }
  }

  /** The jobs that had more than one runner, with their pids (none, when all is well). */
  doubled(): Record<string, number[]> {
    return Object.fromEntries(
      [...this.seen].filter(([, s]) => s.size > 1).map(([j, s]) => [j, [...s]])
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** Kills every runner still running for `jobIds`, and its kernel (in a session of its own). */
export function killRunners(jobIds: Iterable<string>): void {
  const now = runnersNow();
  for (const id of jobIds) {
    const kernel = kernelOf(id);
    for (const pid of [...(now.get(id) ?? []), ...(kernel ? [kernel] : [])]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
