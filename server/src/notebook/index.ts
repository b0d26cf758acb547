/**
 * Notebooks in: every entry point (REST submit, CLI, re-run, the runner's result) reads a
 * notebook through here, from its on-disk form, checked against the official nbformat schema.
 */
import { badRequest } from '../errors';
import type { Notebook } from '../jobs/types';
import { checkKernel, withKernelspec } from './kernel';
import { normalizeNotebook, stripOutputs } from './normalize';
import { findProblem, NotebookProblem } from './problem';
import { checkNotebookSize } from './size';

export { findProblem, NotebookProblem } from './problem';
export { stripOutputs, normalizeNotebook } from './normalize';
export { notebookKernel, checkKernel } from './kernel';

export type CheckedNotebook =
  { ok: true; notebook: Notebook } | { ok: false; problem: NotebookProblem };

/**
 * Valid against its nbformat schema, then normalised to nbformat 4.5 (strings joined, cell ids
 * added). Never throws: a zod schema can wrap it with a refinement or a transform.
 */
export function checkNotebook(value: unknown): CheckedNotebook {
  const problem = findProblem(value);
  if (problem) return { ok: false, problem };
  return { ok: true, notebook: normalizeNotebook(value as Notebook) };
}

/** The sentence for a person that `invalid_notebook` answers carry. */
export function problemMessage(p: NotebookProblem): string {
  const which = p.version ? `nbformat v${p.version}` : 'nbformat v4';
  const where = p.path
    ? `${p.path}: ${p.problem}`
    : `the notebook ${p.problem}`;
  const fix =
    p.path === 'nbformat'
      ? 'Open it in JupyterLab and save it (that converts it to nbformat 4), then submit again.'
      : 'Fix that cell or field (or the program that wrote the file), or open the notebook in JupyterLab, save it and submit again.';
  return `The notebook is not a valid ${which} notebook: ${where}. ${fix}`;
}

function assertValid(value: unknown): asserts value is Notebook {
  const problem = findProblem(value);
  if (problem) throw badRequest('invalid_notebook', problemMessage(problem));
}

/**
 * The notebook a job starts from: valid, Python, without outputs (a run starts from a clean
 * slate, as in papermill), normalised, and within `maxBytes` once the outputs are gone.
 */
export function jobNotebook(value: unknown, maxBytes: number): Notebook {
  assertValid(value);
  checkKernel(value);
  // Outputs go before anything is copied: they can be most of a notebook's size.
  const nb = withKernelspec(normalizeNotebook(stripOutputs(value)));
  checkNotebookSize(nb, maxBytes);
  return nb;
}

/** The executed notebook a runner sends back: valid and normalised, outputs kept. */
export function resultNotebook(value: unknown): Notebook {
  assertValid(value);
  return normalizeNotebook(value);
}
