/**
 * End to end, against a real sidecar (local backend): the Jobs table opened
 * from the command palette, sorted, two queued jobs selected and held, and
 * its sort and filters back after a page reload; and the Jobs panel's
 * waiting line of a queued job, as the server words it, following the queue
 * live. One job runs on `gpu-2` (capacity 1) and the others wait behind it.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';

import {
  cancelQuietly,
  getJob,
  IJob,
  jobRow,
  shot,
  submitSleeper,
  waitForState
} from './sidecar';

const PROFILE = 'gpu-2';

interface IWaitingJob extends IJob {
  waiting: { summary: string } | null;
}

/** The table's row of a job. */
function tableRow(page: IJupyterLabPageFixture, job: IJob): Locator {
  return page.locator(
    `.nbq-JobsTable .nbq-JobsTable-row[data-job-id="${job.id}"]`
  );
}

async function openTableFromPalette(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await expect(palette).toBeVisible();
  await palette.locator('input').fill('Open Jobs Table');
  await palette
    .locator('.lm-CommandPalette-item', { hasText: 'Open Jobs Table' })
    .first()
    .click();
  const table = page.locator('.nbq-JobsTable');
  await expect(table).toBeVisible();
  return table;
}

/** The server's waiting summary of a job ('' once it left the queue). */
async function summary(request: APIRequestContext, job: IJob): Promise<string> {
  const fresh = (await getJob(request, job.id)) as IWaitingJob;
  return fresh.state === 'queued' ? (fresh.waiting?.summary ?? '') : '';
}

/** The next workspace save (a PUT of the state DB and the layout) whose data `holds`. */
function workspaceSaved(
  page: IJupyterLabPageFixture,
  holds: (data: Record<string, unknown>) => boolean
): Promise<unknown> {
  return page.waitForRequest(
    request => {
      if (
        request.method() !== 'PUT' ||
        !request.url().includes('/api/workspaces')
      ) {
        return false;
      }
      try {
        const body = JSON.parse(request.postData() ?? '{}');
        return holds(body.data ?? {});
      } catch {
        return false;
      }
    },
    { timeout: 60_000 }
  );
}

test.describe('Jobs table', () => {
  const submitted: IJob[] = [];

  test.afterEach(async ({ request }) => {
    await cancelQuietly(
      request,
      submitted.splice(0).map(job => job.id)
    );
  });

  test('sorts, holds a multi-selection, and keeps sort and filters across a reload', async ({
    page,
    request
  }) => {
    const blocker = await submitSleeper(request, 'tbl-c-blocker', PROFILE, 120);
    submitted.push(blocker);
    await waitForState(request, blocker.id, 'running');
    const first = await submitSleeper(request, 'tbl-b-first', PROFILE, 1);
    const second = await submitSleeper(request, 'tbl-a-second', PROFILE, 1);
    submitted.push(first, second);

    const table = await openTableFromPalette(page);
    // Only this test's jobs: earlier tests' jobs share the sidecar.
    await table.locator('input[name="text-filter"]').fill('tbl-');
    const rows = table.locator('.nbq-JobsTable-row');
    await expect(rows).toHaveCount(3);
    // By state at first: what runs, then what waits in queue order.
    const ids = () =>
      rows.evaluateAll(list => list.map(r => r.getAttribute('data-job-id')));
    expect(await ids()).toEqual([blocker.id, first.id, second.id]);
    await expect(
      tableRow(page, first).locator('.nbq-JobsTable-col-position')
    ).toHaveText('#1');

    // The reload below restores what JupyterLab saved of the workspace: its save
    // (debounced) must hold the open table, this filter and this sort first.
    const saved = workspaceSaved(page, data => {
      const state = data['nbqueue-labextension:jobs-table'] as
        { sort?: { column?: string }; filters?: { text?: string } } | undefined;
      return (
        'nbqueue-jobs-table:jobs-table' in data &&
        state?.sort?.column === 'name' &&
        state?.filters?.text === 'tbl-'
      );
    });
    const name = table.locator('[data-column="name"]');
    await name.click();
    await expect(name).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(ids).toEqual([second.id, first.id, blocker.id]);

    // Click one queued job, Ctrl-click the other: hold both at once.
    await tableRow(page, second).click();
    await tableRow(page, first).click({ modifiers: ['Control'] });
    await expect(tableRow(page, first)).toHaveAttribute(
      'aria-selected',
      'true'
    );
    const hold = table.locator('.nbq-JobsTable-hold');
    await expect(hold).toHaveText('Hold (2)');
    await hold.click();
    for (const job of [first, second]) {
      await expect(tableRow(page, job)).toHaveAttribute('data-state', 'held');
      expect((await getJob(request, job.id)).held).toBe(true);
    }
    expect((await getJob(request, blocker.id)).state).toBe('running');
    await shot(page, 'table-01-held');

    // After a reload the table is open again, sorted and filtered as it was.
    // Galata's own readiness check waits for the Launcher tab to be active:
    // here the restored table is.
    await saved;
    await page.reload({ waitForIsReady: false });
    const again = page.locator('.nbq-JobsTable');
    await expect(again).toBeVisible({ timeout: 60_000 });
    await expect(again.locator('input[name="text-filter"]')).toHaveValue(
      'tbl-'
    );
    await expect(again.locator('[data-column="name"]')).toHaveAttribute(
      'aria-sort',
      'ascending'
    );
    await expect.poll(ids).toEqual([second.id, first.id, blocker.id]);
    await shot(page, 'table-02-restored');
  });

  test("the panel shows a queued job's waiting summary and follows it live", async ({
    page,
    request
  }) => {
    const blocker = await submitSleeper(request, 'wait-blocker', PROFILE, 120);
    submitted.push(blocker);
    await waitForState(request, blocker.id, 'running');
    const next = await submitSleeper(request, 'wait-next', PROFILE, 60);
    const last = await submitSleeper(request, 'wait-last', PROFILE, 1);
    submitted.push(next, last);

    await page.locator('.nbq-StatusItem').click();
    const lineOf = (job: IJob) =>
      jobRow(page, job).locator('.nbq-JobRow-waiting');
    // Both wait for the running job's slot, in the server's words.
    const before = await summary(request, next);
    expect(before).toMatch(/running|in use/i);
    await expect(lineOf(next)).toHaveText(before);
    await expect(lineOf(last)).toHaveText(await summary(request, last));

    // The running job ends: `next` starts and its line goes; `last` is
    // first in line and says what it waits for now.
    await cancelQuietly(request, [blocker.id]);
    await waitForState(request, next.id, 'running');
    await expect(jobRow(page, next)).toHaveAttribute('data-state', 'running');
    await expect(lineOf(next)).toHaveCount(0);
    await expect
      .poll(
        async () =>
          (await lineOf(last).textContent()) === (await summary(request, last))
      )
      .toBe(true);
    expect((await getJob(request, last.id)).position).toBe(1);
    await shot(page, 'table-03-waiting');
  });
});
