/**
 * The sidecar killed with SIGKILL while a job starts on Kubernetes (test/chaos has the local
 * backend's chaos tests): between creating the job's Job and its token Secret (the fault
 * point admission.job-created, src/faults.ts), and from outside once the job's pod exists.
 * Started again, the sidecar carries the job through to success under the same id, with one
 * Job, which owns its Secret.
 */
import * as path from 'path';
import { waitFor } from '../helpers';
import { GATES, RunnerHarness, SidecarProcess, freePort } from './harness';
import { cluster, ended, gated, open, podOf, submit } from './jobs';

const ofJob = (id: string) => (o: { metadata: { labels?: object } }) =>
  (o.metadata.labels as Record<string, string> | undefined)?.[
    'nbqueue.io/job-id'
  ] === id;

describe('kubernetes: the sidecar killed while a job starts', () => {
  let harness: RunnerHarness;
  beforeAll(async () => {
    await cluster.clean();
    harness = new RunnerHarness(cluster);
    harness.start();
  });
  afterAll(() => harness.stop());

  test('between its Job and its Secret: after the restart the Job is replaced, one Job owning its Secret, succeeded', async () => {
    const sidecar = new SidecarProcess(await freePort());
    await sidecar.start({ NBQUEUE_FAULTS: 'crash:admission.job-created' });
    try {
      const gate = path.join(GATES, 'chaos-secret');
      open(gate);
      const id = await submit(sidecar, 'cpu', gated(gate, 'chaos secret'));
      await waitFor(() => sidecar.exited, 'the fault to kill the sidecar');
      expect(sidecar.output).toContain(
        'fault admission.job-created@1: killing the sidecar'
      );
      // What the crash left: the Job, and no Secret (its pod cannot start its runner).
      expect((await cluster.secrets()).filter(ofJob(id))).toHaveLength(0);
      const left = (await cluster.jobs()).filter(ofJob(id));
      expect(left).toHaveLength(1);
      await sidecar.start();
      const job = await ended(sidecar, id);
      expect([job.id, job.state, job.reason]).toEqual([id, 'succeeded', null]);
      const jobs = (await cluster.jobs()).filter(ofJob(id));
      expect(jobs).toHaveLength(1);
      expect(jobs[0].metadata.uid).not.toBe(left[0].metadata.uid);
      const secrets = (await cluster.secrets()).filter(ofJob(id));
      expect(secrets).toHaveLength(1);
      expect(secrets[0].metadata.ownerReferences?.[0]?.uid).toBe(
        jobs[0].metadata.uid
      );
    } finally {
      await sidecar.stop();
    }
  });

  test('from outside while its pod starts: re-adopted, one Job, succeeded', async () => {
    const sidecar = new SidecarProcess(await freePort());
    await sidecar.start();
    try {
      const gate = path.join(GATES, 'chaos-pod');
      const id = await submit(sidecar, 'cpu', gated(gate, 'chaos pod'));
      const pod = await waitFor(() => podOf(id), 'the pod', 60000, 50);
      // Both writes done (a kill between them is the test above): the pod may come first.
      await waitFor(
        async () => (await cluster.secrets()).some(ofJob(id)),
        'its token Secret',
        30000,
        20
      );
      await sidecar.kill();
      const [before] = (await cluster.jobs()).filter(ofJob(id));
      await sidecar.start();
      open(gate);
      const job = await ended(sidecar, id);
      expect([job.id, job.state, job.reason]).toEqual([id, 'succeeded', null]);
      const jobs = (await cluster.jobs()).filter(ofJob(id));
      expect(jobs.map(j => j.metadata.uid)).toEqual([before.metadata.uid]);
      const pods = (await cluster.pods()).filter(ofJob(id));
      expect(pods.map(p => p.metadata.uid)).toEqual([pod.metadata.uid]);
      const events = (await sidecar.api('GET', `/api/jobs/${id}/events`)).body
        .events as Array<{ seq: number }>;
      expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(JSON.stringify(events)).toContain('gate open');
    } finally {
      await sidecar.stop();
    }
  });
});
