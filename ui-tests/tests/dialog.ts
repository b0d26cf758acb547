/**
 * The steps every browser test takes to submit from JupyterLab, whatever serves it (a plain
 * Jupyter server, JupyterHub, Binder): wait for the notebook's kernel, open the submit dialog
 * from the toolbar, find a parameter row, press Submit. Only Playwright here, so the hub and
 * Binder specs (plain Playwright, no Galata fixtures) share them too.
 */
import { expect, Locator, Page } from '@playwright/test';

/** What the steps need of a page: Galata's page fixture and Playwright's page both have it. */
type Surface = Pick<Page, 'locator'>;

/** Waits until the notebook on show has its kernel running and idle (submitting asks it). */
export async function waitForIdleKernel(
  page: Surface,
  timeout = 60_000
): Promise<void> {
  await expect(
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
  ).toBeVisible({ timeout });
}

/** Clicks "Submit to GPU queue" and waits for the sidecar's profiles. */
export async function openSubmitDialog(page: Surface): Promise<Locator> {
  const button = page.locator(
    '.jp-NotebookPanel-toolbar [data-command="nbqueue:submit"]'
  );
  await expect(button).toBeVisible();
  await button.click();
  const dialog = page.locator('.nbq-SubmitDialog');
  await expect(dialog).toBeVisible();
  await expect(
    dialog.locator('select[name="profile"] option[value="cpu"]')
  ).toHaveCount(1);
  return dialog;
}

/** The dialog's parameter row named `name` (the notebook's parameters cell fills them). */
export async function parameterRow(
  dialog: Locator,
  name: string
): Promise<Locator> {
  const rows = dialog.locator('.nbq-Parameter');
  await expect(rows.first()).toBeVisible();
  const names = await rows
    .locator('input[name="param-name"]')
    .evaluateAll(inputs =>
      inputs.map(input => (input as HTMLInputElement).value)
    );
  expect(names).toContain(name);
  return rows.nth(names.indexOf(name));
}

export function submitButton(page: Surface): Locator {
  return page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Submit', exact: true });
}
