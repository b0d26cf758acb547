/**
 * nbqueue under a real JupyterHub: alice logs in through the hub, her JupyterLab
 * (spawned by the hub) submits the demo notebook from the toolbar to the hub's
 * nbqueue service, and the job finishes in her notebook. A result link opened
 * in the browser goes through the hub's OAuth login; bob's browser gets 404.
 * After her server is stopped and started again, the Jobs panel lists the job
 * and "Open result" opens it.
 */
import {
  APIRequestContext,
  Browser,
  expect,
  Page,
  test
} from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import {
  openSubmitDialog,
  parameterRow,
  submitButton,
  waitForIdleKernel
} from '../tests/dialog';

const PASSWORD = process.env.NBQUEUE_HUB_PASSWORD ?? '';
const SHOTS = path.resolve(__dirname, '../test-results/hub');
const STEPS = 3;

interface IJob {
  id: string;
  name: string;
  owner: string;
  state: string;
  notebook_path: string | null;
}

/** Logs `user` in on the hub's login page; `next` is where the hub sends them. */
async function login(page: Page, user: string, next?: string): Promise<void> {
  await page.goto(
    `/hub/login${next ? `?next=${encodeURIComponent(next)}` : ''}`
  );
  await page.locator('#username_input').fill(user);
  await page.locator('#password_input').fill(PASSWORD);
  await page.locator('#login_submit').click();
  await page.waitForURL(url => !url.pathname.endsWith('/hub/login'), {
    timeout: 60_000
  });
}

/** A hub token for `user` limited to the nbqueue service, asked with the password. */
async function serviceToken(
  request: APIRequestContext,
  user: string
): Promise<string> {
  const response = await request.post(`/hub/api/users/${user}/tokens`, {
    data: {
      auth: { username: user, password: PASSWORD },
      scopes: ['access:services!service=nbqueue']
    }
  });
  expect(response.status()).toBe(201);
  return (await response.json()).token;
}

async function jobsOf(
  request: APIRequestContext,
  token: string
): Promise<IJob[]> {
  const response = await request.get('/services/nbqueue/api/jobs', {
    headers: { Authorization: `token ${token}` }
  });
  expect(response.ok()).toBeTruthy();
  return (await response.json()).jobs;
}

/** A hub token with all of `user`'s permissions (to start and stop the server). */
async function userToken(
  request: APIRequestContext,
  user: string
): Promise<string> {
  const response = await request.post(`/hub/api/users/${user}/tokens`, {
    data: { auth: { username: user, password: PASSWORD } }
  });
  expect(response.status()).toBe(201);
  return (await response.json()).token;
}

/** Starts or stops alice's server through the hub API and waits until it is so. */
async function setServer(
  request: APIRequestContext,
  token: string,
  running: boolean
): Promise<void> {
  const headers = { Authorization: `token ${token}` };
  const response = running
    ? await request.post('/hub/api/users/alice/server', { headers })
    : await request.delete('/hub/api/users/alice/server', { headers });
  expect(response.status()).toBeLessThan(300);
  await expect
    .poll(
      async () => {
        const user = await (
          await request.get('/hub/api/users/alice', { headers })
        ).json();
        const server = user.servers?.[''];
        return running ? server?.ready === true : !server;
      },
      { timeout: 150_000 }
    )
    .toBe(true);
}

/** The parameter row whose name field holds `name`. */
async function bobOpens(browser: Browser, route: string): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Logging in with `next` on the service: no server of bob's is needed.
  await login(page, 'bob', route);
  await page.waitForURL(url => url.pathname.startsWith('/services/nbqueue/'));
  const text = (await page.locator('body').textContent()) ?? '';
  await page.screenshot({ path: path.join(SHOTS, '04-bob-result-404.png') });
  await context.close();
  return text;
}

test('alice submits the demo from her hub JupyterLab and the job finishes', async ({
  page,
  request,
  browser
}) => {
  // 1. Through the hub: login, her server is spawned, JupyterLab opens.
  await login(page, 'alice');
  await page.waitForURL(/\/user\/alice\/lab/, { timeout: 150_000 });
  await page.goto('/user/alice/lab/tree/demo.ipynb');
  await waitForIdleKernel(page, 120_000);

  // 2. The toolbar button, the dialog with the service's profiles, submit.
  const dialog = await openSubmitDialog(page);
  await dialog.locator('select[name="profile"]').selectOption('cpu');
  const steps = await parameterRow(dialog, 'steps');
  await steps.locator('input[name="param-value"]').fill(String(STEPS));
  await page.screenshot({ path: path.join(SHOTS, '01-hub-submit-dialog.png') });
  await submitButton(page).click();
  await expect(dialog).toBeHidden();

  // 3. The job streams back and ends in her notebook.
  const toast = page.locator('.Toastify__toast', { hasText: /succeeded/ });
  await expect(toast).toBeVisible({ timeout: 180_000 });
  await expect(
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea')
  ).toContainText([`step ${STEPS}/${STEPS}`]);
  await page.screenshot({ path: path.join(SHOTS, '02-hub-job-finished.png') });

  // It is alice's job on the service.
  const token = await serviceToken(request, 'alice');
  const jobs = (await jobsOf(request, token)).filter(
    j => j.notebook_path === 'demo.ipynb'
  );
  expect(jobs).toHaveLength(1);
  expect(jobs[0]).toMatchObject({ owner: 'alice', state: 'succeeded' });
  const resultRoute = `/services/nbqueue/api/jobs/${jobs[0].id}/result`;

  // 4. A result link opened in her browser: the hub's OAuth login for the
  // service (no token header in a navigation), then the notebook.
  await page.goto(resultRoute);
  await expect(page).toHaveURL(new RegExp(`${resultRoute}$`));
  const result = JSON.parse((await page.locator('body').textContent()) ?? '');
  expect(result.nbformat).toBe(4);
  expect(JSON.stringify(result.cells)).toContain(`step ${STEPS}/${STEPS}`);
  const cookies = await page.context().cookies();
  expect(cookies.find(c => c.name === 'nbqueue-hub-token')?.path).toBe(
    '/services/nbqueue/'
  );
  await page.screenshot({ path: path.join(SHOTS, '03-hub-result-link.png') });

  // 5. The same link in bob's browser: 404, nothing of alice's job.
  const bobSees = await bobOpens(browser, resultRoute);
  expect(JSON.parse(bobSees).error.code).toBe('unknown_job');
  expect(bobSees).not.toContain('step');

  // 6. Her server stopped and started again: the Jobs panel still lists the
  // job, and "Open result" saves and opens the executed notebook.
  const full = await userToken(request, 'alice');
  await setServer(request, full, false);
  await setServer(request, full, true);
  await page.goto('/user/alice/lab');
  const status = page.locator('.nbq-StatusItem');
  await expect(status).toBeVisible({ timeout: 120_000 });
  await status.click();
  const row = page.locator(
    `.nbq-JobsPanel .nbq-JobRow[data-job-id="${jobs[0].id}"]`
  );
  await expect(row).toHaveAttribute('data-state', 'succeeded');
  await row.locator('[data-action="result"]').click();
  const resultName = `demo-${jobs[0].id}.ipynb`;
  await expect(
    page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', {
      hasText: resultName
    })
  ).toBeVisible();
  await expect
    .poll(() =>
      fs.existsSync(
        path.join(
          process.env.NBQUEUE_HUB_TMP ?? '',
          'home',
          'alice',
          resultName
        )
      )
    )
    .toBe(true);
  await page.screenshot({ path: path.join(SHOTS, '05-hub-after-restart.png') });
});
