/**
 * Submitting from JupyterLab as a person does: a notebook placed in the test's
 * folder, opened with its kernel running, the toolbar button, the dialog.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';

import { waitForIdleKernel } from './dialog';
import { api, IJob, PYTHON } from './sidecar';

export { openSubmitDialog, parameterRow, submitButton } from './dialog';

const WRITE_NOTEBOOKS = path.resolve(
  __dirname,
  '../fixtures/write_notebooks.py'
);

/**
 * Writes a notebook of ui-tests/fixtures/write_notebooks.py straight into the
 * test's folder of the Jupyter root, byte for byte as nbformat saves it.
 * Returns its path relative to the root.
 */
export function placeNotebook(tmpPath: string, name: string): string {
  const root = process.env.NBQUEUE_UI_TESTS_TMP;
  if (!root) {
    throw new Error(
      'NBQUEUE_UI_TESTS_TMP is not set: run through playwright.config.js'
    );
  }
  execFileSync(PYTHON, [
    WRITE_NOTEBOOKS,
    path.join(root, 'root', tmpPath),
    name
  ]);
  return `${tmpPath}/${name}.ipynb`;
}

/** Opens a notebook of the Jupyter root and waits for its kernel. */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  notebookPath: string
): Promise<void> {
  expect(await page.notebook.openByPath(notebookPath)).toBeTruthy();
  await page.notebook.activate(path.basename(notebookPath));
  // Submitting asks the live kernel for its environment.
  await waitForIdleKernel(page);
}

/** The cell at `index` of the notebook on show. */
export function cell(page: IJupyterLabPageFixture, index: number): Locator {
  return page
    .locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')
    .nth(index);
}

/** The sidecar's jobs of one notebook. */
export async function jobsOf(
  request: APIRequestContext,
  notebookPath: string
): Promise<IJob[]> {
  const { jobs } = await api<{ jobs: IJob[] }>(request, '/api/jobs');
  return jobs.filter(job => job.notebook_path === notebookPath);
}

/** The end-of-job notification of a job that succeeded. */
export async function succeededToast(
  page: IJupyterLabPageFixture,
  job: IJob,
  timeout = 120_000
): Promise<Locator> {
  const toast = page.locator('.Toastify__toast', {
    hasText: `Job ${job.name} succeeded`
  });
  await expect(toast).toBeVisible({ timeout });
  return toast;
}
