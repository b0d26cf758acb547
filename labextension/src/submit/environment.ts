/**
 * Asks the notebook's live kernel for its environment: which Python it runs
 * and where, every installed distribution, conda environment and git state,
 * so the job can run with the same interpreter or a restored copy of it.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';

import { nbqueueBundle, TranslationBundle } from '../translation';
import { CAPTURE_EXPRESSION } from './captureSource';

/** The texts' default: English. */
const ENGLISH = nbqueueBundle();

/** One installed distribution (PEP 610 `direct_url.json` where it has one). */
export interface ICapturedPackage {
  name: string;
  version: string;
  /** `pip install -e`. */
  editable?: boolean;
  /** Where it was installed from when not from an index (`file:`, https, VCS). */
  url?: string;
  /** `git` etc. when installed from version control. */
  vcs?: string | null;
  commit?: string | null;
}

export interface IGitState {
  root: string;
  remote: string | null;
  commit: string | null;
  branch: string | null;
  /** Uncommitted changes; null when git could not tell in time. */
  dirty: boolean | null;
}

/** The job spec's `environment` (docs/protocol.md). */
export interface ICapturedEnvironment {
  /** Kernel spec name, e.g. `python3`. */
  kernel: string;
  python: {
    version: string;
    implementation?: string;
    executable: string;
    platform?: string;
    machine?: string;
  };
  packages: ICapturedPackage[];
  conda_env: string | null;
  cwd: string;
  git: IGitState | null;
}

export interface IKernelEnvironment {
  /** Kernel spec name, e.g. `python3`. */
  name: string;
  /** `sys.executable` of the kernel. */
  python: string;
  /** `os.getcwd()` of the kernel. */
  cwd: string;
  /** Everything captured, as the job spec carries it. */
  environment: ICapturedEnvironment;
}

/**
 * A kernel busy with a long cell answers after it; do not hold the dialog.
 * Listing a large conda environment takes well under a second.
 */
const TIMEOUT_MS = 10000;

export async function captureEnvironment(
  kernel: Kernel.IKernelConnection,
  trans: TranslationBundle = ENGLISH
): Promise<IKernelEnvironment> {
  // `silent` keeps it out of the history and the execution count; the code
  // runs in its own namespace (see captureSource.ts).
  const future = kernel.requestExecute({
    code: '',
    silent: true,
    store_history: false,
    user_expressions: { nbqueue_env: CAPTURE_EXPRESSION }
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          trans.__(
            'the kernel did not answer within %1 s (is it busy?)',
            TIMEOUT_MS / 1000
          )
        )
      );
    }, TIMEOUT_MS);
  });
  try {
    const reply = (await Promise.race([
      future.done,
      timeout
    ])) as KernelMessage.IExecuteReplyMsg;
    const spec = await kernel.spec;
    const name = spec?.name ?? kernel.name;
    const environment = parseUserExpression(reply.content, name, trans);
    return {
      name,
      python: environment.python.executable,
      cwd: environment.cwd,
      environment
    };
  } finally {
    clearTimeout(timer);
    if (!future.isDisposed) {
      future.dispose();
    }
  }
}

/** The captured environment from the execute reply of `CAPTURE_EXPRESSION`. */
export function parseUserExpression(
  content: KernelMessage.IExecuteReplyMsg['content'],
  kernelName: string,
  trans: TranslationBundle = ENGLISH
): ICapturedEnvironment {
  if (content.status !== 'ok') {
    throw new Error(trans.__('the kernel answered %1', content.status));
  }
  const result = (content.user_expressions ?? {}).nbqueue_env as
    | { status: string; data?: Record<string, unknown>; evalue?: string }
    | undefined;
  if (!result || result.status !== 'ok') {
    throw new Error(
      result?.evalue
        ? trans.__(
            'the kernel could not report its environment: %1 (is it a Python kernel?)',
            result.evalue
          )
        : trans.__(
            'the kernel could not report its environment (is it a Python kernel?)'
          )
    );
  }
  const repr = String(result.data?.['text/plain'] ?? '');
  return checkEnvironment(JSON.parse(unrepr(repr, trans)), kernelName, trans);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape the kernel reported and adds the kernel spec name. */
export function checkEnvironment(
  value: unknown,
  kernelName: string,
  trans: TranslationBundle = ENGLISH
): ICapturedEnvironment {
  const off = (what: string) =>
    new Error(
      trans.__('the kernel reported an unexpected environment (%1)', what)
    );
  if (!isObject(value)) throw off(trans.__('not an object'));
  const python = value.python;
  if (
    !isObject(python) ||
    typeof python.version !== 'string' ||
    typeof python.executable !== 'string'
  ) {
    throw off(trans.__('no python version'));
  }
  if (typeof value.cwd !== 'string') {
    throw off(trans.__('no working directory'));
  }
  if (!Array.isArray(value.packages)) throw off(trans.__('no package list'));
  for (const p of value.packages) {
    if (
      !isObject(p) ||
      typeof p.name !== 'string' ||
      typeof p.version !== 'string'
    ) {
      throw off(trans.__('a package without name or version'));
    }
  }
  const git = value.git;
  if (git !== null && git !== undefined && !isObject(git)) throw off('git');
  return {
    kernel: kernelName,
    python: python as ICapturedEnvironment['python'],
    packages: value.packages as ICapturedPackage[],
    conda_env: typeof value.conda_env === 'string' ? value.conda_env : null,
    cwd: value.cwd,
    git: (git as IGitState | undefined) ?? null
  };
}

/**
 * The string of a Python `repr()` of an ASCII string, such as json.dumps
 * returns: quoted, with backslashes and quotes escaped.
 */
export function unrepr(
  repr: string,
  trans: TranslationBundle = ENGLISH
): string {
  const quote = repr[0];
  if ((quote !== "'" && quote !== '"') || repr[repr.length - 1] !== quote) {
    throw new Error(trans.__('the kernel reported %1', repr.slice(0, 80)));
  }
  return repr.slice(1, -1).replace(/\\(.)/g, '$1');
}
