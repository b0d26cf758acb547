/**
 * A job that ends while its JupyterLab tab is hidden shows a desktop
 * notification (the browser's Notification, permission granted), besides the
 * in-app one; clicking it opens the executed notebook.
 */
import { expect, test } from '@jupyterlab/galata';

import { call, IJob } from './sidecar';

test.use({ autoGoto: false });

test('a job ending while the page is hidden shows a desktop notification', async ({
  page,
  context,
  request,
  baseURL
}) => {
  await context.grantPermissions(['notifications'], { origin: baseURL });
  // Records every desktop notification; the page is "hidden" once the test says so.
  await page.addInitScript(() => {
    const made: { title: string; body?: string; notice: Notification }[] = [];
    (window as unknown as { __desktop: typeof made }).__desktop = made;
    const Real = window.Notification;
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        made.push({ title, body: options?.body, notice: this });
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recorded });
    Object.defineProperty(document, 'visibilityState', {
      get: () => (sessionStorage.getItem('test:hidden') ? 'hidden' : 'visible')
    });
  });
  const job = await call<IJob>(request, 'POST', '/api/jobs', {
    name: 'desktop-notice',
    profile: 'cpu',
    notebook: {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: {
          name: 'python3',
          display_name: 'Python 3',
          language: 'python'
        }
      },
      cells: [
        {
          cell_type: 'code',
          id: 'c1',
          metadata: {},
          source: 'print("done")',
          outputs: [],
          execution_count: null
        }
      ]
    }
  });
  // As if submitted from this page (the notifier watches those), then hidden.
  await page.goto();
  await page.evaluate(id => {
    sessionStorage.setItem('nbqueue:watched', JSON.stringify([id]));
    sessionStorage.setItem('test:hidden', '1');
  }, job.id);
  await page.reload();

  await expect
    .poll(
      () =>
        page.evaluate(() =>
          (
            window as unknown as { __desktop: { title: string }[] }
          ).__desktop.map(n => n.title)
        ),
      { timeout: 60_000 }
    )
    .toEqual(['Job desktop-notice succeeded']);
  // The in-app notification is there too.
  await expect(
    page.locator('.Toastify__toast', {
      hasText: 'Job desktop-notice succeeded'
    })
  ).toBeVisible();
  // A click opens the executed notebook.
  await page.evaluate(() =>
    (
      window as unknown as { __desktop: { notice: Notification }[] }
    ).__desktop[0].notice.onclick?.(new Event('click'))
  );
  await expect(
    page.locator('.lm-TabBar-tab', { hasText: `nbqueue-${job.id}.ipynb` })
  ).toBeVisible({ timeout: 30_000 });
});
