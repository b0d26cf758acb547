/**
 * Free capacity of the node pools, from the nodes and the pods placed on them: a pure function of
 * what the informers hold, so it can be tested without a cluster. A job fits when one node that
 * its pod could land on (selector, taints, Ready, schedulable) has room for all its requests,
 * after the pods already there and the jobs nbqueue started whose pods are not placed yet.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Toleration } from './config';

/** Resource amounts in base units: cpu in millicores, memory in bytes, others as counts. */
export type Amounts = Record<string, number>;

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18
};

/** A Kubernetes quantity ("500m", "32Gi", "1.5", "2e3") as a number; NaN when it is not one. */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(text.trim());
  if (!m) return NaN;
  const factor = m[2] ? SUFFIX[m[2]] : 1;
  return factor === undefined ? NaN : Number(m[1]) * factor;
}

/** Requests as base units (cpu in millicores, so sums stay whole numbers). */
export function amounts(
  resources: Record<string, string | number> = {}
): Amounts {
  const out: Amounts = {};
  for (const [name, value] of Object.entries(resources)) {
    const n = parseQuantity(value);
    if (!Number.isFinite(n)) continue;
    out[name] = name === 'cpu' ? Math.round(n * 1000) : n;
  }
  return out;
}

function add(into: Amounts, more: Amounts): void {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
}

/** What a pod holds on its node: its containers' requests (the larger of them and any init container's). */
export function podRequests(pod: V1Pod): Amounts {
  // A pod also takes one of the node's pod slots (allocatable `pods`).
  const sum: Amounts = { pods: 1 };
  for (const c of pod.spec?.containers ?? [])
    add(sum, amounts(c.resources?.requests as Record<string, string>));
  for (const c of pod.spec?.initContainers ?? []) {
    const init = amounts(c.resources?.requests as Record<string, string>);
    for (const [k, v] of Object.entries(init))
      sum[k] = Math.max(sum[k] ?? 0, v);
  }
  add(sum, amounts(pod.spec?.overhead as Record<string, string>));
  return sum;
}

/** Whether a pod still holds its node's resources (terminal pods do not). */
export function holdsResources(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

export interface Demand {
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  requests: Amounts;
}

function tolerates(
  tolerations: Toleration[],
  taint: { key: string; value?: string; effect: string }
): boolean {
  return tolerations.some(
    t =>
      (t.effect === undefined || t.effect === taint.effect) &&
      (t.key === undefined
        ? t.operator === 'Exists'
        : t.key === taint.key &&
          (t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '')))
  );
}

/** Whether the scheduler could put a pod with this selector and these tolerations on the node. */
export function eligible(
  node: V1Node,
  demand: Pick<Demand, 'nodeSelector' | 'tolerations'>
): boolean {
  if (node.spec?.unschedulable) return false;
  const ready = node.status?.conditions?.find(c => c.type === 'Ready');
  if (ready?.status !== 'True') return false;
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(demand.nodeSelector))
    if (labels[k] !== v) return false;
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!tolerates(demand.tolerations, taint)) return false;
  }
  return true;
}

function fitsIn(free: Amounts, requests: Amounts): boolean {
  return Object.entries(requests).every(
    ([k, v]) => v <= 0 || (free[k] ?? 0) >= v
  );
}

/** Each node's free resources: allocatable minus the requests of the pods holding it. */
export class PoolCapacity {
  private readonly free = new Map<
    string,
    { node: V1Node; allocatable: Amounts; free: Amounts }
  >();

  constructor(nodes: Iterable<V1Node>, pods: Iterable<V1Pod>) {
    for (const node of nodes) {
      const name = node.metadata?.name;
      if (!name) continue;
      const allocatable = amounts(
        node.status?.allocatable as Record<string, string>
      );
      this.free.set(name, { node, allocatable, free: { ...allocatable } });
    }
    for (const pod of pods) {
      if (!holdsResources(pod)) continue;
      const at = this.free.get(pod.spec?.nodeName as string);
      if (!at) continue;
      for (const [k, v] of Object.entries(podRequests(pod)))
        at.free[k] = (at.free[k] ?? 0) - v;
    }
  }

  /**
   * Places the demand on the first eligible node with room (as the scheduler would find one) and
   * takes it from that node's free resources. False, and nothing taken, when no node has room.
   */
  take(demand: Demand): boolean {
    for (const { node, free } of this.free.values()) {
      if (!eligible(node, demand) || !fitsIn(free, demand.requests)) continue;
      for (const [k, v] of Object.entries(demand.requests))
        free[k] = (free[k] ?? 0) - v;
      return true;
    }
    return false;
  }

  /** Whether some node the demand could use is big enough for it when empty. */
  static couldEverHold(nodes: Iterable<V1Node>, demand: Demand): boolean {
    for (const node of nodes)
      if (
        eligible(node, demand) &&
        fitsIn(
          amounts(node.status?.allocatable as Record<string, string>),
          demand.requests
        )
      )
        return true;
    return false;
  }

  /**
   * The most of one resource free on a single node the demand could use, and on how many that
   * have the resource at all (a MIG slice is on the nodes split into such slices only).
   */
  largest(
    resource: string,
    demand: Pick<Demand, 'nodeSelector' | 'tolerations'>
  ): { most: number; nodes: number } {
    let most = 0;
    let nodes = 0;
    for (const { node, allocatable, free } of this.free.values())
      if (eligible(node, demand) && (allocatable[resource] ?? 0) > 0) {
        nodes += 1;
        most = Math.max(most, free[resource] ?? 0);
      }
    return { most, nodes };
  }

  /** Free amount of one resource over the nodes a demand could use (for messages and views). */
  total(
    resource: string,
    demand: Pick<Demand, 'nodeSelector' | 'tolerations'>
  ): number {
    let sum = 0;
    for (const { node, free } of this.free.values())
      if (eligible(node, demand)) sum += Math.max(0, free[resource] ?? 0);
    return sum;
  }
}
