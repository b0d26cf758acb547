/**
 * The Kubernetes backend against a real control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler built from source, kwok's fake GPU and CPU pools),
 * with a sidecar that holds only deploy/kubernetes/rbac.yaml's permissions and real runners:
 * where a job lands, admission against the pool's GPUs, cancel. More: failures.test.ts,
 * resilience.test.ts, policy.test.ts.
 */
import * as path from 'path';
import { waitFor } from '../helpers';
import { GATES as gates, Obj, RunnerHarness, SidecarProcess } from './harness';
import {
  backendSuite,
  cluster,
  ended,
  gated,
  open,
  podOf,
  state,
  submit
} from './jobs';

describe('kubernetes backend', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    ({ sidecar, harness } = await backendSuite());
  });

  afterEach(async () => {
    // A test that failed with its gate closed must not starve the next of GPUs.
    await cluster.clean();
  });

  afterAll(async () => {
    await harness?.stop();
    await sidecar?.stop();
  });

  test('a GPU job lands on the ML pool with its limits, tolerations and token Secret, and its outputs stream back', async () => {
    const gate = path.join(gates, 'placement');
    const id = await submit(sidecar, 'gpu-1', gated(gate, 'the gpu pool'));
    const running = await state(sidecar, id, 'running');
    expect(running.reason).toBeNull();

    const [job] = (await cluster.jobs()).filter(
      j => j.metadata.labels['nbqueue.io/job-id'] === id
    );
    expect(job.metadata.name).toMatch(/^nbq-alice-my-notebook-v2-j-[0-9a-f]+$/);
    expect(job.metadata.name.length).toBeLessThanOrEqual(52);
    expect(job.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'nbqueue',
      'nbqueue.io/user': 'alice',
      'nbqueue.io/profile': 'gpu-1'
    });
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      ttlSecondsAfterFinished: 4,
      activeDeadlineSeconds: 86400
    });
    const pod = await podOf(id);
    expect(pod.spec.nodeName).toMatch(/^gpu-node-/);
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.nodeSelector).toEqual({ 'nbqueue.io/pool': 'ml' });
    expect(pod.spec.tolerations).toEqual(
      expect.arrayContaining([
        {
          key: 'nvidia.com/gpu',
          operator: 'Equal',
          value: 'present',
          effect: 'NoSchedule'
        }
      ])
    );
    expect(pod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000
    });
    const c = pod.spec.containers[0];
    expect(c.resources.limits).toEqual({
      cpu: '8',
      memory: '32Gi',
      'nvidia.com/gpu': '1'
    });
    expect(c.resources.requests).toEqual(c.resources.limits);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false
    });
    const tokenEnv = c.env.find((e: Obj) => e.name === 'NBQUEUE_JOB_TOKEN');
    expect(tokenEnv.valueFrom.secretKeyRef.name).toBe(
      `${job.metadata.name}-token`
    );
    const secret = (await cluster.secrets()).find(
      x => x.metadata.name === `${job.metadata.name}-token`
    );
    expect(secret.metadata.ownerReferences[0]).toMatchObject({
      kind: 'Job',
      uid: job.metadata.uid
    });

    open(gate);
    const done = await ended(sidecar, id);
    expect(done.state).toBe('succeeded');
    const events = (await sidecar.api('GET', `/api/jobs/${id}/events`)).body
      .events as Obj[];
    const text = JSON.stringify(events);
    expect(text).toContain('hello from the gpu pool');
    expect(text).toContain('gate open');
    expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));

    // Finished Jobs go after their TTL (the controller manager's ttl-after-finished
    // controller), and the garbage collector takes the pod and token Secret with them.
    await waitFor(
      async () =>
        !(await cluster.jobs()).some(
          j => j.metadata.name === job.metadata.name
        ) &&
        !(await cluster.secrets()).some(
          x => x.metadata.name === secret.metadata.name
        ) &&
        !(await podOf(id)),
      'the finished Job, its pod and Secret to be deleted after the TTL',
      60000,
      250
    );
  });

  test('a CPU profile goes to the CPU pool', async () => {
    const gate = path.join(gates, 'cpu');
    open(gate);
    const id = await submit(sidecar, 'cpu', gated(gate, 'the cpu pool'));
    await waitFor(
      async () => (await podOf(id))?.spec.nodeName,
      'the pod to be placed'
    );
    const pod = await podOf(id);
    expect(pod.spec.nodeName).toMatch(/^cpu-node-/);
    expect(
      pod.spec.containers[0].resources.limits['nvidia.com/gpu']
    ).toBeUndefined();
    expect((await ended(sidecar, id)).state).toBe('succeeded');
  });

  test('20 one-GPU jobs on 16 GPUs: 16 Jobs, 4 queued, no Pending pod; the rest start as jobs finish', async () => {
    const gate = path.join(gates, 'twenty');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(
        await submit(sidecar, 'gpu-1', gated(gate, `job ${i}`), `n${i}`)
      );
    // All runners share this host, where two kernels starting at once can still race for
    // the same free port (jupyter_client picks ports by binding and releasing them): such a
    // job fails "The kernel could not start" and a queued one takes its place. Pods have
    // their own network, so that is an artifact of the harness; the admission invariants
    // below hold either way.
    const harnessRace = /The kernel could not start/;
    let views: Obj[] = [];
    let unfinished: Obj[] = [];
    await waitFor(
      async () => {
        views = await Promise.all(ids.map(id => sidecar.job(id)));
        const over = views.filter(v => v.finished_at).length;
        const running = views.filter(v => v.state === 'running').length;
        // Jobs whose pods still run (a Job that just ended may still lack its condition).
        unfinished = (await cluster.jobs()).filter(
          j =>
            ids.includes(j.metadata.labels['nbqueue.io/job-id']) &&
            !j.metadata.deletionTimestamp &&
            !(j.status?.conditions ?? []).some(
              (c: Obj) =>
                ['Complete', 'Failed'].includes(c.type) && c.status === 'True'
            )
        );
        return running === Math.min(16, 20 - over) && unfinished.length === 16;
      },
      '16 runners connected, 16 Jobs running',
      180000,
      500
    );
    const over = views.filter(v => v.finished_at);
    expect(over.filter(v => !harnessRace.test(v.reason))).toEqual([]);
    expect(unfinished).toHaveLength(16);
    const pods = await cluster.pods();
    expect(pods.filter(p => p.status?.phase === 'Pending')).toHaveLength(0);
    expect(harness.noRoom()).toEqual({});
    const queued = views.filter(v => v.state === 'queued');
    expect(queued).toHaveLength(4 - over.length);
    expect(queued.map(v => v.position).sort()).toEqual(
      queued.map((_, i) => i + 1)
    );

    open(gate);
    const done = await Promise.all(ids.map(id => ended(sidecar, id, 240000)));
    expect(
      done.filter(d => d.state !== 'succeeded' && !harnessRace.test(d.reason))
    ).toEqual([]);
    expect(
      done.filter(d => d.state === 'succeeded').length
    ).toBeGreaterThanOrEqual(16);
    // The four that waited started only after others had finished.
    const starts = done
      .map(d => Date.parse(d.started_at))
      .sort((a, b) => a - b);
    const firstEnd = Math.min(...done.map(d => Date.parse(d.finished_at)));
    expect(starts.slice(16).every(t => t >= firstEnd)).toBe(true);
  }, 420000);

  test('cancel deletes the Job, its pod and its Secret', async () => {
    const id = await submit(
      sidecar,
      'gpu-1',
      gated(path.join(gates, 'never'), 'cancel')
    );
    await state(sidecar, id, 'running');
    const name = (await podOf(id)).metadata.labels['job-name'];
    expect((await sidecar.api('POST', `/api/jobs/${id}/cancel`)).status).toBe(
      200
    );
    const job = await ended(sidecar, id);
    expect(job.state).toBe('cancelled');
    await waitFor(
      async () =>
        !(await cluster.jobs()).some(j => j.metadata.name === name) &&
        !(await podOf(id)) &&
        !(await cluster.secrets()).some(
          x => x.metadata.name === `${name}-token`
        ),
      'the Job, pod and Secret gone',
      30000,
      250
    );
  });
});
