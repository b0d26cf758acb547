/**
 * Whether a job would find room on its pool now (capacity mode): the pool's free capacity from
 * the informers' nodes and pods, less what the jobs already started but not yet placed will
 * take. A job no node of its pool could ever hold is told so while it waits.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { humanBytes } from '@nbqueue/common';
import type { BackendObserver } from '../backend';
import {
  type Profile,
  gpuShape,
  isShaped,
  shapeUnit
} from '../../config/schema';
import type { JobRecord } from '../../jobs/types';
import type { WaitingReason } from '../../queue/waiting';
import { Demand, PoolCapacity, amounts } from './capacity';
import type { KubernetesBackendConfig } from './config';
import { placementFor } from './manifest';
import { JOB_ID_LABEL } from './names';

/** A started job, as admission counts it. */
export interface Started {
  profile: Profile;
  cancelling: boolean;
}

export class Admission {
  /** Queued jobs told that no node of their pool can hold them. */
  private readonly cannotFit = new Set<string>();
  /** Why each job the scheduler chose last found no room (until it starts or finds room). */
  private readonly refusals = new Map<string, WaitingReason>();

  constructor(
    private readonly config: KubernetesBackendConfig,
    private readonly observer: BackendObserver
  ) {}

  demand(profile: Profile): Demand {
    const place = placementFor(this.config, profile);
    return {
      nodeSelector: place.nodeSelector,
      tolerations: place.tolerations,
      requests: { ...amounts(place.requests), pods: 1 }
    };
  }

  /**
   * Whether `job` (of `profile`) fits on the pool of `nodes`, where `placed` pods hold room and
   * the `started` jobs whose pods are not placed yet will.
   */
  fits(
    job: JobRecord,
    profile: Profile,
    nodes: ReadonlyArray<V1Node>,
    placed: ReadonlyArray<V1Pod>,
    started: Iterable<[string, Started]>
  ): boolean {
    const pool = this.pool(nodes, placed, started);
    const demand = this.demand(profile);
    if (pool.take(demand)) {
      this.refusals.delete(job.id);
      return true;
    }
    this.refusals.set(job.id, whyNoRoom(pool, demand, profile));
    if (
      !this.cannotFit.has(job.id) &&
      !PoolCapacity.couldEverHold(nodes, demand)
    ) {
      this.cannotFit.add(job.id);
      const asks = Object.entries(placementFor(this.config, profile).requests)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      const where = Object.entries(demand.nodeSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      this.observer.note?.(
        job.id,
        `No ready node of the pool (${where || 'any node'}) is big enough for profile '${profile.name}' (${asks}): the job waits until one is. Choose a smaller profile, or ask an operator to check the pool.`
      );
    }
    return false;
  }

  /**
   * Units of the profile's GPU resource free on the nodes its pods could land on (its shape:
   * pool, GPU type label, taints), less what started jobs not placed yet will take.
   */
  gpuFree(
    profile: Profile,
    nodes: ReadonlyArray<V1Node>,
    placed: ReadonlyArray<V1Pod>,
    started: Iterable<[string, Started]>
  ): number {
    const pool = this.pool(nodes, placed, started);
    return pool.total(gpuShape(profile).resource, this.demand(profile));
  }

  /** The pool's free room: the placed pods' requests, then the started jobs' still to come. */
  private pool(
    nodes: ReadonlyArray<V1Node>,
    placed: ReadonlyArray<V1Pod>,
    started: Iterable<[string, Started]>
  ): PoolCapacity {
    const pool = new PoolCapacity(nodes, placed);
    const counted = new Set(
      placed.map(p => p.metadata?.labels?.[JOB_ID_LABEL]).filter(Boolean)
    );
    for (const [id, a] of started) {
      if (counted.has(id) || a.cancelling) continue;
      pool.take(this.demand(a.profile));
    }
    return pool;
  }

  /** The job started: a note that it could not fit no longer holds. */
  started(jobId: string): void {
    this.refusals.delete(jobId);
    if (this.cannotFit.delete(jobId)) this.observer.note?.(jobId, null);
  }

  /** Why the job found no room when the scheduler last chose it, if it did not. */
  refusal(jobId: string): WaitingReason | undefined {
    return this.refusals.get(jobId);
  }
}

const UNITS: Record<string, (n: number) => string> = {
  'nvidia.com/gpu': n => `${n} GPU${n === 1 ? '' : 's'}`,
  cpu: n => `${n} CPU${n === 1 ? '' : 's'}`,
  memory: n => `${humanBytes(n)} of memory`,
  pods: n => `${n} pod slot${n === 1 ? '' : 's'}`
};

const amount = (resource: string, n: number): string =>
  (UNITS[resource] ?? (v => `${v} ${resource}`))(Math.max(0, n));

/** Amounts of a shaped profile's GPUs name the resource and the type: "1 nvidia.com/mig-1g.10gb". */
function amountOf(profile: Profile): (resource: string, n: number) => string {
  if (!isShaped(profile)) return amount;
  const gpu = gpuShape(profile).resource;
  return (resource, n) =>
    resource === gpu
      ? `${Math.max(0, n)} ${shapeUnit(profile)}`
      : amount(resource, n);
}

/**
 * Which request keeps the demand off the pool: the pool lacks it in total ("cluster_full"), or
 * has it only spread over nodes ("no_node_fits": 10 GPUs free across 3 nodes, none has 8). A
 * shaped profile's (a GPU type, a MIG slice) says first that no node has its units free.
 */
function whyNoRoom(
  pool: PoolCapacity,
  demand: Demand,
  profile: Profile
): WaitingReason {
  const gpu = gpuShape(profile).resource;
  const shaped = isShaped(profile);
  const units = amountOf(profile);
  // GPUs first: the resource people wait for.
  const wanted = Object.entries(demand.requests)
    .filter(([, v]) => v > 0)
    .sort(([a], [b]) => Number(b === gpu) - Number(a === gpu));
  let spread: WaitingReason | undefined;
  for (const [resource, need] of wanted) {
    const total = pool.total(resource, demand);
    const { most, nodes } = pool.largest(resource, demand);
    const none =
      shaped && resource === gpu
        ? `no node has ${units(resource, need)} free`
        : '';
    const on = `on ${nodes} node${nodes === 1 ? '' : 's'}`;
    if (total < need)
      return {
        code: 'cluster_full',
        message: none
          ? `${none} (${units(resource, total)} free for profile ${profile.name} ${on})`
          : `the cluster has ${amount(resource, total)} free for profile ${profile.name} ${on}; it needs ${amount(resource, need)}`
      };
    if (most < need && !spread)
      spread = {
        code: 'no_node_fits',
        message: none
          ? `${none} (${units(resource, total)} free across ${nodes} nodes)`
          : `${amount(resource, total)} free across ${nodes} nodes, none has ${amount(resource, need)} free`
      };
  }
  return (
    spread ?? {
      code: 'no_node_fits',
      message: `no single node of the pool has room for profile ${profile.name} now`
    }
  );
}
