/**
 * The Kubernetes backend over time: a profile no node can hold, evictions past max_restarts, Kueue
 * admitting, the API server restarting, the sidecar restarting. (backend.test.ts says
 * against what.)
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { waitFor } from '../helpers';
import {
  GATES,
  JOBS_NS,
  Obj,
  RunnerHarness,
  SidecarProcess,
  freePort
} from './harness';
import {
  attempt,
  cluster,
  ended,
  evict,
  gated,
  open,
  podOf,
  state,
  submit
} from './jobs';

const gates = GATES;

describe('kubernetes backend, continued', () => {
  test('a profile no node can hold stays queued, with a reason, and never becomes a Job', async () => {
    const sidecar = new SidecarProcess(await freePort(), {}, [
      { name: 'huge', cpus: 8, gpus: 16, memory: '32Gi', capacity: 5 }
    ]);
    await sidecar.start();
    try {
      const id = await submit(
        sidecar,
        'huge',
        gated(path.join(gates, 'never'), 'huge')
      );
      const job = await waitFor(
        async () => {
          const j = await sidecar.job(id);
          return j.reason ? j : null;
        },
        'a reason on the queued job',
        30000,
        200
      );
      expect(job.state).toBe('queued');
      expect(job.reason).toMatch(
        /No ready node of the pool \(nbqueue.io\/pool=ml\) is big enough for profile 'huge' \(8 cpu, 32Gi memory, 16 nvidia.com\/gpu\)/
      );
      expect(
        (await cluster.jobs()).filter(
          j => j.metadata.labels['nbqueue.io/job-id'] === id
        )
      ).toHaveLength(0);
      expect((await sidecar.api('POST', `/api/jobs/${id}/cancel`)).status).toBe(
        200
      );
    } finally {
      await sidecar.stop();
    }
  });

  test('a job evicted on its last attempt fails, naming the cause, the count and what to do', async () => {
    await cluster.clean();
    const sidecar = new SidecarProcess(await freePort());
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    try {
      const id = await submit(
        sidecar,
        'gpu-1',
        gated(path.join(gates, 'never'), 'twice')
      );
      await state(sidecar, id, 'running');
      await evict(id);
      await attempt(sidecar, id, 2);
      await state(sidecar, id, 'running');
      await evict(id);
      const second = await ended(sidecar, id);
      expect(second).toMatchObject({
        state: 'failed',
        attempt: 2,
        max_attempts: 2
      });
      expect(second.reason).toMatch(
        /Attempt 2 of 2 ended by eviction, the last one allowed \(max_restarts 1 for profile 'gpu-1'\): re-run it/
      );
      const jobs = (await sidecar.api('GET', '/api/jobs')).body.jobs as Obj[];
      expect(jobs.map(j => j.id)).toEqual([id]);
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });

  test('kueue mode: Jobs wait suspended with a reason until admitted, then run', async () => {
    await cluster.clean();
    const sidecar = new SidecarProcess(await freePort(), {
      mode: 'kueue',
      kueue_queue: 'team-a'
    });
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    try {
      const gate = path.join(gates, 'kueue');
      open(gate);
      const id = await submit(sidecar, 'gpu-1', gated(gate, 'kueue'));
      const waiting = await waitFor(
        async () => {
          const j = await sidecar.job(id);
          return j.reason ? j : null;
        },
        'the Kueue reason',
        30000,
        200
      );
      expect(waiting.reason).toBe(
        'Waiting for Kueue to admit it (queue team-a).'
      );
      const [job] = await cluster.jobs();
      expect(job.spec.suspend).toBe(true);
      expect(job.metadata.labels['kueue.x-k8s.io/queue-name']).toBe('team-a');
      expect(await podOf(id)).toBeUndefined();
      // What Kueue does when it admits a workload (Kueue itself is not installed here).
      const res = await cluster.call(
        'PATCH',
        `/apis/batch/v1/namespaces/${JOBS_NS}/jobs/${job.metadata.name}`,
        { spec: { suspend: false } },
        'application/merge-patch+json'
      );
      expect(res.status).toBe(200);
      const done = await ended(sidecar, id);
      expect(done.state).toBe('succeeded');
      expect(done.reason).toBeNull();
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });

  test('the API server going away and coming back: watches recover, jobs run and finish', async () => {
    await cluster.clean();
    const sidecar = new SidecarProcess(await freePort());
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    const script = path.resolve(
      __dirname,
      '../../../k8s/controlplane/restart.sh'
    );
    const ready = async (): Promise<boolean> =>
      (await cluster.call('GET', '/readyz').catch(() => ({ status: 0 })))
        .status === 200;
    try {
      const gate = path.join(gates, 'apiserver');
      const before = await submit(
        sidecar,
        'gpu-1',
        gated(gate, 'before the outage')
      );
      await state(sidecar, before, 'running');
      execFileSync(script, [cluster.dir, 'kube-apiserver', '--down-only']);
      await waitFor(
        async () => !(await ready()),
        'the API server down',
        10000,
        100
      );
      execFileSync(script, [cluster.dir, 'kube-apiserver', '--up-only']);
      await waitFor(ready, 'the API server back', 120000, 250);
      open(gate);
      expect((await ended(sidecar, before)).state).toBe('succeeded');
      const after = await submit(
        sidecar,
        'gpu-1',
        gated(gate, 'after the outage')
      );
      expect((await ended(sidecar, after)).state).toBe('succeeded');
      expect(
        (await cluster.jobs())
          .map(j => j.metadata.labels['nbqueue.io/job-id'])
          .sort()
      ).toEqual([before, after].sort());
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });
});

describe('sidecar restart', () => {
  test('running Jobs are re-adopted and finish; nothing is duplicated', async () => {
    await cluster.clean();
    const port = await freePort();
    const sidecar = new SidecarProcess(port);
    await sidecar.start();
    const harness = new RunnerHarness(cluster);
    harness.start();
    try {
      const gate = path.join(gates, 'restart');
      const ids = [
        await submit(sidecar, 'gpu-1', gated(gate, 'restart a')),
        await submit(sidecar, 'gpu-1', gated(gate, 'restart b'))
      ];
      for (const id of ids) await state(sidecar, id, 'running');
      const before = (await cluster.jobs()).map(j => j.metadata.uid).sort();
      expect(before).toHaveLength(2);

      await sidecar.kill();
      await sidecar.start();
      for (const id of ids)
        expect((await sidecar.job(id)).state).toBe('running');
      open(gate);
      const done = await Promise.all(ids.map(id => ended(sidecar, id)));
      expect(done.map(d => d.state)).toEqual(['succeeded', 'succeeded']);
      for (const id of ids) {
        const events = (await sidecar.api('GET', `/api/jobs/${id}/events`)).body
          .events as Obj[];
        expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));
        expect(JSON.stringify(events)).toContain('gate open');
      }
      const after = (await cluster.jobs()).map(j => j.metadata.uid).sort();
      expect(after).toEqual(before);
      expect(sidecar.output).not.toMatch(/orphaned/);
    } finally {
      await harness.stop();
      await sidecar.stop();
    }
  });
});
