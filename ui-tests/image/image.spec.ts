/**
 * The single-user image (images/singleuser/Dockerfile), started as a container: its
 * JupyterLab serves nbqueue's server extension, and a notebook opened in the browser has the
 * "Submit to GPU queue" button of the prebuilt labextension and a running kernel.
 */
import { expect, test } from '@playwright/test';

const TOKEN = process.env.NBQUEUE_IMAGE_TOKEN ?? '';
const auth = { Authorization: `token ${TOKEN}` };

test('the server extension answers with the sidecar it was given', async ({
  request
}) => {
  const response = await request.get('nbqueue/connection', { headers: auth });
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({
    url: 'http://127.0.0.1:9',
    token: 'smoke-test-token'
  });
});

test('a notebook opened in JupyterLab has the submit button', async ({
  page,
  request
}) => {
  const created = await request.put('api/contents/smoke.ipynb', {
    headers: auth,
    data: {
      type: 'notebook',
      format: 'json',
      content: {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {
          kernelspec: {
            name: 'python3',
            display_name: 'Python 3 (ipykernel)',
            language: 'python'
          }
        },
        cells: []
      }
    }
  });
  expect(created.ok()).toBe(true);

  await page.goto(`lab/tree/smoke.ipynb?token=${TOKEN}`);
  await expect(page.locator('.jp-NotebookPanel')).toBeVisible({
    timeout: 60_000
  });
  const button = page.locator(
    '.jp-NotebookPanel-toolbar [data-command="nbqueue:submit"]'
  );
  await expect(button).toBeVisible();
  // The image's own kernel starts (ipykernel, as jovyan): what a submit would ask.
  await expect
    .poll(
      async () => {
        const kernels = await request.get('api/kernels', { headers: auth });
        return (await kernels.json()).map(
          (kernel: { execution_state: string }) => kernel.execution_state
        );
      },
      { timeout: 60_000 }
    )
    .toEqual(['idle']);
});
