/**
 * Submitting from JupyterLab as a person does: a notebook placed in the test's
 * folder, opened with its kernel running, the toolbar button, the dialog.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';

import { api, IJob, PYTHON } from './sidecar';

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
  await expect(
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
  ).toBeVisible({
    timeout: 60_000
  });
}

/** Clicks "Submit to GPU queue" and waits for the sidecar's profiles. */
export async function openSubmitDialog(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  const button = page.locator(
    '.jp-NotebookPanel-toolbar [data-command="nbqueue:submit"]'
  );
  await expect(button).toBeVisible();
  await button.click();
  const dialog = page.locator('.nbq-SubmitDialog');
  await expect(dialog).toBeVisible();
  await expect(
    dialog.locator('select[name="profile"] option[value="cpu"]')
  ).toHaveCount(1);
  return dialog;
}

export function submitButton(page: IJupyterLabPageFixture): Locator {
  return page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Submit', exact: true });
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
