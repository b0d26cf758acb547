import type { Config } from '../config/schema';
import { badRequest } from '../errors';

/** One distribution the kernel had (PEP 610 `direct_url.json` where it has one). */
export interface CapturedPackage {
  name: string;
  version: string;
  editable?: boolean;
  url?: string;
  vcs?: string | null;
  commit?: string | null;
}

export interface GitState {
  root: string;
  remote: string | null;
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
}

/**
 * The kernel's environment as the labextension captures it (docs/protocol.md); the runner
 * restores it in `restore` mode (runner-image/nbqueue/environment).
 */
export interface CapturedEnvironment {
  kernel: string | null;
  python: {
    version: string;
    implementation?: string;
    executable?: string;
    platform?: string;
    machine?: string;
  };
  packages: CapturedPackage[];
  conda_env: string | null;
  cwd: string | null;
  git: GitState | null;
}

const MAX_PACKAGES = 20000;
const MAX_TEXT = 4096;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a submitted `environment` (absent: null) and keeps only the documented fields. */
export function validateEnvironment(
  value: unknown,
  maxBytes: number
): CapturedEnvironment | null {
  if (value === undefined || value === null) return null;
  const invalid = (what: string) =>
    badRequest(
      'invalid_environment',
      `The captured environment is not valid: ${what}. Submit again from JupyterLab, or leave "environment" out.`
    );
  if (!isObject(value)) throw invalid('"environment" must be an object');
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > maxBytes) {
    throw badRequest(
      'invalid_environment',
      `The captured environment is ${bytes} bytes; at most ${maxBytes} are accepted (limits.max_environment_bytes).`
    );
  }
  const text = (v: unknown, what: string, required = false): string | null => {
    if (v === undefined || v === null) {
      if (required) throw invalid(`${what} is missing`);
      return null;
    }
    if (typeof v !== 'string' || v.length > MAX_TEXT)
      throw invalid(`${what} must be a string`);
    return v;
  };
  const python = value.python;
  if (!isObject(python)) throw invalid('"python" must be an object');
  const version = text(python.version, 'python.version', true) as string;
  if (!/^\d+\.\d+/.test(version))
    throw invalid(`python.version ${JSON.stringify(version)} is not a version`);
  if (!Array.isArray(value.packages))
    throw invalid('"packages" must be a list');
  if (value.packages.length > MAX_PACKAGES)
    throw invalid(`more than ${MAX_PACKAGES} packages`);
  const packages = value.packages.map((p, i): CapturedPackage => {
    if (!isObject(p)) throw invalid(`packages[${i}] is not an object`);
    const entry: CapturedPackage = {
      name: text(p.name, `packages[${i}].name`, true) as string,
      version: text(p.version, `packages[${i}].version`, true) as string
    };
    if (p.editable !== undefined && typeof p.editable !== 'boolean')
      throw invalid(`packages[${i}].editable must be true or false`);
    if (p.editable) entry.editable = true;
    const url = text(p.url, `packages[${i}].url`);
    if (url) entry.url = url;
    const vcs = text(p.vcs, `packages[${i}].vcs`);
    if (vcs) entry.vcs = vcs;
    const commit = text(p.commit, `packages[${i}].commit`);
    if (commit) entry.commit = commit;
    return entry;
  });
  let git: GitState | null = null;
  if (value.git !== undefined && value.git !== null) {
    if (!isObject(value.git)) throw invalid('"git" must be an object');
    const g = value.git;
    if (
      g.dirty !== undefined &&
      g.dirty !== null &&
      typeof g.dirty !== 'boolean'
    )
      throw invalid('git.dirty must be true or false');
    git = {
      root: text(g.root, 'git.root', true) as string,
      remote: text(g.remote, 'git.remote'),
      commit: text(g.commit, 'git.commit'),
      branch: text(g.branch, 'git.branch'),
      dirty: (g.dirty as boolean | null | undefined) ?? null
    };
  }
  const pythonInfo: CapturedEnvironment['python'] = { version };
  for (const key of [
    'implementation',
    'executable',
    'platform',
    'machine'
  ] as const) {
    const v = text(python[key], `python.${key}`);
    if (v) pythonInfo[key] = v;
  }
  return {
    kernel: text(value.kernel, 'kernel'),
    python: pythonInfo,
    packages,
    conda_env: text(value.conda_env, 'conda_env'),
    cwd: text(value.cwd, 'cwd'),
    git
  };
}

/** What the runner is told about the environment (GET /api/runner/jobs/:id `environment`). */
export function runnerEnvironment(
  config: Config,
  captured: CapturedEnvironment | null | undefined
): {
  mode: 'kernel' | 'restore';
  captured: CapturedEnvironment | null;
  restore: Config['restore'];
} {
  const backend = config.backend as unknown as Record<
    string,
    { environment?: string } | undefined
  >;
  const configured = backend[config.backend.type]?.environment;
  // Without the kernel's own Python at hand (a cluster), restoring is the only way.
  const mode =
    configured === 'kernel' || configured === 'restore'
      ? configured
      : config.backend.type === 'local'
        ? 'kernel'
        : 'restore';
  return { mode, captured: captured ?? null, restore: config.restore };
}
