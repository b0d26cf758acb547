import { badRequest } from '../errors';
import type { Notebook } from '../jobs/types';
import { isObject } from './problem';

/** What a notebook without a kernelspec runs on, as nbclient and papermill assume too. */
export const DEFAULT_KERNELSPEC = {
  name: 'python3',
  display_name: 'Python 3 (ipykernel)',
  language: 'python'
};

export interface NotebookKernel {
  name: string;
  /** The language, from kernelspec.language or language_info.name; null when neither says. */
  language: string | null;
  python: boolean;
}

const str = (v: unknown): string | null =>
  typeof v === 'string' && v.trim() ? v.trim() : null;

/**
 * The notebook's kernel and whether it is Python: the kernelspec's language when it has one,
 * else `language_info.name`, else the kernelspec's name (Python when it has "py" in it:
 * python3, pypy, conda-env-x-py). No kernelspec at all means python3.
 */
export function notebookKernel(nb: Notebook): NotebookKernel {
  const meta = nb.metadata;
  const spec = isObject(meta.kernelspec) ? meta.kernelspec : null;
  const info = isObject(meta.language_info) ? meta.language_info : null;
  const language = str(spec?.language) ?? str(info?.name);
  const name = str(spec?.name) ?? (language ? language : 'python3');
  const python = language
    ? /^python\s*\d*(\.\d+)*$/i.test(language)
    : /py/i.test(name);
  return { name, language, python };
}

const LANGUAGE_NAMES: Record<string, string> = { r: 'R', julia: 'Julia' };

/** Throws 400 `unsupported_kernel` for a notebook whose kernel is not Python. */
export function checkKernel(nb: Notebook): void {
  const k = notebookKernel(nb);
  if (k.python) return;
  const language = k.language
    ? (LANGUAGE_NAMES[k.language.toLowerCase()] ?? k.language)
    : null;
  throw badRequest(
    'unsupported_kernel',
    `This notebook uses the '${k.name}' kernel (${language ?? 'no language given'}); nbqueue runs Python notebooks only. ` +
      (language
        ? 'Switch it to a Python kernel (Kernel → Change Kernel) and submit again.'
        : 'Switch it to a Python kernel (Kernel → Change Kernel), or if it is one, set metadata.kernelspec.language to "python", and submit again.')
  );
}

/** A missing kernelspec means python3: say so in the notebook, so the result opens with it. */
export function withKernelspec(nb: Notebook): Notebook {
  if (isObject(nb.metadata.kernelspec)) return nb;
  return {
    ...nb,
    metadata: { ...nb.metadata, kernelspec: { ...DEFAULT_KERNELSPEC } }
  };
}
