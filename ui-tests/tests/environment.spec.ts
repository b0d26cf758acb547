/**
 * The submit dialog's "Environment" line against a real kernel: the one-line
 * summary and its details, and, with no kernel running, the offer to start one.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import * as path from 'path';

import { SHOTS } from './sidecar';
import { openNotebook, openSubmitDialog } from './submitting';

const DEMO = path.resolve(__dirname, '../../examples/demo.ipynb');

/** Upload the demo into the test's folder, open it and wait for its kernel. */
async function openDemo(
  page: IJupyterLabPageFixture,
  tmpPath: string
): Promise<void> {
  await page.contents.uploadFile(DEMO, `${tmpPath}/demo.ipynb`);
  await openNotebook(page, `${tmpPath}/demo.ipynb`);
}

test.describe('Submit dialog: the kernel environment', () => {
  test('summarises the live kernel in one line with the details on demand', async ({
    page,
    tmpPath
  }) => {
    await openDemo(page, tmpPath);
    const dialog = await openSubmitDialog(page);

    const summary = dialog.locator('.nbq-Environment-summary');
    await expect(summary).toHaveText(/^Python 3\.\d+ · \d+ packages/);
    // The kernel runs in examples/ of a fresh copy: not a git repository.
    await expect(summary).not.toContainText('git');

    await summary.click();
    const details = dialog.locator('.nbq-Environment-details');
    await expect(details.locator('th', { hasText: 'Kernel' })).toBeVisible();
    await expect(details.locator('tr', { hasText: 'Kernel' })).toContainText(
      'python3'
    );
    await expect(
      details.locator('.nbq-Environment-packages li', {
        hasText: /^ipykernel \d/
      })
    ).toHaveCount(1);
    await page.screenshot({
      path: path.join(SHOTS, 'environment-details.png')
    });
    await page
      .locator('.jp-Dialog-footer button', { hasText: 'Cancel' })
      .click();
    await expect(dialog).toBeHidden();
  });

  test('says when no kernel runs and starts one on request', async ({
    page,
    tmpPath
  }) => {
    await openDemo(page, tmpPath);
    // The notebook's session ends: no kernel, as after "Shut Down Kernel".
    const hasKernel = () =>
      page.evaluate(() => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const panel = (window as any).jupyterapp.shell.currentWidget;
        return !!panel.sessionContext.session?.kernel;
      });
    await page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const panel = (window as any).jupyterapp.shell.currentWidget;
      await panel.sessionContext.shutdown();
    });
    await expect.poll(hasKernel, { timeout: 30_000 }).toBe(false);

    const dialog = await openSubmitDialog(page);
    await expect(dialog.locator('.nbq-Environment')).toContainText(
      'No kernel is running'
    );
    await dialog.getByRole('button', { name: 'Start kernel' }).click();
    await expect(dialog.locator('.nbq-Environment-summary')).toHaveText(
      /^Python 3\.\d+ · \d+ packages/,
      { timeout: 60_000 }
    );
    await page
      .locator('.jp-Dialog-footer button', { hasText: 'Cancel' })
      .click();
    await expect(dialog).toBeHidden();
  });
});
