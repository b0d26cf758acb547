/**
 * End to end: the Jobs panel against a real sidecar (local backend). One job
 * runs on `gpu-2` (capacity 1 in nbqueue.yaml, as built in) and two more wait
 * behind it; the panel shows their positions, reorders and cancels from its
 * buttons with the positions following live, and the status bar counts them.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';

import {
  call,
  cancelQuietly,
  IJob,
  jobRow,
  shot,
  submitSleeper as submitTo
} from './sidecar';

const PROFILE = 'gpu-2';

/** A job whose only cell sleeps, on the profile of these tests. */
function submitSleeper(
  request: APIRequestContext,
  name: string,
  seconds: number
): Promise<IJob> {
  return submitTo(request, name, PROFILE, seconds);
}

function row(page: IJupyterLabPageFixture, job: IJob): Locator {
  return jobRow(page, job);
}

interface IJobWithProgress extends IJob {
  started_at: string | null;
  progress?: { cell: number; cells: number } | null;
}

/**
 * "N running · M queued" for this user's jobs, from the sidecar, then the
 * newest running job's cell ("· cell 1 of 1") once its runner reported it.
 */
async function expectedStatus(request: APIRequestContext): Promise<string> {
  const { jobs } = await call<{ jobs: IJobWithProgress[] }>(
    request,
    'GET',
    '/api/jobs'
  );
  const running = jobs.filter(
    j => j.state === 'running' || j.state === 'starting'
  ).length;
  const queued = jobs.filter(j => j.state === 'queued').length;
  const [newest] = jobs
    .filter(j => j.state === 'running' && j.progress)
    .sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''));
  const cell = newest?.progress
    ? ` · cell ${newest.progress.cell} of ${newest.progress.cells}`
    : '';
  return `${running} running · ${queued} queued${cell}`;
}

/** The status bar item says what the sidecar says (both can change meanwhile). */
async function expectStatusAsSidecar(
  status: Locator,
  request: APIRequestContext
): Promise<void> {
  await expect
    .poll(async () => {
      const want = await expectedStatus(request);
      const got = await status.textContent();
      return got === want ? 'same' : `"${got}" is not "${want}"`;
    })
    .toBe('same');
}

test.describe('Jobs panel', () => {
  const submitted: IJob[] = [];

  test.afterEach(async ({ request }) => {
    await cancelQuietly(
      request,
      submitted.splice(0).map(job => job.id)
    );
  });

  test('shows positions, reorders and cancels live, and counts in the status bar', async ({
    page,
    request
  }) => {
    const running = await submitSleeper(request, 'panel-running', 120);
    submitted.push(running);
    await expect
      .poll(
        async () =>
          (await call<IJob>(request, 'GET', `/api/jobs/${running.id}`)).state,
        { timeout: 60_000 }
      )
      .toBe('running');
    const first = await submitSleeper(request, 'panel-first', 1);
    const second = await submitSleeper(request, 'panel-second', 1);
    submitted.push(first, second);

    // The status bar item counts this user's jobs and opens the panel.
    const status = page.locator('.nbq-StatusItem');
    await expectStatusAsSidecar(status, request);
    await expect(status).toContainText('1 running · 2 queued');
    await status.click();
    const panel = page.locator('.nbq-JobsPanel');
    await expect(panel).toBeVisible();

    await expect(row(page, running)).toHaveAttribute('data-state', 'running');
    await expect(row(page, running).locator('.nbq-JobRow-elapsed')).toHaveText(
      /\d+s/
    );
    await expect(row(page, first)).toHaveAttribute('data-state', 'queued');
    await expect(row(page, first).locator('.nbq-JobRow-position')).toHaveText(
      '#1'
    );
    await expect(row(page, second).locator('.nbq-JobRow-position')).toHaveText(
      '#2'
    );
    // No job has finished on the profile yet: no made-up number.
    await expect(row(page, first).locator('.nbq-JobRow-eta')).toHaveText(
      /ETA (unknown|~.+|now)/
    );
    await shot(page, 'panel-01-positions');

    // "To front" on the second: both positions change live.
    await row(page, second).locator('[data-action="front"]').click();
    await expect(row(page, second).locator('.nbq-JobRow-position')).toHaveText(
      '#1'
    );
    await expect(row(page, first).locator('.nbq-JobRow-position')).toHaveText(
      '#2'
    );
    expect(
      (await call<IJob>(request, 'GET', `/api/jobs/${second.id}`)).position
    ).toBe(1);
    // The panel lists queued jobs in queue order.
    const order = await panel
      .locator('.nbq-JobRow[data-state="queued"]')
      .evaluateAll(rows => rows.map(r => r.getAttribute('data-job-id')));
    expect(order.indexOf(second.id)).toBeLessThan(order.indexOf(first.id));
    await shot(page, 'panel-02-reordered');

    // Cancel the queued one now at the back: its row says so, the other moves up.
    await row(page, first).locator('[data-action="cancel"]').click();
    await expect(row(page, first)).toHaveAttribute('data-state', 'cancelled');
    await expect(row(page, first).locator('.nbq-JobRow-state')).toHaveText(
      'cancelled'
    );
    await expect(row(page, second).locator('.nbq-JobRow-position')).toHaveText(
      '#1'
    );
    await expectStatusAsSidecar(status, request);
    await expect(status).toContainText('1 running · 1 queued');
    await shot(page, 'panel-03-cancelled');
  });

  test("holds and releases a queued job and shows a job's log", async ({
    page,
    request
  }) => {
    const running = await submitSleeper(request, 'panel-blocker', 120);
    const queued = await submitSleeper(request, 'panel-held', 1);
    submitted.push(running, queued);
    await page.locator('.nbq-StatusItem').click();
    await expect(row(page, queued)).toHaveAttribute('data-state', 'queued');

    await row(page, queued).locator('[data-action="hold"]').click();
    await expect(row(page, queued)).toHaveAttribute('data-label', 'held');
    expect(
      (await call<{ held: boolean }>(request, 'GET', `/api/jobs/${queued.id}`))
        .held
    ).toBe(true);
    await row(page, queued).locator('[data-action="release"]').click();
    await expect(row(page, queued)).toHaveAttribute('data-label', 'queued');

    await expect(row(page, running)).toHaveAttribute('data-state', 'running', {
      timeout: 60_000
    });
    await row(page, running).locator('[data-action="log"]').click();
    const log = page.locator(`.nbq-LogView[data-job-id="${running.id}"]`);
    await expect(log).toBeVisible();
    await expect(log.locator('.nbq-LogView-text')).not.toBeEmpty();
    await shot(page, 'panel-04-log');
  });
});
