/**
 * Binder smoke test: JupyterLab as binder/start runs it (sidecar with the local
 * backend, reached through jupyter-server-proxy), nbqueue installed by
 * binder/postBuild. The demo notebook is submitted from the toolbar and the job
 * runs to its end in the open notebook.
 */
import { expect, test } from '@playwright/test';
import * as path from 'path';

import {
  openSubmitDialog,
  parameterRow,
  submitButton,
  waitForIdleKernel
} from '../tests/dialog';

const TOKEN = process.env.NBQUEUE_BINDER_TOKEN ?? '';
const SHOTS = path.resolve(__dirname, '../test-results/binder');
const STEPS = 3;

test('the demo notebook submitted from the toolbar finishes', async ({
  page
}) => {
  // The badge's link opens lab/tree/examples/demo.ipynb.
  await page.goto(`/lab/tree/examples/demo.ipynb?token=${TOKEN}`);
  await waitForIdleKernel(page, 120_000);

  // The profiles come from the sidecar, through jupyter-server-proxy.
  const dialog = await openSubmitDialog(page);
  await dialog.locator('select[name="profile"]').selectOption('cpu');
  const steps = await parameterRow(dialog, 'steps');
  await steps.locator('input[name="param-value"]').fill(String(STEPS));
  await submitButton(page).click();
  await expect(dialog).toBeHidden();

  // Live outputs over the proxied socket, then the end-of-job notification.
  const toast = page.locator('.Toastify__toast', { hasText: /succeeded/ });
  await expect(toast).toBeVisible({ timeout: 180_000 });
  await expect(
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea')
  ).toContainText([`step ${STEPS}/${STEPS}`]);
  await page.screenshot({ path: path.join(SHOTS, 'binder-demo-finished.png') });
});
