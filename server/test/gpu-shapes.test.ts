/**
 * GPU shapes: a profile's gpu (a GPU type label, an extended resource such as a MIG slice, a
 * count) in the configuration, in the pod's placement and in the Kubernetes admission, which
 * counts each resource on the nodes of each type apart.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../src/config/load';
import { shapeUnit } from '../src/config/schema';
import { explainQueue } from '../src/queue/waiting';
import { Admission } from '../src/backends/kubernetes/admission';
import { placementFor } from '../src/backends/kubernetes/manifest';
import type { JobRecord } from '../src/jobs/types';

const MIG = 'nvidia.com/mig-1g.10gb';
const shapedTolerations = [
  {
    key: 'nvidia.com/gpu',
    operator: 'Equal' as const,
    value: 'present',
    effect: 'NoSchedule' as const
  }
];

const config = parseConfig({
  backend: {
    type: 'kubernetes',
    kubernetes: { sidecar_url: 'http://nbqueue.nbqueue.svc:8765' }
  },
  profiles: [
    { name: 'gpu-1', cpus: 8, gpus: 1, memory: '32Gi', capacity: 9 },
    {
      name: 'mig',
      cpus: 2,
      gpu: { resource: MIG, count: 1 },
      memory: '8Gi',
      capacity: 9,
      kubernetes: { tolerations: shapedTolerations }
    },
    {
      name: 'l4',
      cpus: 8,
      gpu: { type: 'NVIDIA-L4', count: 4 },
      memory: '32Gi',
      capacity: 9
    }
  ]
});
const profile = (name: string) =>
  config.profiles.find(p => p.name === name) as (typeof config.profiles)[0];

function node(
  name: string,
  product: string,
  resources: Record<string, string>
): V1Node {
  return {
    metadata: {
      name,
      labels: { 'nbqueue.io/pool': 'ml', 'nvidia.com/gpu.product': product }
    },
    spec: {
      taints: [
        { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }
      ]
    },
    status: {
      allocatable: { cpu: '64', memory: '500Gi', pods: '110', ...resources },
      conditions: [{ type: 'Ready', status: 'True' }]
    }
  };
}

function pod(nodeName: string, requests: Record<string, string>): V1Pod {
  return {
    metadata: { name: `p-${Math.random()}` },
    spec: { nodeName, containers: [{ name: 'c', resources: { requests } }] },
    status: { phase: 'Running' }
  };
}

const nodes = [
  node('h100', 'NVIDIA-H100-80GB-HBM3', { 'nvidia.com/gpu': '8' }),
  node('mig', 'NVIDIA-A100-SXM4-80GB', { [MIG]: '7' }),
  node('l4', 'NVIDIA-L4', { 'nvidia.com/gpu': '4' })
];

const admission = () =>
  new Admission(config.backend.kubernetes, {
    handle: () => undefined,
    exited: () => undefined
  });

describe('GPU shapes in the configuration', () => {
  test('gpu: {type, resource, count} is read, gpus: N still means N nvidia.com/gpu of any type', () => {
    expect(profile('mig')).toMatchObject({
      gpus: 1,
      gpu: { resource: MIG, count: 1 }
    });
    expect(profile('l4').gpu).toEqual({
      type: 'NVIDIA-L4',
      resource: 'nvidia.com/gpu',
      count: 4
    });
    expect(profile('gpu-1').gpu).toBeUndefined();
  });

  test('a wrong shape stops the server with a message naming the field', () => {
    const one = (p: Record<string, unknown>) => () =>
      parseConfig({
        profiles: [{ name: 'x', cpus: 1, memory: '1Gi', capacity: 1, ...p }]
      });
    expect(one({ gpus: 1, gpu: { count: 1 } })).toThrow(
      /profiles\.0\.gpu: give either gpus .* or gpu .*, not both/
    );
    expect(one({})).toThrow(/profiles\.0\.gpus: required/);
    expect(one({ gpu: { resource: 'gpu', count: 1 } })).toThrow(
      /profiles\.0\.gpu\.resource: must be an extended resource name/
    );
    expect(one({ gpu: { type: 'NVIDIA L4', count: 1 } })).toThrow(
      /profiles\.0\.gpu\.type: must be a Kubernetes label value/
    );
    expect(one({ gpu: { type: 'NVIDIA-L4', count: 0 } })).toThrow(
      /profiles\.0\.gpu\.count/
    );
  });
});

describe('GPU shapes on Kubernetes', () => {
  test('the pod asks for the resource and selects the nodes of the type', () => {
    const mig = placementFor(config.backend.kubernetes, profile('mig'));
    expect(mig.requests).toEqual({ cpu: '2', memory: '8Gi', [MIG]: '1' });
    expect(mig.nodeSelector).toEqual({ 'nbqueue.io/pool': 'ml' });
    const l4 = placementFor(config.backend.kubernetes, profile('l4'));
    expect(l4.requests['nvidia.com/gpu']).toBe('4');
    expect(l4.nodeSelector).toEqual({
      'nbqueue.io/pool': 'ml',
      'nvidia.com/gpu.product': 'NVIDIA-L4'
    });
    // The label key is the operator's to choose.
    const other = parseConfig({
      backend: {
        type: 'kubernetes',
        kubernetes: { gpu_type_label: 'cloud.google.com/gke-accelerator' }
      }
    }).backend.kubernetes;
    expect(placementFor(other, profile('l4')).nodeSelector).toEqual({
      'nbqueue.io/pool': 'ml',
      'cloud.google.com/gke-accelerator': 'NVIDIA-L4'
    });
  });

  test('free units are counted per resource and per type', () => {
    const a = admission();
    expect(a.gpuFree(profile('mig'), nodes, [], [])).toBe(7);
    // nvidia.com/gpu of any type: the H100s and the L4s.
    expect(a.gpuFree(profile('gpu-1'), nodes, [], [])).toBe(12);
    expect(a.gpuFree(profile('l4'), nodes, [], [])).toBe(4);
    const placed = [
      pod('mig', { [MIG]: '3' }),
      pod('l4', { 'nvidia.com/gpu': '1' }),
      pod('h100', { 'nvidia.com/gpu': '8' })
    ];
    expect(a.gpuFree(profile('mig'), nodes, placed, [])).toBe(4);
    expect(a.gpuFree(profile('l4'), nodes, placed, [])).toBe(3);
    expect(a.gpuFree(profile('gpu-1'), nodes, placed, [])).toBe(3);
    // A started job whose pod is not placed yet holds its units already.
    const started: Array<
      [string, { profile: (typeof config.profiles)[0]; cancelling: boolean }]
    > = [['j-mig', { profile: profile('mig'), cancelling: false }]];
    expect(a.gpuFree(profile('mig'), nodes, placed, started)).toBe(3);
  });

  test('a MIG job fits only where slices are free; a typed job waits with its shape named', () => {
    const a = admission();
    const job = { id: 'j-1' } as JobRecord;
    expect(a.fits(job, profile('mig'), nodes, [], [])).toBe(true);
    // Every slice taken, whole GPUs free elsewhere: the MIG job still waits.
    const full = [pod('mig', { [MIG]: '7' })];
    expect(a.fits(job, profile('mig'), nodes, full, [])).toBe(false);
    expect(a.refusal(job.id)).toEqual({
      code: 'cluster_full',
      message: `no node has 1 ${MIG} free (0 ${MIG} free for profile mig on 1 node)`
    });
    // 8 H100s free, but the L4s are taken: the L4 job waits.
    const l4Busy = [pod('l4', { 'nvidia.com/gpu': '1' })];
    expect(a.fits(job, profile('l4'), nodes, l4Busy, [])).toBe(false);
    expect(a.refusal(job.id)).toEqual({
      code: 'cluster_full',
      message:
        'no node has 4 nvidia.com/gpu (NVIDIA-L4) free (3 nvidia.com/gpu (NVIDIA-L4) free for profile l4 on 1 node)'
    });
    expect(a.fits(job, profile('l4'), nodes, [], [])).toBe(true);
    expect(a.refusal(job.id)).toBeUndefined();
  });
});

describe('GPU shapes in the queue', () => {
  test('a full pool of a shaped profile counts its units, not GPUs', () => {
    const out = explainQueue({
      queued: [
        {
          id: 'j1',
          owner: 'carol',
          pool: 'mig',
          priorityRank: 1,
          positionKey: 1
        }
      ],
      pools: { mig: { capacity: 2, running: 2 } },
      runningByUser: { alice: 2 },
      runningByPoolOwner: { mig: { alice: 2 } },
      priorities: ['low', 'normal'],
      gpusPerJob: { mig: 1 },
      gpuUnits: { mig: shapeUnit(profile('mig')) }
    });
    expect(out.waiting.get('j1')?.reasons[0].message).toBe(
      `pool mig: 2 of 2 ${MIG} in use: alice 2`
    );
    expect(shapeUnit(profile('l4'))).toBe('nvidia.com/gpu (NVIDIA-L4)');
  });
});
