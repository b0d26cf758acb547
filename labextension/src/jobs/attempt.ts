/**
 * What a person reads of a job's attempts: "attempt 2 of 3, restarted after
 * node preemption", in the Jobs panel's rows and in the notebook it streams to.
 */
import type { RestartCause } from '../service/events';
import type { IJob } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';

/** "node preemption", "eviction", ...: what took the pod away. */
export function causeText(
  cause: RestartCause,
  trans: TranslationBundle = nbqueueBundle()
): string {
  switch (cause) {
    case 'preemption':
      return trans.__('node preemption');
    case 'eviction':
      return trans.__('eviction');
    case 'node_lost':
      return trans.__('node loss');
    case 'pod_deleted':
      return trans.__('pod deletion');
  }
}

/** "attempt 2 of 3, restarted after node preemption" (the cause: the last restart's). */
export function restartText(
  attempt: number,
  maxAttempts: number,
  cause: RestartCause,
  trans: TranslationBundle = nbqueueBundle()
): string {
  return trans.__(
    'attempt %1 of %2, restarted after %3',
    attempt,
    maxAttempts,
    causeText(cause, trans)
  );
}

/** The job's attempt as its row says it; empty for a job that was never restarted. */
export function attemptText(
  job: Pick<IJob, 'attempt' | 'max_attempts' | 'restarts'>,
  trans: TranslationBundle = nbqueueBundle()
): string {
  const last = job.restarts?.[job.restarts.length - 1];
  if (!last || job.attempt < 2) {
    return '';
  }
  return restartText(job.attempt, job.max_attempts, last.cause, trans);
}
