/**
 * Binder smoke test: JupyterLab as binder/start runs it (sidecar with the local
 * backend, reached through jupyter-server-proxy), nbqueue installed by
 * binder/postBuild. The demo notebook is submitted from the toolbar and the job
 * runs to its end in the open notebook.
 */
import { expect, test } from '@playwright/test';
import * as path from 'path';

const TOKEN = process.env.NBQUEUE_BINDER_TOKEN ?? '';
const SHOTS = path.resolve(__dirname, '../test-results/binder');
const STEPS = 3;

test('the demo notebook submitted from the toolbar finishes', async ({
  page
}) => {
  // The badge's link opens lab/tree/examples/demo.ipynb.
  await page.goto(`/lab/tree/examples/demo.ipynb?token=${TOKEN}`);
  await expect(
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
  ).toBeVisible({ timeout: 120_000 });

  const button = page.locator(
    '.jp-NotebookPanel-toolbar [data-command="nbqueue:submit"]'
  );
  await expect(button).toBeVisible();
  await button.click();
  const dialog = page.locator('.nbq-SubmitDialog');
  await expect(dialog).toBeVisible();
  // The profiles come from the sidecar, through jupyter-server-proxy.
  await expect(
    dialog.locator('select[name="profile"] option[value="cpu"]')
  ).toHaveCount(1);
  await dialog.locator('select[name="profile"]').selectOption('cpu');
  const rows = dialog.locator('.nbq-Parameter');
  await expect(rows.first()).toBeVisible();
  const names = await rows
    .locator('input[name="param-name"]')
    .evaluateAll(inputs => inputs.map(i => (i as HTMLInputElement).value));
  expect(names).toContain('steps');
  await rows
    .nth(names.indexOf('steps'))
    .locator('input[name="param-value"]')
    .fill(String(STEPS));
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Submit', exact: true })
    .click();
  await expect(dialog).toBeHidden();

  // Live outputs over the proxied socket, then the end-of-job notification.
  const toast = page.locator('.Toastify__toast', { hasText: /succeeded/ });
  await expect(toast).toBeVisible({ timeout: 180_000 });
  await expect(
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea')
  ).toContainText([`step ${STEPS}/${STEPS}`]);
  await page.screenshot({ path: path.join(SHOTS, 'binder-demo-finished.png') });
});
