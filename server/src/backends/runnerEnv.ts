import type { OsAccount } from './osAccount';

/** What every runner takes from the sidecar's environment (besides backend.local.env_allow). */
const ALWAYS = [
  'PATH',
  'LANG',
  'LANGUAGE',
  'TZ',
  'LC_*',
  // What a restore's installer needs to reach the index the way the sidecar's machine does.
  ...['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap(n => [
    n,
    n.toLowerCase()
  ]),
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'PIP_*',
  'UV_*'
];
/**
 * The sidecar's own account only: its paths, wrong for another account. PYTHONPATH says which
 * runner a development tree runs (ui-tests, the corpus and hub harnesses set it).
 */
const OWN_ACCOUNT = ['HOME', 'USER', 'LOGNAME', 'TMPDIR', 'PYTHONPATH'];
/**
 * The runner's own settings (runner-image/nbqueue), passed on when the operator set them for
 * the sidecar. NBQUEUE_TOKEN, NBQUEUE_CONFIG and NBQUEUE_STATE_FILE are the sidecar's, never.
 */
const RUNNER_SETTINGS = [
  'NBQUEUE_RETRY_SECONDS',
  'NBQUEUE_MAX_METRICS',
  'NBQUEUE_SYSTEM_METRICS_SECONDS',
  'NBQUEUE_ENVIRONMENT_MODE',
  'NBQUEUE_ENV_CACHE_DIR',
  'NBQUEUE_ENV_INSTALLER',
  'NBQUEUE_UV',
  'NBQUEUE_WORK_ROOT',
  'NBQUEUE_KEEP_WORK_DIR'
];

function matches(name: string, patterns: string[]): boolean {
  return patterns.some(p =>
    p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p
  );
}

export interface RunnerEnvOptions {
  /** The sidecar's environment. */
  from: NodeJS.ProcessEnv;
  /** More names (or "PREFIX*") the operator lets through (backend.local.env_allow). */
  allow: string[];
  /** Values for every runner (backend.local.env, and what tests add). */
  set: Record<string, string>;
  /** The job owner's account when runners run as it; else the sidecar's own. */
  account?: OsAccount;
  /** The job's own variables (NBQUEUE_URL, NBQUEUE_JOB_ID, NBQUEUE_JOB_TOKEN...): last word. */
  job: Record<string, string>;
}

/**
 * A runner's environment: an allow-list of the sidecar's, never the rest (its token, the hub's
 * API token, cloud credentials). Under another account, HOME, USER and LOGNAME are that one's.
 */
export function runnerEnvironment({
  from,
  allow,
  set,
  account,
  job
}: RunnerEnvOptions): Record<string, string> {
  const passed = [
    ...ALWAYS,
    ...RUNNER_SETTINGS,
    ...(account ? [] : OWN_ACCOUNT),
    ...allow
  ];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && matches(name, passed)) env[name] = value;
  }
  Object.assign(env, set);
  if (account) {
    env.HOME = account.home;
    env.USER = account.name;
    env.LOGNAME = account.name;
  }
  return Object.assign(env, job);
}
