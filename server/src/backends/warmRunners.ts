import type { ChildProcess } from 'child_process';

/** At most this many warm runners wait at once; past it the longest-waiting one is stopped. */
export const MAX_WARM_RUNNERS = 4;

/** A runner started before its job (NBQUEUE_WARM=1): its kernel starts, then it reads stdin. */
export interface WarmRunner {
  child: ChildProcess;
  /** Its log so far (the job's log once it is handed a job). */
  log: string;
}

/** What a warm runner is handed: the job's id, its token and its folder (one JSON line). */
export interface Handover {
  job_id: string;
  token: string;
  cwd: string;
}

function running(child: ChildProcess): boolean {
  // No pid: it never started (its interpreter missing, say), and no `exit` may come.
  return (
    child.pid !== undefined &&
    child.exitCode === null &&
    child.signalCode === null
  );
}

/**
 * backend.local.warm_kernels: runners whose kernel is already started, one per key, the key
 * naming everything a runner's start depends on: the profile, the interpreter, the job owner
 * and the OS account (see LocalBackend.warmKey). A warm runner is taken by one job only and
 * never counted as a running job; whoever takes it starts the next one (`fill`).
 */
export class WarmRunners {
  private readonly ready = new Map<string, WarmRunner>();
  private closed = false;

  /** The warm runner for `key`, taken out of the pool (undefined: none, or it ended). */
  take(key: string): WarmRunner | undefined {
    const warm = this.ready.get(key);
    if (!warm) return undefined;
    this.ready.delete(key);
    if (!running(warm.child) || !warm.child.stdin?.writable) {
      this.stop(warm);
      return undefined;
    }
    return warm;
  }

  /** Starts a warm runner for `key` (`start`), unless one waits already. */
  fill(key: string, start: () => WarmRunner): void {
    if (this.closed || this.ready.has(key)) return;
    if (this.ready.size >= MAX_WARM_RUNNERS) {
      const [oldest] = this.ready.keys();
      const warm = this.ready.get(oldest);
      this.ready.delete(oldest);
      if (warm) this.stop(warm);
    }
    let warm: WarmRunner;
    try {
      warm = start();
    } catch (err) {
      // The next job of this key starts cold, as without warm kernels.
      console.error(
        `nbqueue: could not start a warm runner: ${(err as Error).message}`
      );
      return;
    }
    // A write to a runner that just ended must not bring the sidecar down.
    warm.child.stdin?.on('error', () => undefined);
    warm.child.once('exit', () => {
      if (this.ready.get(key) === warm) this.ready.delete(key);
    });
    this.ready.set(key, warm);
  }

  /** Gives `warm` its job: from here on it is that job's runner. */
  handOver(warm: WarmRunner, job: Handover): void {
    warm.child.stdin?.end(`${JSON.stringify(job)}\n`);
  }

  /** How many wait (for tests). */
  get size(): number {
    return this.ready.size;
  }

  /** The pids of those that wait (for tests). */
  pids(): number[] {
    return [...this.ready.values()].map(w => w.child.pid as number);
  }

  private stop(warm: WarmRunner): void {
    // The end of its stdin stops it (its kernel too); SIGTERM in case it does not read yet.
    warm.child.stdin?.end();
    if (running(warm.child)) warm.child.kill('SIGTERM');
  }

  /** Stops every warm runner (the sidecar stops, or its settings change with a new one). */
  close(): void {
    this.closed = true;
    for (const warm of this.ready.values()) this.stop(warm);
    this.ready.clear();
  }
}
