/**
 * End to end: schedules and pipelines against a real sidecar (local backend).
 * A schedule made from the submit dialog ("Schedule…", a cron expression, the
 * sidecar's description of it, "Create schedule") shows in the Jobs panel's
 * Schedules tab; a two-step pipeline submitted through REST shows in the Jobs
 * panel as a group, its steps' states following live.
 *
 * Needs the sidecar's /api/schedules and /api/pipelines (issue 15).
 */
import { expect, test } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';
import * as path from 'path';

import { api, call, notebookOf, shot, sidecar } from './sidecar';
import { openNotebook, openSubmitDialog } from './submitting';

const DEMO = path.resolve(__dirname, '../../examples/demo.ipynb');
const ZONE = 'Europe/Berlin';

interface ISchedule {
  id: string;
  name: string;
  description: string;
  cron: string;
  timezone: string;
}

interface IPipeline {
  id: string;
  name: string;
  state: string;
  steps: { name: string; state: string; job_id: string | null }[];
}

/** Removes what a test created (a schedule already gone answers 404). */
async function deleteQuietly(
  request: APIRequestContext,
  route: string
): Promise<void> {
  const { url, token } = sidecar();
  await request.delete(`${url}${route}`, {
    headers: { Authorization: `Bearer ${token}` }
  });
}

// The dialog's time zone is the browser's: make it known.
test.use({ timezoneId: ZONE });

test.describe('Schedules and pipelines', () => {
  const schedules: string[] = [];

  test.afterEach(async ({ request }) => {
    for (const id of schedules.splice(0)) {
      await deleteQuietly(request, `/api/schedules/${id}`);
    }
  });

  test('a schedule made in the submit dialog shows in the Schedules tab', async ({
    page,
    request,
    tmpPath
  }) => {
    const notebookPath = `${tmpPath}/demo.ipynb`;
    await page.contents.uploadFile(DEMO, notebookPath);
    await openNotebook(page, notebookPath);

    const dialog = await openSubmitDialog(page);
    await expect(dialog.locator('.nbq-ScheduleSection')).toHaveCount(0);
    await page
      .locator('.jp-Dialog')
      .getByRole('button', { name: 'Schedule…', exact: true })
      .click();
    const section = dialog.locator('.nbq-ScheduleSection');
    await expect(section).toBeVisible();
    await expect(section.locator('input[name="timezone"]')).toHaveValue(ZONE);
    await dialog.locator('input[name="name"]').fill('nightly demo');
    await section.locator('input[name="cron"]').fill('0 3 * * *');

    // The preview is the sidecar's own description, and the next firing.
    const expected = await api<{ description: string; next: string[] }>(
      request,
      `/api/schedules/preview?cron=${encodeURIComponent('0 3 * * *')}&timezone=${encodeURIComponent(ZONE)}`
    );
    const preview = section.locator('.nbq-SchedulePreview');
    await expect(preview).toContainText(expected.description);
    await expect(preview).toContainText('next:');
    await expect(preview).toContainText('03:00');
    await shot(page, 'schedule-dialog', section);

    // A cron expression the sidecar refuses: its message, in the dialog.
    await section.locator('input[name="cron"]').fill('0 25 * * *');
    await expect(section.locator('[role="alert"]')).toContainText('cron');
    await section.locator('input[name="cron"]').fill('0 3 * * *');
    await expect(preview).toContainText(expected.description);

    await section.getByRole('button', { name: 'Create schedule' }).click();
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);

    const { schedules: listed } = await api<{ schedules: ISchedule[] }>(
      request,
      '/api/schedules'
    );
    const created = listed.find(s => s.name === 'nightly demo');
    expect(created, JSON.stringify(listed)).toBeTruthy();
    schedules.push(created!.id);
    expect(created!.cron).toBe('0 3 * * *');
    expect(created!.timezone).toBe(ZONE);

    await page.locator('.nbq-StatusItem').click();
    await page
      .locator('.nbq-JobsPanel .nbq-PanelTab[data-tab="schedules"]')
      .click();
    const row = page.locator(
      `.nbq-ScheduleRow[data-schedule-id="${created!.id}"]`
    );
    await expect(row).toBeVisible();
    await expect(row).toContainText(created!.description);
    await row.locator('[data-action="pause"]').click();
    await expect(row).toHaveAttribute('data-paused', 'true');
    await row.locator('[data-action="resume"]').click();
    await expect(row).toHaveAttribute('data-paused', 'false');
    await shot(page, 'schedules-tab', row);
  });

  test('a two-step pipeline shows as a group in the Jobs panel', async ({
    page,
    request
  }) => {
    const pipeline = await call<IPipeline>(request, 'POST', '/api/pipelines', {
      name: 'ui pipeline',
      steps: [
        {
          name: 'first',
          profile: 'cpu',
          notebook: notebookOf(['import time\ntime.sleep(3)\nprint("first")'])
        },
        {
          name: 'second',
          profile: 'cpu',
          notebook: notebookOf(['print("second")'])
        }
      ]
    });

    await page.locator('.nbq-StatusItem').click();
    const group = page.locator(
      `.nbq-JobsPanel .nbq-PipelineGroup[data-pipeline-id="${pipeline.id}"]`
    );
    await expect(group).toBeVisible({ timeout: 30_000 });
    await expect(group.locator('.nbq-PipelineGroup-name')).toHaveText(
      'ui pipeline'
    );
    await expect(group.locator('.nbq-PipelineStep')).toHaveCount(2);
    // The second step has no job while the first runs.
    await expect(
      group.locator('.nbq-PipelineStep[data-step="second"]')
    ).toHaveAttribute(
      'data-state',
      /waiting|queued|starting|running|succeeded/
    );

    await expect(group).toHaveAttribute('data-state', 'succeeded', {
      timeout: 120_000
    });
    await expect(group.locator('.nbq-JobRow')).toHaveCount(2);
    const done = await api<IPipeline>(request, `/api/pipelines/${pipeline.id}`);
    for (const step of done.steps) {
      await expect(
        group.locator(`.nbq-JobRow[data-job-id="${step.job_id}"]`)
      ).toHaveAttribute('data-state', 'succeeded');
    }
    await shot(page, 'pipeline-group', group);
  });
});
