/**
 * GPU shapes in the submit dialog: the sidecar's profiles grouped by GPU type and resource
 * (nbqueue.yaml: an L4 profile and a MIG slice next to the built-in ones). The local backend
 * cannot count GPUs, so the groups carry no free units; each profile still says its slots.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { shot } from './sidecar';
import { openNotebook, openSubmitDialog } from './submitting';

const DEMO = path.resolve(__dirname, '../../examples/demo.ipynb');

test.describe('Submit dialog: GPU shapes', () => {
  test('groups the profiles by GPU type and resource', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadFile(DEMO, `${tmpPath}/demo.ipynb`);
    await openNotebook(page, `${tmpPath}/demo.ipynb`);
    const dialog = await openSubmitDialog(page);
    const select = dialog.locator('select[name="profile"]');
    const groups = await select
      .locator('optgroup')
      .evaluateAll(list =>
        list.map(g => [
          (g as HTMLOptGroupElement).label,
          Array.from(g.querySelectorAll('option')).map(o => o.value)
        ])
      );
    expect(groups).toEqual([
      ['CPU only', ['cpu']],
      ['Any GPU', ['gpu-1', 'gpu-2', 'gpu-8']],
      ['NVIDIA-L4', ['l4-1']],
      ['nvidia.com/mig-1g.10gb', ['mig-1g']]
    ]);
    await select.selectOption('mig-1g');
    await expect(select.locator('option[value="mig-1g"]')).toHaveText(
      /^mig-1g — 2 CPU · 1 nvidia\.com\/mig-1g\.10gb · 16Gi — \d of 4 free · \d+ queued$/
    );
    // An open select's list is drawn outside the page: shown as a list box, the groups are in
    // the shot.
    const asList = (rows: number) =>
      select.evaluate((s, n) => {
        const el = s as HTMLSelectElement;
        el.size = n;
        el.style.height = n ? 'auto' : '';
      }, rows);
    await asList(11);
    await shot(page, 'gpu-shapes-dialog', dialog);
    await asList(0);
    await page
      .locator('.jp-Dialog-footer button', { hasText: 'Cancel' })
      .click();
    await expect(dialog).toBeHidden();
  });
});
