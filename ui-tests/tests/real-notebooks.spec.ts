/**
 * Notebooks as they are on disk, written by nbformat (ui-tests/fixtures/
 * write_notebooks.py), submitted with the toolbar button: one heavy with the
 * outputs of earlier work, which do not travel, and one saved by an older tool
 * (nbformat 4.4: no cell ids, no kernelspec) whose live outputs must land in
 * the cells JupyterLab gave ids to.
 */
import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import { getJob, IJob, shot } from './sidecar';
import {
  cell,
  jobsOf,
  openNotebook,
  openSubmitDialog,
  placeNotebook,
  submitButton,
  succeededToast
} from './submitting';

interface IOutput {
  output_type: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}

/** The text of a saved cell's outputs, lines joined. */
function outputText(outputs: IOutput[]): string {
  const join = (value: string | string[] | undefined) =>
    Array.isArray(value) ? value.join('') : (value ?? '');
  return outputs
    .map(output => join(output.text) + join(output.data?.['text/plain']))
    .join('');
}

test.describe('Real notebooks from disk', () => {
  test('a notebook holding 30 MB of outputs is sent without them and runs', async ({
    page,
    request,
    tmpPath
  }) => {
    const notebookPath = placeNotebook(tmpPath, 'big-outputs');
    const onDisk = path.join(
      process.env.NBQUEUE_UI_TESTS_TMP!,
      'root',
      notebookPath
    );
    expect(fs.statSync(onDisk).size).toBeGreaterThan(30 * 1024 * 1024);
    await openNotebook(page, notebookPath);
    await expect(cell(page, 1).locator('.jp-OutputArea img')).toHaveCount(2);

    await openSubmitDialog(page);
    const posted = page.waitForRequest(
      r => r.method() === 'POST' && /\/api\/jobs$/.test(r.url())
    );
    await submitButton(page).click();
    const body = (await posted).postDataBuffer()!;
    // The sources and metadata only: the plots stay in the open notebook.
    expect(body.length).toBeLessThan(1024 * 1024);
    const { notebook } = JSON.parse(body.toString('utf-8'));
    for (const sent of notebook.cells.filter(
      (c: { cell_type: string }) => c.cell_type === 'code'
    )) {
      expect(sent.outputs).toEqual([]);
      expect(sent.execution_count).toBeNull();
    }

    let job: IJob | undefined;
    await expect
      .poll(async () => (job = (await jobsOf(request, notebookPath))[0]))
      .toBeDefined();
    await succeededToast(page, job!);
    expect((await getJob(request, job!.id)).state).toBe('succeeded');

    // Each cell's run replaced its old plots, as it does for any notebook.
    for (let index = 1; index <= 6; index++) {
      await expect(cell(page, index).locator('.jp-OutputArea')).toHaveText(
        `replotted ${index - 1}`
      );
    }
    await expect(page.locator('.jp-OutputArea img')).toHaveCount(0);
    await shot(page, '20-big-outputs-run', cell(page, 1));
  });

  test('a notebook saved as nbformat 4.4 without ids or kernelspec streams into the right cells', async ({
    page,
    request,
    tmpPath
  }) => {
    const notebookPath = placeNotebook(tmpPath, 'as-saved');
    await openNotebook(page, notebookPath);
    const DISPLAY = 1; // shows "progress: started"
    const LOOP = 2; // prints tick 1..5, 0.4 s apart
    const UPDATE = 3; // updates the display of cell 1, then prints
    await expect(cell(page, LOOP).locator('.jp-OutputArea')).toContainText(
      'old tick'
    );

    await openSubmitDialog(page);
    await submitButton(page).click();
    let job: IJob | undefined;
    await expect
      .poll(async () => (job = (await jobsOf(request, notebookPath))[0]))
      .toBeDefined();

    // Live: the loop's first line is in its own cell while the later cell
    // still shows what the file held, and the display shows its first value.
    const seen = await page.waitForFunction(
      ({ display, loop, update }) => {
        const cells = document.querySelectorAll(
          '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'
        );
        const text = (i: number) =>
          cells[i]?.querySelector('.jp-OutputArea')?.textContent ?? '';
        if (!text(loop).includes('tick 1')) {
          return undefined;
        }
        return {
          display: text(display),
          loop: text(loop),
          update: text(update)
        };
      },
      { display: DISPLAY, loop: LOOP, update: UPDATE },
      { timeout: 90_000 }
    );
    const atFirstTick = await seen.jsonValue();
    expect(atFirstTick!.loop).not.toContain('old tick');
    expect(atFirstTick!.display).toContain('progress: started');
    expect(atFirstTick!.update).toContain('stale output');
    await shot(page, '21-as-saved-live', cell(page, LOOP));

    const toast = await succeededToast(page, job!);
    expect((await getJob(request, job!.id)).state).toBe('succeeded');
    // The update from cell 3 changed the display in cell 1, not cell 3.
    await expect(cell(page, DISPLAY).locator('.jp-OutputArea')).toHaveText(
      "'progress: done'"
    );
    await expect(cell(page, LOOP).locator('.jp-OutputArea')).toHaveText(
      'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n'
    );
    await expect(cell(page, UPDATE).locator('.jp-OutputArea')).toHaveText(
      'updated the progress display'
    );

    // The executed notebook holds the same outputs in the same cells.
    await toast.getByRole('button', { name: 'Open result' }).click();
    const resultName = `as-saved-${job!.id}.ipynb`;
    const resultPanel = (await page.activity.getPanelLocator(resultName))!;
    await expect(resultPanel.locator('.jp-OutputArea').nth(0)).toContainText(
      'progress: done'
    );
    const result = JSON.parse(
      fs.readFileSync(
        path.join(
          process.env.NBQUEUE_UI_TESTS_TMP!,
          'root',
          tmpPath,
          resultName
        ),
        'utf-8'
      )
    );
    const texts = result.cells.map((c: { outputs?: IOutput[] }) =>
      outputText(c.outputs ?? [])
    );
    expect(texts).toEqual([
      '',
      "'progress: done'",
      'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n',
      'updated the progress display\n'
    ]);
    await shot(page, '22-as-saved-result', resultPanel);
  });
});
