/**
 * What the backend tests do with a sidecar: submit a notebook that waits for its gate (a file
 * the test creates), wait for a job's state or end, find a job's pod; and the sidecar the
 * "kubernetes backend" tests share, with profiles for each case.
 */
import * as fs from 'fs';
import { code, notebook, waitFor } from '../helpers';
import {
  Cluster,
  JOBS_NS,
  MISSING_IMAGE,
  Obj,
  RunnerHarness,
  SidecarProcess,
  freePort
} from './harness';

export const cluster = new Cluster();

/** A notebook that prints, then waits until the test opens its gate (a file). */
export function gated(gate: string, tag: string): Record<string, unknown> {
  return notebook([
    code(`print("hello from ${tag}")`),
    code(
      `import os, time\nwhile not os.path.exists(${JSON.stringify(gate)}):\n    time.sleep(0.1)\nprint("gate open")`
    )
  ]);
}

export function open(gate: string): void {
  fs.writeFileSync(gate, '');
}

export async function submit(
  s: SidecarProcess,
  profile: string,
  nb: Record<string, unknown>,
  name = 'My Notebook (v2) ✓.ipynb'
): Promise<string> {
  const res = await s.api('POST', '/api/jobs', { profile, notebook: nb, name });
  if (res.status !== 201)
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export async function ended(
  s: SidecarProcess,
  id: string,
  timeoutMs = 120000
): Promise<Obj> {
  return waitFor(
    async () => {
      const job = await s.job(id);
      return ['succeeded', 'failed', 'cancelled'].includes(job.state)
        ? job
        : null;
    },
    `job ${id} to end`,
    timeoutMs,
    200
  );
}

export async function state(
  s: SidecarProcess,
  id: string,
  want: string,
  timeoutMs = 90000
): Promise<Obj> {
  return waitFor(
    async () => {
      const job = await s.job(id);
      return job.state === want ? job : null;
    },
    `job ${id} to be ${want}`,
    timeoutMs,
    200
  );
}

export const podOf = async (id: string): Promise<Obj | undefined> =>
  (await cluster.pods()).find(
    p => p.metadata.labels['nbqueue.io/job-id'] === id
  );

/** The sidecar of the "kubernetes backend" tests (started), its runners' harness (started). */
export async function backendSuite(): Promise<{
  sidecar: SidecarProcess;
  harness: RunnerHarness;
}> {
  await cluster.clean();
  const sidecar = new SidecarProcess(
    await freePort(),
    { ttl_seconds_after_finished: 4 },
    [
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
      {
        name: 'bad-image',
        cpus: 1,
        gpus: 0,
        memory: '1Gi',
        capacity: 5,
        kubernetes: {
          node_selector: { 'nbqueue.io/pool': 'cpu' },
          tolerations: [],
          image: MISSING_IMAGE
        }
      },
      {
        name: 'small',
        cpus: 1,
        gpus: 0,
        memory: '256Mi',
        capacity: 5,
        kubernetes: {
          node_selector: { 'nbqueue.io/pool': 'cpu' },
          tolerations: []
        }
      },
      {
        name: 'short',
        cpus: 1,
        gpus: 0,
        memory: '1Gi',
        capacity: 5,
        kubernetes: {
          node_selector: { 'nbqueue.io/pool': 'cpu' },
          tolerations: [],
          active_deadline_seconds: 3
        }
      }
    ]
  );
  await sidecar.start();
  const harness = new RunnerHarness(cluster);
  harness.start();
  return { sidecar, harness };
}

/** At most how many of one job's Jobs and pods the cluster held at once, and their names. */
export interface Overlap {
  maxJobs: number;
  maxPods: number;
  jobNames: string[];
  samples: number;
}

/**
 * Lists the cluster's Jobs and pods of nbqueue job `id` every 100 ms until `stop`, so a test
 * can say that no two attempts of one job ever ran at once (a Job or pod still deleting counts).
 */
export function watchOverlap(id: string): { stop(): Promise<Overlap> } {
  const seen: Overlap = { maxJobs: 0, maxPods: 0, jobNames: [], samples: 0 };
  const mine = (o: Obj) => o.metadata.labels?.['nbqueue.io/job-id'] === id;
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      const [jobs, pods] = await Promise.all([cluster.jobs(), cluster.pods()]);
      const own = jobs.filter(mine);
      seen.maxJobs = Math.max(seen.maxJobs, own.length);
      seen.maxPods = Math.max(seen.maxPods, pods.filter(mine).length);
      for (const j of own)
        if (!seen.jobNames.includes(j.metadata.name))
          seen.jobNames.push(j.metadata.name);
      seen.samples += 1;
      // Unref'd: a test that fails before stop() leaves nothing running.
      await new Promise(r => setTimeout(r, 100).unref());
    }
  })();
  return {
    async stop() {
      stopped = true;
      await sampling;
      return seen;
    }
  };
}

/** Evicts the job's pod through the Eviction API, as a drain does. */
export async function evict(id: string): Promise<Obj> {
  const pod = await podOf(id);
  const res = await cluster.call(
    'POST',
    `/api/v1/namespaces/${JOBS_NS}/pods/${pod.metadata.name}/eviction`,
    {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: pod.metadata.name, namespace: JOBS_NS }
    }
  );
  if (res.status !== 201)
    throw new Error(`evict: ${res.status} ${JSON.stringify(res.body)}`);
  return pod;
}

/** The job once its view says attempt `n` (a restart was decided and stored). */
export async function attempt(
  s: SidecarProcess,
  id: string,
  n: number
): Promise<Obj> {
  let last: Obj;
  return waitFor(
    async () => {
      last = await s.job(id);
      return last.attempt >= n ? last : null;
    },
    `job ${id} to reach attempt ${n}`,
    120000,
    100
  ).catch(err => {
    throw new Error(
      `${err.message}; it is ${last?.state} on attempt ${last?.attempt}: ${last?.reason}\n${s.output.slice(-3000)}`
    );
  });
}

/** The job's events, checked gap-free from 1: the `attempt` markers and all. */
export async function eventsOf(s: SidecarProcess, id: string): Promise<Obj[]> {
  const events = (await s.api('GET', `/api/jobs/${id}/events?limit=10000`)).body
    .events as Obj[];
  expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));
  return events;
}
