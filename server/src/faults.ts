/**
 * Fault injection for the chaos tests (server/test/chaos, test/k8s/chaos.test.ts), test only:
 * NBQUEUE_FAULTS names points in the sidecar where it kills itself with SIGKILL, as a crash, a
 * node loss or the OOM killer would. Each point is one line, `fault('finish.received')`, at the
 * spot, so it moves with the code. Read once at start (armFaults); unset, `fault` does nothing.
 *
 * NBQUEUE_FAULTS=crash:<point>[@<n>],... : kill at the n-th time (default the first) `point` is
 * reached. It can only ever kill this sidecar process: no other effect, no other process.
 * The armed faults are module state on purpose (the one exception to passing dependencies in):
 * a point must stay a one-line call wherever the code it marks moves.
 */

/** Every point the code has: a fault naming another is refused at start. */
export const FAULT_POINTS = [
  /** A submit was answered (201 sent): the job is stored and queued. */
  'submit.answered',
  /** A queued job was claimed for start (state starting), before the backend starts it. */
  'admission.claimed',
  /** Kubernetes: the job's Job exists, its token Secret not yet. */
  'admission.job-created',
  /** A batch of events was stored, before the runner gets its answer. */
  'events.stored',
  /** The runner's /finish arrived, before anything of it is stored. */
  'finish.received',
  /** The result notebook is stored, the job's end not yet. */
  'result.stored'
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

interface Armed {
  /** Kill when the point is reached this many times. */
  at: number;
  reached: number;
}

let armed = new Map<FaultPoint, Armed>();

/**
 * Parses `spec` (NBQUEUE_FAULTS) and arms its faults; throws an Error naming what is wrong.
 * Returns the armed points, for the sidecar's start message.
 */
export function armFaults(spec: string | undefined): string[] {
  const next = new Map<FaultPoint, Armed>();
  for (const item of (spec ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)) {
    const m = /^crash:([a-z.-]+)(?:@([1-9][0-9]*))?$/.exec(item);
    if (!m)
      throw new Error(
        `NBQUEUE_FAULTS: '${item}' is not crash:<point>[@<n>] (for example crash:finish.received@2).`
      );
    const point = m[1] as FaultPoint;
    if (!FAULT_POINTS.includes(point))
      throw new Error(
        `NBQUEUE_FAULTS: there is no fault point '${m[1]}'; the points are ${FAULT_POINTS.join(', ')}.`
      );
    next.set(point, { at: Number(m[2] ?? 1), reached: 0 });
  }
  armed = next;
  return [...next].map(([p, a]) => `${p}@${a.at}`);
}

/** The sidecar kills itself here if NBQUEUE_FAULTS says so (see the file's comment). */
export function fault(point: FaultPoint): void {
  const a = armed.get(point);
  if (!a) return;
  a.reached += 1;
  if (a.reached !== a.at) return;
  process.stderr.write(
    `nbqueue: fault ${point}@${a.at}: killing the sidecar\n`
  );
  process.kill(process.pid, 'SIGKILL');
  // Only the init process of a container (pid 1) outlives its own SIGKILL: it ends here.
  process.exit(137);
}
