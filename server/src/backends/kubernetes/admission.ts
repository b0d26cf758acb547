/**
 * Whether a job would find room on its pool now (capacity mode): the pool's free capacity from
 * the informers' nodes and pods, less what the jobs already started but not yet placed will
 * take. A job no node of its pool could ever hold is told so while it waits.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { BackendObserver } from '../backend';
import type { Profile } from '../../config/schema';
import type { JobRecord } from '../../jobs/types';
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
    const pool = new PoolCapacity(nodes, placed);
    const counted = new Set(
      placed.map(p => p.metadata?.labels?.[JOB_ID_LABEL]).filter(Boolean)
    );
    for (const [id, a] of started) {
      if (counted.has(id) || a.cancelling) continue;
      pool.take(this.demand(a.profile));
    }
    const demand = this.demand(profile);
    if (pool.take(demand)) return true;
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

  /** The job started: a note that it could not fit no longer holds. */
  started(jobId: string): void {
    if (this.cannotFit.delete(jobId)) this.observer.note?.(jobId, null);
  }
}
