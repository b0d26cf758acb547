/**
 * The Kubernetes backend's view of its pool's free capacity (capacity.ts): quantities, what a
 * node can still hold, which nodes count.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../src/config/load';
import type { Profile } from '../src/config/schema';
import type { JobRecord } from '../src/jobs/types';
import { Admission } from '../src/backends/kubernetes/admission';
import {
  PoolCapacity,
  amounts,
  parseQuantity
} from '../src/backends/kubernetes/capacity';

const k8s = parseConfig({
  backend: {
    type: 'kubernetes',
    kubernetes: { sidecar_url: 'http://nbqueue.nbqueue.svc:8765' }
  }
}).backend.kubernetes;

function node(
  name: string,
  gpus: number,
  extra: Partial<V1Node['spec']> = {},
  ready = 'True'
): V1Node {
  return {
    metadata: { name, labels: { 'nbqueue.io/pool': 'ml' } },
    spec: {
      taints: [
        { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }
      ],
      ...extra
    },
    status: {
      allocatable: {
        cpu: '96',
        memory: '1000Gi',
        'nvidia.com/gpu': String(gpus),
        pods: '110'
      },
      conditions: [{ type: 'Ready', status: ready }]
    }
  };
}
function pod(nodeName: string, gpus: number, phase = 'Running'): V1Pod {
  return {
    metadata: { name: `p-${Math.random()}` },
    spec: {
      nodeName,
      containers: [
        {
          name: 'c',
          resources: {
            requests: { cpu: '500m', 'nvidia.com/gpu': String(gpus) }
          }
        }
      ]
    },
    status: { phase }
  };
}
const demand = (gpus: number) => ({
  nodeSelector: { 'nbqueue.io/pool': 'ml' },
  tolerations: k8s.tolerations,
  requests: amounts({
    cpu: '8',
    memory: '32Gi',
    ...(gpus ? { 'nvidia.com/gpu': String(gpus) } : {})
  })
});

describe('pool capacity', () => {
  test('quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('32Gi')).toBe(32 * 2 ** 30);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(amounts({ cpu: '1500m' }).cpu).toBe(1500);
  });

  test('16 one-GPU jobs fit on two 8-GPU nodes, the 17th does not', () => {
    const pool = new PoolCapacity([node('a', 8), node('b', 8)], []);
    for (let i = 0; i < 16; i++) expect(pool.take(demand(1))).toBe(true);
    expect(pool.take(demand(1))).toBe(false);
  });

  test('a 2-GPU job needs both GPUs on one node', () => {
    const pool = new PoolCapacity(
      [node('a', 8), node('b', 8)],
      [pod('a', 7), pod('b', 7)]
    );
    expect(pool.total('nvidia.com/gpu', demand(2))).toBe(2);
    expect(pool.take(demand(2))).toBe(false);
    expect(pool.take(demand(1))).toBe(true);
  });

  test('ended pods free their node; cordoned, NotReady, untolerated or unselected nodes are not used', () => {
    expect(
      new PoolCapacity([node('a', 1)], [pod('a', 1, 'Succeeded')]).take(
        demand(1)
      )
    ).toBe(true);
    expect(
      new PoolCapacity([node('a', 1)], [pod('a', 1)]).take(demand(1))
    ).toBe(false);
    expect(
      new PoolCapacity([node('a', 8, { unschedulable: true })], []).take(
        demand(1)
      )
    ).toBe(false);
    expect(
      new PoolCapacity([node('a', 8, {}, 'False')], []).take(demand(1))
    ).toBe(false);
    expect(
      new PoolCapacity([node('a', 8)], []).take({
        ...demand(1),
        tolerations: []
      })
    ).toBe(false);
    expect(
      new PoolCapacity([node('a', 8)], []).take({
        ...demand(1),
        nodeSelector: { 'nbqueue.io/pool': 'x' }
      })
    ).toBe(false);
  });
});

test('a node at its pod limit holds no more', () => {
  const full: V1Node = node('a', 8);
  full.status!.allocatable!.pods = '1';
  const one = { ...demand(1), requests: { ...demand(1).requests, pods: 1 } };
  expect(new PoolCapacity([full], []).take(one)).toBe(true);
  expect(new PoolCapacity([full], [pod('a', 0)]).take(one)).toBe(false);
});

describe('why a job finds no room (admission.ts, shown as its waiting reason)', () => {
  const config = parseConfig({
    backend: {
      type: 'kubernetes',
      kubernetes: { sidecar_url: 'http://nbqueue.nbqueue.svc:8765' }
    }
  });
  const profile = config.profiles.find(p => p.gpus === 8);
  const job = { id: 'j-8' } as JobRecord;
  const admission = () =>
    new Admission(config.backend.kubernetes, {
      handle: () => undefined,
      exited: () => undefined
    });

  test('GPUs free in total but spread over nodes: no_node_fits, with the numbers', () => {
    expect(profile).toBeDefined();
    const a = admission();
    const nodes = [node('a', 8), node('b', 8), node('c', 8)];
    // 4 + 3 + 3 = 10 GPUs free, none with 8.
    const placed = [pod('a', 4), pod('b', 5), pod('c', 5)];
    expect(a.fits(job, profile as Profile, nodes, placed, [])).toBe(false);
    expect(a.refusal(job.id)).toEqual({
      code: 'no_node_fits',
      message: '10 GPUs free across 3 nodes, none has 8 GPUs free'
    });
  });

  test('too few GPUs in the whole pool: cluster_full; room again clears the reason', () => {
    const a = admission();
    const nodes = [node('a', 8)];
    expect(a.fits(job, profile as Profile, nodes, [pod('a', 6)], [])).toBe(
      false
    );
    expect(a.refusal(job.id)).toEqual({
      code: 'cluster_full',
      message: `the cluster has 2 GPUs free for profile ${profile?.name} on 1 node; it needs 8 GPUs`
    });
    expect(a.fits(job, profile as Profile, nodes, [], [])).toBe(true);
    expect(a.refusal(job.id)).toBeUndefined();
  });
});
