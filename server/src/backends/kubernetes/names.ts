/**
 * Kubernetes names and labels for nbqueue jobs. Notebook and user names can be anything (spaces,
 * capitals, unicode, 200 characters); what reaches the API server must not.
 */

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGER = 'nbqueue';
export const JOB_ID_LABEL = 'nbqueue.io/job-id';
export const USER_LABEL = 'nbqueue.io/user';
export const PROFILE_LABEL = 'nbqueue.io/profile';
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
/** The unsanitized names, where a person looks for them (annotations take any text). */
export const USER_ANNOTATION = 'nbqueue.io/user';
export const NAME_ANNOTATION = 'nbqueue.io/name';
/** Selects everything this sidecar owns. */
export const OWNED_SELECTOR = `${MANAGED_BY}=${MANAGER}`;

/**
 * A label value (at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric);
 * characters outside that become "-". Empty when nothing usable is left.
 */
export function labelValue(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** A DNS-1123 label fragment: lowercase alphanumerics and "-", no leading or trailing "-". */
function dnsPart(text: string, max: number): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
}

/**
 * The Job's name: `nbq-<user>-<notebook>-<job id>`, readable in `kubectl get jobs`, at most 52
 * characters so the pods' generated names and the job-name label stay within 63. The job id
 * (j-<hex>) at the end keeps it unique whatever the rest becomes; a restarted job's later
 * attempts end in -a<attempt>, so no attempt's Job is ever mistaken for another's.
 */
export function jobName(
  jobId: string,
  user: string,
  notebook: string,
  attempt = 1
): string {
  const id = dnsPart(jobId, 20) || 'job';
  const suffix = attempt > 1 ? `a${attempt}` : '';
  const room =
    52 - 'nbq-'.length - id.length - 2 - (suffix ? suffix.length + 1 : 0);
  const u = dnsPart(user, Math.min(16, room));
  const n = dnsPart(notebook.replace(/\.ipynb$/i, ''), room - u.length);
  return ['nbq', u, n, id, suffix].filter(Boolean).join('-');
}

/** The Secret holding the runner's token (owned by the Job, deleted with it). */
export function secretName(job: string): string {
  return `${job}-token`;
}
