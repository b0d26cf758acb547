/**
 * End to end, the Jobs panel's other views and menus against a real sidecar
 * (local backend): the Metrics view of a running job growing live, with the
 * runner's system metrics; the comparison of two jobs; reordering by drag and
 * drop; the priority, move and re-run menus.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';

import {
  api,
  cancelQuietly,
  getJob,
  IJob,
  jobRow,
  shot,
  submitCells,
  submitSleeper,
  waitForState
} from './sidecar';

/** Logs `steps` points of `train/loss`, `pause` seconds apart. */
function trainer(
  request: APIRequestContext,
  name: string,
  steps: number,
  pause: number
): Promise<IJob> {
  return submitCells(request, name, 'cpu', [
    'import time\nimport nbqueue',
    [
      `for step in range(${steps}):`,
      '    nbqueue.log_metric("train/loss", 1.0 / (step + 1), step=step)',
      `    time.sleep(${pause})`
    ].join('\n')
  ]);
}

/** Points the chart of a metric group last drew (all its series). */
async function points(group: Locator): Promise<number> {
  return Number((await group.getAttribute('data-points')) ?? 0);
}

async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.locator('.nbq-StatusItem').click();
  const panel = page.locator('.nbq-JobsPanel');
  await expect(panel).toBeVisible();
  return panel;
}

/** Clicks an item of the menu a row's button opened. */
async function pick(
  page: IJupyterLabPageFixture,
  menu: string,
  label: string | RegExp
): Promise<void> {
  const open = page.locator(`.nbq-JobMenu[data-menu="${menu}"]`);
  await expect(open).toBeVisible();
  await open.locator('.lm-Menu-item', { hasText: label }).first().click();
  await expect(open).toHaveCount(0);
}

test.describe('Jobs panel views and menus', () => {
  const submitted: IJob[] = [];

  test.afterEach(async ({ request }) => {
    await cancelQuietly(
      request,
      submitted.splice(0).map(job => job.id)
    );
  });

  test('the Metrics view grows live with system metrics, and compares two jobs', async ({
    page,
    request
  }) => {
    const slow = await trainer(request, 'metrics-slow', 60, 0.4);
    const quick = await trainer(request, 'metrics-quick', 10, 0);
    submitted.push(slow, quick);
    await waitForState(request, slow.id, 'running');
    await openPanel(page);

    await jobRow(page, slow).locator('[data-action="metrics"]').click();
    const view = page.locator(`.nbq-MetricsView[data-jobs="${slow.id}"]`);
    await expect(view).toBeVisible();
    const loss = view.locator(
      '.nbq-MetricsView-user .nbq-MetricsChart-group[data-group="train"]'
    );
    await expect
      .poll(() => points(loss), { timeout: 60_000 })
      .toBeGreaterThan(0);
    const first = await points(loss);
    expect((await getJob(request, slow.id)).state).toBe('running');
    await shot(page, 'panel-ops-01-metrics-first');
    // Live: more points arrive while the job still runs, without a reload.
    await expect
      .poll(() => points(loss), { timeout: 30_000 })
      .toBeGreaterThan(first);
    expect((await getJob(request, slow.id)).state).toBe('running');
    // The runner's samples (CPU, memory; no GPU here) in their own section.
    const system = view.locator(
      '.nbq-MetricsView-system .nbq-MetricsChart-group'
    );
    await expect
      .poll(async () => ((await system.count()) ? points(system.first()) : 0), {
        timeout: 60_000
      })
      .toBeGreaterThan(0);
    await expect(
      view.locator('.nbq-MetricsView-system .nbq-MetricsView-empty')
    ).toBeHidden();
    await shot(page, 'panel-ops-02-metrics-live');

    // Compare: tick both jobs, overlay their losses.
    await waitForState(request, quick.id, 'succeeded');
    await page.locator('.nbq-StatusItem').click();
    for (const job of [slow, quick]) {
      await jobRow(page, job).locator('.nbq-JobRow-select').check();
    }
    const compare = page.locator('.nbq-JobsPanel-compare');
    await expect(compare).toHaveText('Compare metrics (2)');
    await compare.click();
    const both = page.locator(
      `.nbq-MetricsView[data-jobs="${slow.id},${quick.id}"], .nbq-MetricsView[data-jobs="${quick.id},${slow.id}"]`
    );
    await expect(both).toBeVisible();
    await expect(both.locator('.nbq-MetricsView-header')).toContainText(
      'Comparing'
    );
    const overlaid = both.locator(
      '.nbq-MetricsView-user .nbq-MetricsChart-group[data-group="train"]'
    );
    await expect(overlaid).toHaveAttribute('data-series', '2');
    // The quick job's 10 points are all there, next to the slow one's.
    const { metrics } = await api<{ metrics: unknown[] }>(
      request,
      `/api/jobs/${quick.id}/metrics?kind=user`
    );
    expect(metrics).toHaveLength(10);
    await expect.poll(() => points(overlaid)).toBeGreaterThan(10);
    await shot(page, 'panel-ops-03-compare');
  });

  test('reorders by drag and drop; priority, move and re-run menus', async ({
    page,
    request
  }) => {
    // gpu-2 has one slot: a blocker takes it, two more wait.
    const blocker = await submitSleeper(request, 'ops-blocker', 'gpu-2', 120);
    submitted.push(blocker);
    await waitForState(request, blocker.id, 'running');
    const first = await submitSleeper(request, 'ops-first', 'gpu-2', 1);
    const second = await submitSleeper(request, 'ops-second', 'gpu-2', 1);
    submitted.push(first, second);
    await openPanel(page);
    const position = (job: IJob) =>
      jobRow(page, job).locator('.nbq-JobRow-position');
    await expect(position(first)).toHaveText('#1');
    await expect(position(second)).toHaveText('#2');
    // The rows stop moving before the drag: the blocker's row grows a line once its
    // runner reports the running cell, which would push the drop point off the first.
    await expect(
      jobRow(page, blocker).locator('.nbq-JobRow-progress')
    ).toContainText('cell 1 of 1');
    await expect(jobRow(page, second)).toHaveAttribute('draggable', 'true');

    // Drag the second onto the top half of the first: it goes before it.
    await jobRow(page, second).dragTo(jobRow(page, first), {
      targetPosition: { x: 40, y: 4 }
    });
    await expect(position(second)).toHaveText('#1');
    await expect(position(first)).toHaveText('#2');
    expect((await getJob(request, second.id)).position).toBe(1);
    await shot(page, 'panel-ops-04-dragged');

    // Priority menu: the first goes high, and so ahead again.
    await jobRow(page, first).locator('[data-action="priority"]').click();
    await pick(page, 'priority', /^high$/);
    await expect(
      jobRow(page, first).locator('.nbq-JobRow-priority')
    ).toHaveText('high');
    await expect(position(first)).toHaveText('#1');
    expect((await getJob(request, first.id)).priority).toBe('high');

    // Move menu: the second to the free gpu-8 queue, where it starts at once.
    await jobRow(page, second).locator('[data-action="move"]').click();
    await pick(page, 'move', 'Move to gpu-8');
    await expect(jobRow(page, second).locator('.nbq-JobRow-queue')).toHaveText(
      'gpu-8'
    );
    await waitForState(request, second.id, 'succeeded');
    const moved = await getJob(request, second.id);
    expect([moved.queue, moved.profile]).toEqual(['gpu-8', 'gpu-8']);
    await expect(jobRow(page, second)).toHaveAttribute(
      'data-state',
      'succeeded'
    );

    // Re-run menu: the finished job again on another profile, a new row.
    const before = await jobRow(page, second).count();
    expect(before).toBe(1);
    await jobRow(page, second).locator('[data-action="rerun"]').click();
    await pick(page, 'rerun', 'Re-run on cpu');
    await expect
      .poll(async () => {
        const { jobs } = await api<{ jobs: IJob[] }>(request, '/api/jobs');
        return jobs.filter(j => j.name === 'ops-second' && j.id !== second.id)
          .length;
      })
      .toBe(1);
    const { jobs } = await api<{ jobs: IJob[] }>(request, '/api/jobs');
    const again = jobs.find(
      j => j.name === 'ops-second' && j.id !== second.id
    ) as IJob;
    submitted.push(again);
    expect(again.profile).toBe('cpu');
    await expect(jobRow(page, again)).toBeVisible();
    await waitForState(request, again.id, 'succeeded');
    await shot(page, 'panel-ops-05-menus');
  });
});
