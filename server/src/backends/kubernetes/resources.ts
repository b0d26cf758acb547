/**
 * What the backend creates and deletes in the job namespace: a job's token Secret and Job
 * (the Job then owns the Secret), the deletion of a Job with what it owns, the Jobs nobody owns
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
import { secretName } from './names';

/** The Job could not be created; `jobCreated`: it was, but could not own its Secret. */
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
    private readonly log: (line: string) => void
  ) {}

  /**
   * Creates the Secret, then the Job, then makes the Job the Secret's owner. Throws a
   * CreateFailure; a Secret whose Job could not be created is deleted, a Job is left to the
   * caller (which must stop observing it first).
   */
  async create(job: V1Job, secret: V1Secret): Promise<void> {
    const namespace = this.namespace;
    const name = job.metadata?.name as string;
    let jobCreated = false;
    try {
      // The Secret first, so the pod finds it; once the Job exists it becomes the Secret's
      // owner and the garbage collector deletes the two together.
      const stored = await this.core.createNamespacedSecret({
        namespace,
        body: secret
      });
      fault('admission.secret-created');
      let created: V1Job;
      try {
        created = await this.batch.createNamespacedJob({
          namespace,
          body: job
        });
      } catch (err) {
        await this.core
          .deleteNamespacedSecret({ name: secretName(name), namespace })
          .catch(() => undefined);
        throw err;
      }
      jobCreated = true;
      stored.metadata = {
        ...stored.metadata,
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name,
            uid: created.metadata?.uid as string,
            blockOwnerDeletion: false
          }
        ]
      };
      await this.core.replaceNamespacedSecret({
        name: secretName(name),
        namespace,
        body: stored
      });
    } catch (err) {
      throw new CreateFailure(err, jobCreated);
    }
  }

  /**
   * Whether the Job `name` was never created, for a job that has none now: its token Secret is
   * absent (the sidecar stopped before creating it), or there without an owner, as a Job that
   * was created would have become (then it is deleted). A Secret a Job owned: false.
   */
  async removeUnstarted(name: string): Promise<boolean> {
    const namespace = this.namespace;
    let secret: V1Secret;
    try {
      secret = await this.core.readNamespacedSecret({
        name: secretName(name),
        namespace
      });
    } catch (err) {
      if (errorCode(err) === 404) return true;
      this.log(`could not read Secret ${secretName(name)}: ${apiMessage(err)}`);
      return false;
    }
    if (secret.metadata?.ownerReferences?.length) return false;
    try {
      await this.core.deleteNamespacedSecret({
        name: secretName(name),
        namespace
      });
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
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.namespace,
        propagationPolicy: 'Background'
      });
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
    for (const name of orphans) await this.deleteJob(name);
    return orphans;
  }

  /** The last 5000 lines of the runner's log in `pod`, or null when there is none. */
  async logs(pod: string): Promise<string | null> {
    try {
      return await this.core.readNamespacedPodLog({
        name: pod,
        namespace: this.namespace,
        container: CONTAINER,
        tailLines: 5000
      });
    } catch {
      return null;
    }
  }
}
