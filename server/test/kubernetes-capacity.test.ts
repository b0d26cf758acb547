/**
 * The Kubernetes backend's view of its pool's free capacity (capacity.ts): quantities, what a
 * node can still hold, which nodes count.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../src/config/load';
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
