/**
 * Restarts on the Kubernetes backend: a job whose pod is deleted outside nbqueue runs again
 * under its id; a sidecar killed right after it decided a restart admits the job once, not
 * twice. Throughout, the cluster never holds two Jobs or pods of one job. (Eviction, node
 * loss and attempts running out: failures.test.ts and resilience.test.ts.)
 */
import * as path from 'path';
import {
  GATES,
  JOBS_NS,
  RunnerHarness,
  SidecarProcess,
  freePort
} from './harness';
import {
  attempt,
  cluster,
  ended,
  eventsOf,
  evict,
  gated,
  open,
  podOf,
  state,
  submit,
  watchOverlap
} from './jobs';

describe('restarts', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    await cluster.clean();
    sidecar = new SidecarProcess(await freePort(), {}, [
      {
        name: 'gpu-1',
        cpus: 8,
        gpus: 1,
        memory: '32Gi',
        capacity: 50,
        kubernetes: { max_restarts: 2, termination_grace_seconds: 5 }
      }
    ]);
    await sidecar.start();
    harness = new RunnerHarness(cluster);
    harness.start();
  });

  afterEach(async () => {
    await cluster.clean();
  });

  afterAll(async () => {
    await harness?.stop();
    await sidecar?.stop();
  });

  test('a pod deleted outside nbqueue: the job runs again under its id and succeeds', async () => {
    const gate = path.join(GATES, 'pod-deleted');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'pod deleted'));
    await state(sidecar, id, 'running');
    const overlap = watchOverlap(id);
    const pod = await podOf(id);
    expect(pod.spec.terminationGracePeriodSeconds).toBe(5);
    const res = await cluster.call(
      'DELETE',
      `/api/v1/namespaces/${JOBS_NS}/pods/${pod.metadata.name}`
    );
    expect(res.status).toBe(200);
    const again = await attempt(sidecar, id, 2);
    // Its runner's SIGTERM did not end it cancelled: nobody cancelled it.
    expect(again.state).not.toBe('cancelled');
    expect(again.reason).toMatch(
      /^Attempt 2 of 3, restarted after pod deletion\. Its pod was deleted from node gpu-node-\d while it ran/
    );
    await state(sidecar, id, 'running');
    open(gate);
    expect(await ended(sidecar, id)).toMatchObject({
      state: 'succeeded',
      attempt: 2,
      max_attempts: 3,
      has_result: true
    });
    const events = await eventsOf(sidecar, id);
    expect(events.filter(e => e.type === 'attempt')).toEqual([
      expect.objectContaining({ attempt: 2, cause: 'pod_deleted' })
    ]);
    expect(await overlap.stop()).toMatchObject({ maxJobs: 1, maxPods: 1 });
  });

  test('a sidecar killed right after it decided a restart admits the job once', async () => {
    const gate = path.join(GATES, 'restart-then-crash');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'crash'));
    await state(sidecar, id, 'running');
    const overlap = watchOverlap(id);
    await evict(id);
    await attempt(sidecar, id, 2);
    await sidecar.kill();
    await sidecar.start();
    await state(sidecar, id, 'running');
    open(gate);
    const done = await ended(sidecar, id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2 });
    expect(done.restarts).toHaveLength(1);
    const seen = await overlap.stop();
    expect(seen).toMatchObject({ maxJobs: 1, maxPods: 1 });
    // The first attempt's Job and the second's: no third, no copy.
    expect(seen.jobNames).toHaveLength(2);
    expect(seen.jobNames[1]).toBe(`${seen.jobNames[0]}-a2`);
    const events = await eventsOf(sidecar, id);
    expect(events.filter(e => e.type === 'attempt')).toHaveLength(1);
  });
});
