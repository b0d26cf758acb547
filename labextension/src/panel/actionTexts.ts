/**
 * The words of the Jobs panel's action buttons: their labels and titles.
 */
import type { IJob } from '../service/model';
import type { TranslationBundle } from '../translation';
import type { JobAction } from './rows';

/** The text of each action's button. */
export function actionLabels(
  trans: TranslationBundle
): Record<JobAction, string> {
  return {
    cancel: trans.__('Cancel'),
    hold: trans.__('Hold'),
    release: trans.__('Release'),
    front: trans.__('To front'),
    back: trans.__('To back'),
    priority: trans.__('Priority ▾'),
    move: trans.__('Move ▾'),
    rerun: trans.__('Re-run ▾'),
    live: trans.__('Live view'),
    result: trans.__('Result'),
    files: trans.__('Save files'),
    error: trans.__('Error'),
    log: trans.__('Log'),
    metrics: trans.__('Metrics')
  };
}

export function titleOf(
  action: JobAction,
  job: IJob,
  trans: TranslationBundle
): string {
  switch (action) {
    case 'cancel':
      return job.state === 'queued'
        ? trans.__('Remove this job from the queue')
        : trans.__('Stop this job: interrupt the kernel, then stop it');
    case 'hold':
      return trans.__('Keep this job queued without starting it');
    case 'release':
      return trans.__('Let this job start again when its turn comes');
    case 'front':
      return trans.__('Move before your other queued jobs in this queue');
    case 'back':
      return trans.__('Move after your other queued jobs in this queue');
    case 'priority':
      return trans.__('Change the priority');
    case 'move':
      return trans.__('Move to another queue');
    case 'rerun':
      return trans.__('Queue a new job with the same notebook and parameters');
    case 'live':
      return job.notebook_path
        ? trans.__("Open %1 with this job's live outputs", job.notebook_path)
        : trans.__("Open the notebook with this job's live outputs");
    case 'result':
      return trans.__(
        'Save the executed notebook next to the original and open it'
      );
    case 'files':
      return trans.__(
        'Save the files the job wrote in a folder next to the notebook'
      );
    case 'error':
      return job.reason ?? '';
    case 'log':
      return trans.__("Show the runner's log");
    case 'metrics':
      return trans.__("Show this job's metrics");
  }
}
