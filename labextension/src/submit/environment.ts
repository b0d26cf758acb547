/**
 * Asks the notebook's live kernel which Python it runs and where, so the job
 * runs with the same interpreter and working directory.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';

export interface IKernelEnvironment {
  /** Kernel spec name, e.g. `python3`. */
  name: string;
  /** `sys.executable` of the kernel. */
  python: string;
  /** `os.getcwd()` of the kernel. */
  cwd: string;
}

// Nothing is imported into the user's namespace; `silent` keeps it out of
// the history and the execution count.
const EXPRESSION =
  '__import__("json").dumps({"python": __import__("sys").executable, "cwd": __import__("os").getcwd()})';

/** A kernel busy with a long cell answers late; do not hold the submit. */
const TIMEOUT_MS = 5000;

export async function captureEnvironment(
  kernel: Kernel.IKernelConnection
): Promise<IKernelEnvironment> {
  const future = kernel.requestExecute({
    code: '',
    silent: true,
    store_history: false,
    user_expressions: { nbqueue_env: EXPRESSION }
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `the kernel did not answer within ${TIMEOUT_MS / 1000} s (is it busy?)`
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
    const env = parseUserExpression(reply.content);
    return { name: spec?.name ?? kernel.name, ...env };
  } finally {
    clearTimeout(timer);
    if (!future.isDisposed) {
      future.dispose();
    }
  }
}

/** `{python, cwd}` from the execute reply of `EXPRESSION`. */
export function parseUserExpression(
  content: KernelMessage.IExecuteReplyMsg['content']
): { python: string; cwd: string } {
  if (content.status !== 'ok') {
    throw new Error(`the kernel answered ${content.status}`);
  }
  const result = (content.user_expressions ?? {}).nbqueue_env as
    | { status: string; data?: Record<string, unknown>; evalue?: string }
    | undefined;
  if (!result || result.status !== 'ok') {
    throw new Error(
      `the kernel could not report its environment${result?.evalue ? `: ${result.evalue}` : ''} (is it a Python kernel?)`
    );
  }
  const repr = String(result.data?.['text/plain'] ?? '');
  const value = JSON.parse(unrepr(repr)) as { python: string; cwd: string };
  if (typeof value.python !== 'string' || typeof value.cwd !== 'string') {
    throw new Error('the kernel reported an unexpected environment');
  }
  return { python: value.python, cwd: value.cwd };
}

/**
 * The string of a Python `repr()` of an ASCII string, such as json.dumps
 * returns: quoted, with backslashes and quotes escaped.
 */
export function unrepr(repr: string): string {
  const quote = repr[0];
  if ((quote !== "'" && quote !== '"') || repr[repr.length - 1] !== quote) {
    throw new Error(`the kernel reported ${repr.slice(0, 80)}`);
  }
  return repr.slice(1, -1).replace(/\\(.)/g, '$1');
}
