/**
 * What the Galata specs share: the test sidecar that start-servers.sh
 * launched (read from its state file), calls to its REST API, notebooks built
 * from cell sources, and screenshots into test-results/.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const SHOTS = path.resolve(__dirname, '../test-results');
export const PYTHON = path.resolve(__dirname, '../../.venv/bin/python');

export interface IJob {
  id: string;
  name: string;
  owner: string;
  state: string;
  reason: string | null;
  parameters: Record<string, unknown>;
  profile: string;
  queue: string;
  priority: string;
  position: number | null;
  notebook_path: string | null;
  held: boolean;
}

/** The sidecar start-servers.sh launched, from its state file. */
export function sidecar(): { url: string; token: string } {
  const stateFile = process.env.NBQUEUE_STATE_FILE;
  if (!stateFile) {
    throw new Error(
      'NBQUEUE_STATE_FILE is not set: run through playwright.config.js'
    );
  }
  const { url, token } = JSON.parse(fs.readFileSync(stateFile, 'utf-8'));
  return { url: url.replace(/\/$/, ''), token };
}

/** One REST call as the test user; fails the test on an error answer. */
export async function call<T>(
  request: APIRequestContext,
  method: 'GET' | 'POST',
  route: string,
  data?: unknown
): Promise<T> {
  const { url, token } = sidecar();
  const response = await request.fetch(`${url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}` },
    data
  });
  expect(
    response.ok(),
    `${method} ${route}: ${response.status()} ${await response.text()}`
  ).toBeTruthy();
  return (await response.json()) as T;
}

export function api<T>(request: APIRequestContext, route: string): Promise<T> {
  return call<T>(request, 'GET', route);
}

export function getJob(request: APIRequestContext, id: string): Promise<IJob> {
  return api<IJob>(request, `/api/jobs/${id}`);
}

/** Cancels what a test left queued or running (a finished job answers 409). */
export async function cancelQuietly(
  request: APIRequestContext,
  ids: string[]
): Promise<void> {
  const { url, token } = sidecar();
  for (const id of ids) {
    await request.post(`${url}/api/jobs/${id}/cancel`, {
      headers: { Authorization: `Bearer ${token}` }
    });
  }
}

/** A notebook of code cells (with ids: the live writer matches cells by id). */
export function notebookOf(
  cells: string[],
  parametersCell?: number
): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    cells: cells.map((source, index) => ({
      id: `cell-${index}`,
      cell_type: 'code',
      metadata: index === parametersCell ? { tags: ['parameters'] } : {},
      execution_count: null,
      outputs: [],
      source
    }))
  };
}

/** Submits `cells` straight to the sidecar (not through the toolbar). */
export function submitCells(
  request: APIRequestContext,
  name: string,
  profile: string,
  cells: string[]
): Promise<IJob> {
  return call<IJob>(request, 'POST', '/api/jobs', {
    name,
    profile,
    notebook: notebookOf(cells),
    kernel: { name: 'python3', python: PYTHON }
  });
}

/** A job whose only cell sleeps. */
export function submitSleeper(
  request: APIRequestContext,
  name: string,
  profile: string,
  seconds: number
): Promise<IJob> {
  return submitCells(request, name, profile, [
    `import time\nprint("sleeping")\ntime.sleep(${seconds})`
  ]);
}

/** Waits until the sidecar reports the job in `state`. */
export async function waitForState(
  request: APIRequestContext,
  id: string,
  state: string | RegExp,
  timeout = 60_000
): Promise<void> {
  await expect
    .poll(async () => (await getJob(request, id)).state, { timeout })
    .toMatch(state);
}

/** The Jobs panel's row of a job. */
export function jobRow(page: IJupyterLabPageFixture, job: IJob): Locator {
  return page.locator(`.nbq-JobsPanel .nbq-JobRow[data-job-id="${job.id}"]`);
}

export async function shot(
  page: IJupyterLabPageFixture,
  name: string,
  focus?: Locator
): Promise<void> {
  await focus?.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}
