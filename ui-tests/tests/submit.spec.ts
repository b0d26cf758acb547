/**
 * End to end: the demo notebook submitted from JupyterLab to a real sidecar
 * (local backend), its outputs streamed live into the open notebook, and the
 * executed result opened from the end-of-job notification.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';
import * as path from 'path';

import { api, IJob, shot, sidecar } from './sidecar';
import {
  cell,
  jobsOf,
  openNotebook,
  openSubmitDialog,
  parameterRow,
  submitButton
} from './submitting';

const DEMO = path.resolve(__dirname, '../../examples/demo.ipynb');

// Cell indexes in examples/demo.ipynb.
const SETUP_CELL = 2; // prints "starting on <host>" at once
const TRAIN_CELL = 3; // prints one line per step
const PLOT_CELL = 6; // the last cell: loss curve and a final print

// A few seconds of training leave ample time to see outputs while it runs.
const STEPS = 8;

/** Cancel a job this test no longer needs (409: it has already ended). */
async function cancel(request: APIRequestContext, id: string): Promise<void> {
  const { url, token } = sidecar();
  const response = await request.post(`${url}/api/jobs/${id}/cancel`, {
    headers: { Authorization: `Bearer ${token}` }
  });
  expect([200, 409]).toContain(response.status());
}

/** Upload the demo into the test's folder, open it and wait for its kernel. */
async function openDemo(
  page: IJupyterLabPageFixture,
  tmpPath: string
): Promise<string> {
  const notebookPath = `${tmpPath}/demo.ipynb`;
  await page.contents.uploadFile(DEMO, notebookPath);
  await openNotebook(page, notebookPath);
  return notebookPath;
}

test.describe('Submit to GPU queue', () => {
  test('streams outputs live into the open notebook and opens the result', async ({
    page,
    request,
    tmpPath
  }) => {
    const notebookPath = await openDemo(page, tmpPath);

    // 1. The dialog offers the sidecar's profiles.
    const dialog = await openSubmitDialog(page);
    const profiles = await dialog
      .locator('select[name="profile"] option')
      .evaluateAll(options => options.map(o => (o as HTMLOptionElement).value));
    expect(profiles).toEqual(
      expect.arrayContaining(['cpu', 'gpu-1', 'gpu-2', 'gpu-8'])
    );
    await dialog.locator('select[name="profile"]').selectOption('cpu');
    const steps = await parameterRow(dialog, 'steps');
    await expect(steps.locator('input[name="param-value"]')).toHaveValue('20');
    await steps.locator('input[name="param-value"]').fill(String(STEPS));
    await shot(page, '01-submit-dialog');
    await submitButton(page).click();
    await expect(dialog).toBeHidden();

    // 2. The job exists on the sidecar with what the dialog said.
    let job: IJob | undefined;
    await expect
      .poll(async () => (job = (await jobsOf(request, notebookPath))[0]), {
        timeout: 15_000
      })
      .toBeDefined();
    expect(job!.parameters).toMatchObject({ steps: STEPS });
    const jobId = job!.id;

    // 3. Live: the first printed line shows up in its cell while the job is
    // still running and the last cell has produced nothing yet. Both are read
    // the moment the line appears, so outputs that only arrived after the job
    // ended would fail here.
    const lastCellEmptyWhenFirstOutputSeen = await page.waitForFunction(
      ({ setup, last }) => {
        const cells = document.querySelectorAll(
          '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'
        );
        const text =
          cells[setup]?.querySelector('.jp-OutputArea')?.textContent ?? '';
        if (!text.includes('starting on')) {
          return undefined;
        }
        return (
          cells[last]?.querySelectorAll('.jp-OutputArea-output').length === 0
        );
      },
      { setup: SETUP_CELL, last: PLOT_CELL },
      { timeout: 90_000 }
    );
    const stateWhenFirstOutputSeen = (
      await api<IJob>(request, `/api/jobs/${jobId}`)
    ).state;
    await shot(page, '02-first-output-live', cell(page, SETUP_CELL));
    expect(await lastCellEmptyWhenFirstOutputSeen.jsonValue()).toBe(true);
    expect(stateWhenFirstOutputSeen).toBe('running');

    // Step lines keep arriving in the training cell while it runs, and that
    // cell is marked as the one executing remotely.
    await expect(
      cell(page, TRAIN_CELL).locator('.jp-OutputArea')
    ).toContainText(`step 2/${STEPS}`);
    await expect(page.locator('.jp-Cell.nbq-remote-running')).toHaveCount(1);
    expect((await api<IJob>(request, `/api/jobs/${jobId}`)).state).toBe(
      'running'
    );
    await shot(page, '03-training-live', cell(page, TRAIN_CELL));

    // 4. The end: a notification, every cell's output in the open notebook.
    const toast = page.locator('.Toastify__toast', { hasText: /succeeded/ });
    await expect(toast).toBeVisible({ timeout: 120_000 });
    await expect(toast).toContainText(`Job ${job!.name} succeeded`);
    expect((await api<IJob>(request, `/api/jobs/${jobId}`)).state).toBe(
      'succeeded'
    );
    await expect(
      cell(page, TRAIN_CELL).locator('.jp-OutputArea')
    ).toContainText(`step ${STEPS}/${STEPS}`);
    await expect(
      cell(page, PLOT_CELL).locator('.jp-OutputArea img')
    ).toBeVisible();
    await expect(page.locator('.jp-Cell.nbq-remote-running')).toHaveCount(0);
    await shot(page, '04-finished', cell(page, PLOT_CELL));

    // 5. "Open result" saves and opens demo-<job id>.ipynb with the outputs.
    await toast.getByRole('button', { name: 'Open result' }).click();
    const resultName = `demo-${jobId}.ipynb`;
    await expect(page.activity.getTabLocator(resultName)).toBeVisible();
    expect(
      await page.contents.fileExists(`${tmpPath}/${resultName}`)
    ).toBeTruthy();
    await expect.poll(() => page.activity.isTabActive(resultName)).toBe(true);
    const result = (await page.activity.getPanelLocator(resultName))!;
    await expect(result.locator('.jp-OutputArea img')).toBeVisible();
    await expect(result.locator('.jp-OutputArea').last()).toContainText(
      `done: ${STEPS} steps, final loss=`
    );
    await shot(page, '05-result-opened', result.locator('.jp-OutputArea img'));
  });

  test('shows the sidecar error for a parameter name that is not an identifier', async ({
    page,
    request,
    tmpPath
  }) => {
    const notebookPath = await openDemo(page, tmpPath);
    const dialog = await openSubmitDialog(page);
    await dialog.locator('select[name="profile"]').selectOption('cpu');
    const steps = await parameterRow(dialog, 'steps');
    await steps.locator('input[name="param-name"]').fill('number of steps');

    const answer = page.waitForResponse(
      response =>
        response.request().method() === 'POST' &&
        /\/api\/jobs$/.test(response.url())
    );
    await submitButton(page).click();
    const response = await answer;
    expect(response.status()).toBe(400);
    const { error } = await response.json();
    expect(error.code).toBe('invalid_parameter');

    // The dialog stays open with the values as typed and shows the server's
    // own sentence, so the person can fix the name and submit again.
    await expect(dialog.getByRole('alert')).toHaveText(error.message);
    await expect(dialog.getByRole('alert')).toContainText('number of steps');
    await expect(steps.locator('input[name="param-name"]')).toHaveValue(
      'number of steps'
    );
    await shot(page, '06-invalid-parameter', dialog.getByRole('alert'));
    expect(await jobsOf(request, notebookPath)).toHaveLength(0);

    // Fixing the name is enough: the same dialog then queues the job.
    await steps.locator('input[name="param-name"]').fill('steps');
    await steps.locator('input[name="param-value"]').fill('1');
    await submitButton(page).click();
    await expect(dialog).toBeHidden();
    await expect
      .poll(async () => (await jobsOf(request, notebookPath)).length)
      .toBe(1);
    const [job] = await jobsOf(request, notebookPath);
    expect(job.parameters).toMatchObject({ steps: 1 });
    await cancel(request, job.id);
  });

  test('a cell that raises ends the job failed and "Show error" says why', async ({
    page,
    request,
    tmpPath
  }) => {
    const notebookPath = await openDemo(page, tmpPath);
    const dialog = await openSubmitDialog(page);
    await dialog.locator('select[name="profile"]').selectOption('cpu');
    // Not JSON, so sent as the string "ten": range("ten") raises TypeError.
    const steps = await parameterRow(dialog, 'steps');
    await steps.locator('input[name="param-value"]').fill('ten');
    await submitButton(page).click();
    await expect(dialog).toBeHidden();

    const toast = page.locator('.Toastify__toast', { hasText: /failed/ });
    await expect(toast).toBeVisible({ timeout: 120_000 });
    const [job] = await jobsOf(request, notebookPath);
    expect(job.state).toBe('failed');
    expect(job.reason).toContain('TypeError');
    await expect(toast).toContainText(`Job ${job.name} failed`);

    // The traceback streamed into the cell that raised; nothing ran after it.
    await expect(
      cell(page, TRAIN_CELL).locator('.jp-OutputArea-output')
    ).toContainText('TypeError');
    await expect(
      cell(page, PLOT_CELL).locator('.jp-OutputArea-output')
    ).toHaveCount(0);
    await expect(page.locator('.jp-Cell.nbq-remote-running')).toHaveCount(0);

    await toast.getByRole('button', { name: 'Show error' }).click();
    const errorDialog = page.locator('.jp-Dialog', {
      hasText: `Job ${job.name} failed`
    });
    await expect(errorDialog).toBeVisible();
    await expect(errorDialog.locator('.jp-Dialog-body')).toHaveText(
      job.reason!
    );
    await shot(page, '07-show-error');
    await errorDialog.getByRole('button', { name: 'Close' }).click();
    await expect(errorDialog).toBeHidden();
  });
});
