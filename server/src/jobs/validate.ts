import * as fs from 'fs';
import * as path from 'path';
import { ApiError, badRequest } from '../errors';
import type { Config } from '../config/schema';
import type { JobSpec, KernelInfo, Notebook } from './types';
import { jobNotebook } from '../notebook';
import { validateEnvironment } from './environment';

export interface Submission {
  notebook: Notebook;
  name: string;
  profile: string;
  queue: string;
  priority: string;
  spec: JobSpec;
}

const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' ')
);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function validateParameters(
  value: unknown,
  max: number
): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    throw badRequest(
      'invalid_parameter',
      '"parameters" must be an object of name: value pairs.'
    );
  }
  const names = Object.keys(value);
  if (names.length > max) {
    throw badRequest(
      'invalid_parameter',
      `Too many parameters (${names.length}); at most ${max} are allowed.`
    );
  }
  for (const name of names) {
    if (!IDENTIFIER.test(name) || PYTHON_KEYWORDS.has(name)) {
      throw badRequest(
        'invalid_parameter',
        `Parameter name "${name}" is not a valid Python variable name; use letters, digits and "_", not starting with a digit.`
      );
    }
    const v = value[name];
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw badRequest(
        'invalid_parameter',
        `Parameter "${name}" must be a finite number.`
      );
    }
  }
  return value;
}

function optionalString(
  body: Record<string, unknown>,
  key: string
): string | null {
  const v = body[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string')
    throw badRequest('invalid_request', `"${key}" must be a string.`);
  return v;
}

function defaultName(path: string | null, now: Date): string {
  const base = path ? path.split('/').pop() || 'notebook' : 'notebook';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${base} ${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}`;
}

/** Validates a POST /api/jobs body against the configuration; throws ApiError with what to fix. */
export function validateSubmission(
  body: unknown,
  config: Config,
  now = new Date()
): Submission {
  if (!isObject(body))
    throw badRequest(
      'invalid_request',
      'The request body must be a JSON object with "notebook" and "profile".'
    );
  if (body.notebook === undefined)
    throw badRequest('invalid_notebook', 'The request has no "notebook".');
  const notebook = jobNotebook(body.notebook, config.limits.max_notebook_bytes);

  const profileNames = config.profiles.map(p => p.name);
  if (typeof body.profile !== 'string' || !body.profile) {
    throw badRequest(
      'unknown_profile',
      `Choose a profile: one of ${profileNames.join(', ')}.`
    );
  }
  const profile = config.profiles.find(p => p.name === body.profile);
  if (!profile) {
    throw badRequest(
      'unknown_profile',
      `Profile '${body.profile}' does not exist; choose one of ${profileNames.join(', ')}.`
    );
  }

  let queue = config.queues.find(q => q.profile === profile.name);
  if (body.queue !== undefined && body.queue !== null && body.queue !== '') {
    queue = config.queues.find(q => q.name === body.queue);
    if (!queue) {
      throw badRequest(
        'unknown_queue',
        `Queue '${String(body.queue)}' does not exist; choose one of ${config.queues.map(q => q.name).join(', ')}.`
      );
    }
    if (queue.profile !== profile.name) {
      throw badRequest(
        'unknown_queue',
        `Queue '${queue.name}' runs profile '${queue.profile}', not '${profile.name}'.`
      );
    }
  }
  if (!queue) {
    throw badRequest(
      'unknown_queue',
      `No queue serves profile '${profile.name}'; ask the operator to add one.`
    );
  }

  const priority =
    body.priority === undefined || body.priority === null
      ? config.default_priority
      : body.priority;
  if (typeof priority !== 'string' || !config.priorities.includes(priority)) {
    throw badRequest(
      'invalid_priority',
      `Priority ${JSON.stringify(priority)} is not valid; choose one of ${config.priorities.join(', ')}.`
    );
  }

  const parameters = validateParameters(
    body.parameters,
    config.limits.max_parameters
  );
  const notebookPath = optionalString(body, 'notebook_path');
  // The path names the notebook inside the person's own folder: where shared working storage
  // is mounted per user, an absolute path or a ".." would name someone else's files.
  if (
    notebookPath !== null &&
    (notebookPath.startsWith('/') ||
      notebookPath.startsWith('\\') ||
      /^[A-Za-z]:/.test(notebookPath) ||
      notebookPath.split(/[\\/]/).includes('..') ||
      notebookPath.includes('\0'))
  )
    throw badRequest(
      'invalid_request',
      `"notebook_path" must be a path inside the Jupyter root, relative to it and without "..": ${JSON.stringify(notebookPath)} is not.`
    );
  const cwd = optionalString(body, 'cwd');
  const inputBundle = optionalString(body, 'input_bundle');
  const deadline = body.deadline_seconds;
  const maxDeadline = config.limits.max_deadline_seconds;
  if (
    deadline !== undefined &&
    deadline !== null &&
    !(
      typeof deadline === 'number' &&
      Number.isInteger(deadline) &&
      deadline >= 1 &&
      deadline <= maxDeadline
    )
  )
    throw badRequest(
      'invalid_request',
      `"deadline_seconds" must be a whole number of seconds from 1 to ${maxDeadline} (limits.max_deadline_seconds); leave it out for the profile's limit.`
    );
  const environment = validateEnvironment(
    body.environment,
    config.limits.max_environment_bytes
  );
  let kernel: KernelInfo = {};
  if (body.kernel !== undefined && body.kernel !== null) {
    if (!isObject(body.kernel))
      throw badRequest(
        'invalid_request',
        '"kernel" must be an object with "name" and "python".'
      );
    kernel = {
      name: optionalString(body.kernel, 'name') ?? undefined,
      python: optionalString(body.kernel, 'python') ?? undefined
    };
  }
  let name = optionalString(body, 'name') ?? defaultName(notebookPath, now);
  if (name.length > 200)
    throw badRequest(
      'invalid_request',
      'The job name is longer than 200 characters.'
    );
  name = name.trim() || defaultName(notebookPath, now);

  return {
    notebook,
    name,
    profile: profile.name,
    queue: queue.name,
    priority,
    spec: {
      parameters,
      notebook_path: notebookPath,
      cwd,
      kernel,
      ...(inputBundle ? { input_bundle: inputBundle } : {}),
      ...(typeof deadline === 'number' ? { deadline_seconds: deadline } : {}),
      ...(environment ? { environment } : {})
    }
  };
}

/** Where a job of one user may start, when jobs run as their owners' OS accounts. */
export interface Confinement {
  /** The owner's OS account and its home. */
  account: string;
  home: string;
  /** Interpreters anyone may name (backend.local.python, backend.local.allowed_pythons). */
  pythons: string[];
  /** Whether kernel.python is used at all (not in restore mode). */
  checkPython: boolean;
}

/** The path with its links resolved as far as it exists (a link in the home may point out). */
function resolved(p: string): string {
  let head = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(p);
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

function inside(dir: string, p: string): boolean {
  const rel = path.relative(resolved(dir), resolved(p));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Several users, each job as its owner's account: `cwd` and `kernel.python` from the request are
 * honoured only inside the owner's home (an interpreter also when the operator allows it for
 * everyone); anything else is refused rather than quietly replaced.
 */
export function checkConfinement(spec: JobSpec, c: Confinement): void {
  if (spec.cwd && !(path.isAbsolute(spec.cwd) && inside(c.home, spec.cwd))) {
    throw badRequest(
      'outside_home',
      `"cwd" ${JSON.stringify(spec.cwd)} is not inside your home (${c.home}): jobs run as your OS account ${c.account} and start only in your home. Leave "cwd" out to start in ${c.home}.`
    );
  }
  const python = spec.kernel.python;
  if (!c.checkPython || !python) return;
  const allowed =
    c.pythons.includes(python) ||
    (path.isAbsolute(python) &&
      (inside(c.home, python) ||
        c.pythons.some(
          p => path.isAbsolute(p) && resolved(p) === resolved(python)
        )));
  if (!allowed) {
    throw badRequest(
      'outside_home',
      `"kernel.python" ${JSON.stringify(python)} is not inside your home (${c.home}) nor one of the interpreters this sidecar allows (${c.pythons.join(', ')}); use a kernel whose Python is in your home, or ask the operator to add it to backend.local.allowed_pythons.`
    );
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
