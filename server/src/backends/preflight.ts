import { spawn } from 'child_process';

export interface RunnerPythonCheck {
  ok: boolean;
  /** The interpreter's resolved path (sys.executable), or null when it could not be started. */
  executable: string | null;
  /** What is wrong and the fix, when not ok. */
  message?: string;
}

/**
 * Whether `python` (the local backend's `backend.local.python`) can import the runner: the same
 * import `python -m nbqueue.runner` does for every job that runs on it.
 */
export function checkRunnerPython(
  python: string,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60000
): Promise<RunnerPythonCheck> {
  return new Promise(resolve => {
    const child = spawn(
      python,
      [
        '-c',
        'import sys; print(sys.executable, flush=True); import nbqueue.runner'
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs }
    );
    let out = '';
    let err = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (err += d));
    child.once('error', e =>
      resolve({
        ok: false,
        executable: null,
        message: `backend.local.python '${python}' cannot be started (${e.message}). Set backend.local.python to a Python interpreter that has nbqueue installed (pip install nbqueue).`
      })
    );
    child.once('close', code => {
      const executable = out.split('\n')[0].trim() || null;
      if (code === 0) return resolve({ ok: true, executable });
      const last = err.trim().split('\n').pop() ?? '';
      resolve({
        ok: false,
        executable,
        message: `backend.local.python '${python}' (${executable ?? 'not resolved'}) cannot import nbqueue.runner${last ? ` (${last})` : ''}. Install it there (${executable ?? python} -m pip install nbqueue), or set backend.local.python to an interpreter that has it.`
      });
    });
  });
}
