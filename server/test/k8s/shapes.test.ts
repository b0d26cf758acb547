/**
 * GPU shapes on the test cluster: profiles that name a MIG slice (nvidia.com/mig-1g.10gb, on
 * mig-node-0 only) or a GPU type (NVIDIA-L4, on l4-node-0 only; the H100 nodes also have
 * nvidia.com/gpu). Admission counts each resource on the nodes of each type apart, the
 * profiles say what is free of their shape, and a job of a shape with no room waits, named.
 */
import * as path from 'path';
import { waitFor } from '../helpers';
import {
  GATES as gates,
  Obj,
  RunnerHarness,
  SidecarProcess,
  freePort
} from './harness';
import { cluster, ended, gated, open, podOf, state, submit } from './jobs';

const MIG = 'nvidia.com/mig-1g.10gb';
/** The shape nodes' taints (k8s/controlplane/nodes.yaml): only these profiles go there. */
const tolerations = [
  {
    key: 'nvidia.com/gpu',
    operator: 'Equal',
    value: 'present',
    effect: 'NoSchedule'
  },
  { key: 'nbqueue.io/shape', operator: 'Exists', effect: 'NoSchedule' }
];

describe('GPU shapes on kubernetes', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    await cluster.clean();
    sidecar = new SidecarProcess(await freePort(), {}, [
      { name: 'gpu-1', cpus: 8, gpus: 1, memory: '32Gi', capacity: 50 },
      {
        name: 'mig',
        cpus: 1,
        gpu: { resource: MIG, count: 1 },
        memory: '1Gi',
        capacity: 50,
        kubernetes: { tolerations }
      },
      {
        name: 'l4',
        cpus: 1,
        gpu: { type: 'NVIDIA-L4', count: 4 },
        memory: '1Gi',
        capacity: 50,
        kubernetes: { tolerations }
      }
    ]);
    await sidecar.start();
    harness = new RunnerHarness(cluster);
    harness.start();
  });

  afterAll(async () => {
    await harness?.stop();
    await sidecar?.stop();
    await cluster.clean();
  });

  const profiles = async (): Promise<Record<string, Obj>> =>
    Object.fromEntries(
      ((await sidecar.api('GET', '/api/profiles')).body.profiles as Obj[]).map(
        p => [p.name, p]
      )
    );

  test('a MIG job lands on the MIG node, a typed job on its type; the next one waits, its shape named', async () => {
    const before = await profiles();
    expect(before.mig).toMatchObject({
      gpu_type: null,
      gpu_resource: MIG,
      gpu_free: 7
    });
    expect(before.l4).toMatchObject({
      gpu_type: 'NVIDIA-L4',
      gpu_resource: 'nvidia.com/gpu',
      gpu_free: 4
    });
    // The existing profiles' GPUs: the two H100 nodes only (the shape nodes are tainted).
    expect(before['gpu-1']).toMatchObject({
      gpu_type: null,
      gpu_free: 16
    });

    const gate = path.join(gates, 'shapes');
    const mig = await submit(sidecar, 'mig', gated(gate, 'a MIG slice'));
    const l4 = await submit(sidecar, 'l4', gated(gate, 'four L4s'), 'a');
    await state(sidecar, mig, 'running');
    await state(sidecar, l4, 'running');
    const migPod = await podOf(mig);
    expect(migPod.spec.nodeName).toBe('mig-node-0');
    expect(migPod.spec.containers[0].resources.limits[MIG]).toBe('1');
    const l4Pod = await podOf(l4);
    expect(l4Pod.spec.nodeName).toBe('l4-node-0');
    expect(l4Pod.spec.nodeSelector).toEqual({
      'nbqueue.io/pool': 'ml',
      'nvidia.com/gpu.product': 'NVIDIA-L4'
    });
    expect(l4Pod.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(
      '4'
    );

    // Every L4 taken, 16 H100s free: the second L4 job waits, without a pod, and says why.
    const next = await submit(sidecar, 'l4', gated(gate, 'four more L4s'), 'b');
    const waiting = await waitFor(
      async () => {
        const job = await sidecar.job(next);
        return job.waiting?.reasons.find((r: Obj) => r.code === 'cluster_full')
          ? job
          : null;
      },
      'the second L4 job to wait for its shape',
      30000,
      200
    );
    expect(waiting.state).toBe('queued');
    expect(waiting.waiting.summary).toContain(
      'No node has 4 nvidia.com/gpu (NVIDIA-L4) free (0 nvidia.com/gpu (NVIDIA-L4) free for profile l4 on 1 node)'
    );
    expect(await podOf(next)).toBeUndefined();
    const during = await profiles();
    expect([during.mig.gpu_free, during.l4.gpu_free]).toEqual([6, 0]);
    expect(during['gpu-1'].gpu_free).toBe(16);

    open(gate);
    const done = await Promise.all(
      [mig, l4, next].map(id => ended(sidecar, id))
    );
    expect(done.map(d => d.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded'
    ]);
    // The waiting one started only once the first had ended.
    expect(Date.parse(done[2].started_at)).toBeGreaterThanOrEqual(
      Date.parse(done[1].finished_at)
    );
  }, 180000);
});
