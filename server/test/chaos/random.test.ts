/**
 * A randomised run: 50 small jobs through the real sidecar and runners while faults drawn at
 * random (seeded; the seed is printed, NBQUEUE_CHAOS_SEED repeats a run) hit them: the sidecar
 * killed with SIGKILL from outside or at a fault point (src/faults.ts), the runners' link to the
 * sidecar cut for 2-5 s, a job's kernel killed mid-cell. Every job must end as expected
 * (succeeded; failed saying the kernel died where its kernel was killed) with its events whole.
 */
import type { JobView } from '../../src/jobs/types';
import { FAULT_POINTS } from '../../src/faults';
import {
  FINAL,
  Notebook,
  events,
  printed,
  printingCells,
  problems,
  writeNotebooks
} from './checks';
import { RunnerWatch, kernelOf, killRunners } from './processes';
import { CutProxy } from './proxy';
import { ChaosSidecar, FAULT_FIRED, freePort } from './sidecar';

const JOBS = 50;
const SLOTS = 6;
const SEED = Number(process.env.NBQUEUE_CHAOS_SEED ?? Date.now() % 2 ** 31);
/** The fault points a local sidecar reaches (the Secret is Kubernetes'). */
const POINTS = FAULT_POINTS.filter(p => p !== 'admission.job-created');

/** mulberry32: a small seeded generator, so a run can be repeated. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Planned {
  name: string;
  notebook: Notebook;
  /** Its kernel is killed once it prints that it waits. */
  killKernel: boolean;
  text: string;
  id?: string;
  ended?: JobView;
  kernelKilled?: boolean;
}

const tick = (ms: number) => new Promise(r => setTimeout(r, ms));

test('50 jobs under random faults: none lost', async () => {
  process.stdout.write(
    `chaos seed ${SEED} (NBQUEUE_CHAOS_SEED=${SEED} repeats this run)\n`
  );
  const t0 = Date.now();
  const rand = generator(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const specs = Array.from({ length: JOBS }, (_, k) => {
    const name = `chaos-${k}`;
    const killKernel = rand() < 0.15;
    const cells = 2 + Math.floor(rand() * 2);
    const lines = 2 + Math.floor(rand() * 4);
    return {
      name,
      killKernel,
      cells: [
        ...printingCells(name, cells, lines),
        ...(killKernel
          ? [
              `import time\nprint("${name} waits", flush=True)\nwhile True:\n    time.sleep(0.05)`
            ]
          : [])
      ],
      text: printed(name, cells, lines) + (killKernel ? `${name} waits\n` : '')
    };
  });
  const nbs = writeNotebooks(specs);
  const jobs: Planned[] = specs.map(s => ({
    ...s,
    notebook: nbs.get(s.name) as Notebook
  }));

  const port = await freePort();
  const proxy = new CutProxy(port);
  await proxy.listen();
  const s = new ChaosSidecar(port, { capacity: SLOTS, publicUrl: proxy.url });
  const watch = new RunnerWatch([proxy.url]);
  const counts: Record<string, number> = {};
  /** What happened when, printed when the run fails. */
  const timeline: string[] = [];
  const note = (what: string) =>
    timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const count = (kind: string) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    note(kind);
  };
  /** Jobs seen active again after they had ended (none, when all is well). */
  const revived = new Set<string>();
  const armedFault = () =>
    rand() < 0.5 ? `crash:${pick(POINTS)}@${1 + Math.floor(rand() * 3)}` : '';
  let ourKill = false;
  let cutUntil = 0;
  let nextFault = Date.now() + 1500;
  // A fault also every 2-4 job ends, so a fast machine gets as many as a slow one.
  const done = () => jobs.filter(j => j.ended).length;
  let faultAtEnds = 2;
  try {
    await s.start(armedFault());
    while (jobs.some(j => !j.ended)) {
      if (Date.now() - t0 > 270000)
        throw new Error(
          `not done after 270 s: ${jobs.filter(j => !j.ended).map(j => `${j.name} ${j.id}`)} (sidecar log: ${s.dir}/sidecar.log)\n${timeline.join('\n')}`
        );
      if (!s.running) {
        if (!ourKill) {
          const fired = FAULT_FIRED.exec(s.output);
          count(`sidecar killed at ${fired?.[1] ?? 'an unknown point'}`);
        }
        ourKill = false;
        s.output = '';
        const armed = armedFault();
        note(`start ${armed}`);
        await s.start(armed);
        // Its fault may have fired before it answered: the next round counts it.
        if (!s.running) continue;
      }
      if (cutUntil && Date.now() >= cutUntil) {
        note('link healed');
        proxy.heal();
        cutUntil = 0;
      }
      if (Date.now() >= nextFault || done() >= faultAtEnds) {
        faultAtEnds = done() + 2 + Math.floor(rand() * 3);
        // A restart costs seconds of a loaded machine: one fault in three is an outside kill.
        nextFault = Date.now() + 5000 + rand() * 4000;
        if (rand() < 0.35) {
          ourKill = true;
          count('sidecar killed from outside');
          await s.kill();
          continue;
        } else if (!cutUntil) {
          count('link cut 2-5 s');
          proxy.refuse();
          cutUntil = Date.now() + 2000 + rand() * 3000;
        }
      }
      try {
        await step(s, jobs, revived, count, note);
      } catch (err) {
        // The sidecar went away meanwhile: the next round starts it again.
        note(`round: ${(err as Error).message}`);
      }
      await tick(100);
    }
  } finally {
    watch.stop();
    proxy.heal();
    await s.kill();
    await proxy.close();
    killRunners(jobs.flatMap(j => (j.id ? [j.id] : [])));
  }
  await s.start();
  try {
    const lost: string[] = [];
    for (const j of jobs) {
      const job = j.ended as JobView;
      const wrong = await problems(s, job, j.text);
      const want = j.killKernel ? 'failed' : 'succeeded';
      if (job.state !== want)
        wrong.push(`${job.state} (${job.reason}), expected ${want}`);
      if (j.killKernel && !/^The kernel died\b/.test(job.reason ?? ''))
        wrong.push(`reason ${job.reason} does not say the kernel died`);
      if (!j.killKernel && job.reason !== null)
        wrong.push(`reason ${job.reason}`);
      if (wrong.length) lost.push(`${j.name} (${job.id}): ${wrong.join('; ')}`);
    }
    const listed = (await s.api<{ jobs: JobView[] }>('GET', '/api/jobs')).body
      .jobs;
    const faults = Object.values(counts).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `faults injected: ${faults}, jobs lost: ${lost.length} (${JOBS} jobs, ${SLOTS} slots, seed ${SEED}, ${Math.round((Date.now() - t0) / 1000)} s)\n` +
        Object.entries(counts)
          .sort()
          .map(([k, n]) => `  ${k}: ${n}\n`)
          .join('')
    );
    expect(lost).toEqual([]);
    expect(listed.map(j => j.id).sort()).toEqual(jobs.map(j => j.id).sort());
    expect([...revived]).toEqual([]);
    expect(watch.doubled()).toEqual({});
    expect(faults).toBeGreaterThanOrEqual(15);
  } finally {
    await s.kill();
  }
}, 330000);

/**
 * One round against a live sidecar: submit while fewer than SLOTS + 3 jobs are unfinished,
 * record ends, kill the kernels of the jobs that wait for it.
 */
async function step(
  s: ChaosSidecar,
  jobs: Planned[],
  revived: Set<string>,
  count: (kind: string) => void,
  note: (what: string) => void
): Promise<void> {
  const listed = (await s.api<{ jobs: JobView[] }>('GET', '/api/jobs')).body
    .jobs;
  const byId = new Map(listed.map(j => [j.id, j]));
  for (const j of jobs) {
    // A submit whose answer the crash swallowed: the job is there if it was accepted.
    j.id ??= listed.find(l => l.name === j.name)?.id;
    const now = j.id ? byId.get(j.id) : undefined;
    if (!now) continue;
    if (j.ended && !FINAL.includes(now.state)) revived.add(j.name);
    if (!j.ended && FINAL.includes(now.state)) {
      j.ended = now;
      note(`${j.name} ${now.state}`);
    }
  }
  const unfinished = jobs.filter(j => j.id && !j.ended).length;
  const next = jobs.find(j => !j.id && !j.ended);
  if (next && unfinished < SLOTS + 3) {
    const res = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      name: next.name,
      notebook: next.notebook
    });
    if (res.status === 201) {
      next.id = res.body.id;
      note(`${next.name} submitted: ${next.id}`);
    }
  }
  for (const j of jobs) {
    if (!j.killKernel || j.kernelKilled || !j.id || j.ended) continue;
    const evs = await events(s, j.id);
    if (!JSON.stringify(evs).includes(`${j.name} waits`)) continue;
    const kernel = kernelOf(j.id);
    if (!kernel) continue;
    process.kill(kernel, 'SIGKILL');
    j.kernelKilled = true;
    count('kernel killed');
  }
}
