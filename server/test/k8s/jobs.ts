/**
 * What the backend tests do with a sidecar: submit a notebook that waits for its gate (a file
 * the test creates), wait for a job's state or end, find a job's pod; and the sidecar the
 * "kubernetes backend" tests share, with profiles for each case.
 */
import * as fs from 'fs';
import { code, notebook, waitFor } from '../helpers';
import {
  Cluster,
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
