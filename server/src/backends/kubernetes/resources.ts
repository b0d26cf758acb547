/**
 * What the backend creates and deletes in the job namespace: a job's Job and its token Secret
 * (owned by the Job), the deletion of a Job with what it owns, the Jobs nobody owns
 * any more, and the runner's log.
 */
import type {
  BatchV1Api,
  CoreV1Api,
  V1Job,
  V1Secret
} from '@kubernetes/client-node';
import { fault } from '../../faults';
import { apiMessage, errorCode } from './client';
import { CONTAINER } from './manifest';
import type { TokenBucket } from './ratelimit';
import { secretName } from './names';

/** The Job could not be created; `jobCreated`: it was, but its Secret could not be. */
export class CreateFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly jobCreated: boolean
  ) {
    super(apiMessage(error));
  }
}

export class JobResources {
  constructor(
    private readonly core: CoreV1Api,
    private readonly batch: BatchV1Api,
    private readonly namespace: string,
    private readonly log: (line: string) => void,
    /** Every call here waits for its turn (backend.kubernetes.api_qps, api_burst). */
    private readonly limit: TokenBucket
  ) {}

  /**
   * Two writes: the Job, then its token Secret owned by it (the garbage collector deletes the
   * two together). The pod waits for the Secret as a kubelet does (CreateContainerConfigError,
   * retried), which takes no longer than the job controller and scheduler take to place it.
   * Throws a CreateFailure; a Job left without its Secret is the caller's to delete.
   */
  async create(job: V1Job, secret: V1Secret): Promise<void> {
    const namespace = this.namespace;
    let jobCreated = false;
    try {
      const created = await this.limit.run(() =>
        this.batch.createNamespacedJob({ namespace, body: job })
      );
      jobCreated = true;
      fault('admission.job-created');
      const owned: V1Secret = {
        ...secret,
        metadata: {
          ...secret.metadata,
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'Job',
              name: job.metadata?.name as string,
              uid: created.metadata?.uid as string,
              blockOwnerDeletion: false
            }
          ]
        }
      };
      await this.limit.run(() =>
        this.core.createNamespacedSecret({ namespace, body: owned })
      );
    } catch (err) {
      throw new CreateFailure(err, jobCreated);
    }
  }

  /** Whether the token Secret of Job `name` exists (undefined: the API could not say). */
  async hasSecret(name: string): Promise<boolean | undefined> {
    try {
      await this.limit.run(() =>
        this.core.readNamespacedSecret({
          name: secretName(name),
          namespace: this.namespace
        })
      );
      return true;
    } catch (err) {
      if (errorCode(err) === 404) return false;
      this.log(`could not read Secret ${secretName(name)}: ${apiMessage(err)}`);
      return undefined;
    }
  }

  /**
   * Whether the Job `name` was never created, for a job that has none now: its token Secret is
   * absent (the sidecar stopped before creating the Job: the Secret comes after it), or there
   * without an owner (left by an earlier sidecar version, which created it first; it is deleted).
   * A Secret a Job owned: false (the Job ran and is gone).
   */
  async removeUnstarted(name: string): Promise<boolean> {
    const namespace = this.namespace;
    let secret: V1Secret;
    try {
      secret = await this.limit.run(() =>
        this.core.readNamespacedSecret({ name: secretName(name), namespace })
      );
    } catch (err) {
      if (errorCode(err) === 404) return true;
      this.log(`could not read Secret ${secretName(name)}: ${apiMessage(err)}`);
      return false;
    }
    if (secret.metadata?.ownerReferences?.length) return false;
    try {
      await this.limit.run(() =>
        this.core.deleteNamespacedSecret({ name: secretName(name), namespace })
      );
    } catch (err) {
      if (errorCode(err) !== 404) {
        this.log(
          `could not delete Secret ${secretName(name)}: ${apiMessage(err)}`
        );
        return false;
      }
    }
    return true;
  }

  async deleteJob(name: string): Promise<void> {
    try {
      // Background: the Job goes now; the garbage collector deletes its pods (each with its
      // termination grace period, so the runner can report) and its token Secret.
      await this.limit.run(() =>
        this.batch.deleteNamespacedJob({
          name,
          namespace: this.namespace,
          propagationPolicy: 'Background'
        })
      );
    } catch (err) {
      if (errorCode(err) !== 404)
        this.log(`could not delete Job ${name}: ${apiMessage(err)}`);
    }
  }

  /**
   * Deletes nbqueue's `jobs` that are not `owned`, not ended and not being deleted already,
   * so none runs unobserved. Returns their names.
   */
  async removeOrphans(
    jobs: ReadonlyArray<V1Job>,
    owned: Set<string>
  ): Promise<string[]> {
    const orphans = jobs
      .filter(
        j =>
          !owned.has(j.metadata?.name as string) &&
          !j.metadata?.deletionTimestamp &&
          !j.status?.conditions?.some(
            c =>
              (c.type === 'Complete' || c.type === 'Failed') &&
              c.status === 'True'
          )
      )
      .map(j => j.metadata?.name as string);
    await Promise.all(orphans.map(name => this.deleteJob(name)));
    return orphans;
  }

  /** The last 5000 lines of the runner's log in `pod`, or null when there is none. */
  async logs(pod: string): Promise<string | null> {
    try {
      return await this.limit.run(() =>
        this.core.readNamespacedPodLog({
          name: pod,
          namespace: this.namespace,
          container: CONTAINER,
          tailLines: 5000
        })
      );
    } catch {
      return null;
    }
  }
}
