/**
 * Metrics charts end to end: `nbqueue.log_metric` outputs drawn by the
 * labextension's plotly renderer in an interactive kernel, live from a job
 * submitted to the real sidecar, in the job's result notebook, and twenty of
 * them on one page.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { ConsoleMessage, Locator } from '@playwright/test';
import * as fs from 'fs';

import { api, IJob, notebookOf, shot } from './sidecar';
import { cell, openNotebook } from './submitting';

/** A notebook of code cells, as the text of an .ipynb file. */
function notebook(cells: string[], parametersCell?: number): string {
  return JSON.stringify(notebookOf(cells, parametersCell));
}

const MIME = 'application/vnd.nbqueue.metrics+json';

/** Upload a notebook, open it and wait for its kernel. */
async function uploadAndOpen(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  content: string
): Promise<string> {
  const notebookPath = `${tmpPath}/${name}`;
  expect(
    await page.contents.uploadContent(content, 'text', notebookPath)
  ).toBeTruthy();
  await openNotebook(page, notebookPath);
  return notebookPath;
}

/** The chart of one metric group inside `scope`. */
function group(scope: Locator, name: string): Locator {
  return scope.locator(`.nbq-MetricsChart-group[data-group="${name}"]`);
}

/** Points of a group's series, as the chart last drew them (full data). */
async function points(chartGroup: Locator): Promise<number> {
  return Number((await chartGroup.getAttribute('data-points')) ?? 0);
}

/** Points plotly holds in a group's first trace (read from its DOM node). */
async function plotlyPoints(chartGroup: Locator): Promise<number> {
  return chartGroup
    .locator('.js-plotly-plot')
    .evaluate(
      node => (node as unknown as { data: { y: unknown[] }[] }).data[0].y.length
    );
}

test.describe('Metrics charts', () => {
  test('draws a metrics output: groups, gaps, hover, smoothing, x axis, CSV and PNG', async ({
    page,
    tmpPath
  }) => {
    // The output format alone, without the Python API.
    const source = [
      'from IPython.display import display',
      'n = 50',
      'steps = list(range(n))',
      'times = [1763906700000 + 1000 * i for i in steps]',
      'loss = [2.0 / (i + 1) for i in steps]',
      'loss[20] = None  # NaN: a gap',
      'acc = [i / n for i in steps]',
      'lr = [0.1] * 10',
      'display({',
      `    "${MIME}": {"version": 1, "series": [`,
      '        {"name": "train/loss", "steps": steps, "values": loss, "times": times},',
      '        {"name": "train/acc", "steps": steps, "values": acc, "times": times},',
      '        {"name": "lr", "steps": steps[:10], "values": lr, "times": times[:10]},',
      '    ]},',
      '    "text/plain": "nbqueue metrics",',
      '}, raw=True)'
    ].join('\n');
    await uploadAndOpen(page, tmpPath, 'render.ipynb', notebook([source]));
    await page.notebook.runCell(0);

    const output = cell(page, 0).locator('.jp-OutputArea-output');
    const train = group(output, 'train');
    await expect(train.locator('.main-svg').first()).toBeVisible();
    await expect(
      group(output, 'lr').locator('.main-svg').first()
    ).toBeVisible();
    await expect(output.locator('.nbq-MetricsChart-group')).toHaveCount(2);
    expect(await points(train)).toBe(100);
    // Smoothed lines over faint raw ones: two traces per metric.
    await expect(train.locator('.scatterlayer .trace')).toHaveCount(4);
    // The NaN breaks the raw loss line into two pieces.
    const rawLoss = train.locator('.scatterlayer .trace').first();
    const pieces = await rawLoss
      .locator('path.js-line')
      .evaluateAll(paths =>
        paths.reduce(
          (sum, p) => sum + (p.getAttribute('d')?.match(/M/g)?.length ?? 0),
          0
        )
      );
    expect(pieces).toBe(2);
    await expect(output.locator('canvas')).toHaveCount(0);

    // Hover shows the values under the pointer.
    const plotArea = train.locator('.nsewdrag').first();
    const box = (await plotArea.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await expect(train.locator('.hoverlayer')).toContainText('train/loss');
    await shot(page, 'metrics-01-render', output);

    // No smoothing: one trace per metric.
    await output.locator('input[name="smoothing"]').fill('0');
    await expect(train.locator('.scatterlayer .trace')).toHaveCount(2);
    // Wall time on the x axis.
    await output.locator('select[name="x-axis"]').selectOption('time');
    await expect(train.locator('.xtitle')).toHaveText('time');
    await shot(page, 'metrics-02-time-axis-no-smoothing', output);

    // CSV: every point, the gap as an empty value.
    const csvDownload = page.waitForEvent('download');
    await output.locator('button.nbq-MetricsChart-csv').click();
    const csv = fs.readFileSync((await (await csvDownload).path())!, 'utf-8');
    const lines = csv.trim().split(/\r\n/);
    // The sidecar's metrics CSV format (@nbqueue/common).
    expect(lines[0]).toBe('job,seq,name,step,value,time,kind');
    expect(lines).toHaveLength(1 + 50 + 50 + 10);
    expect(lines).toContain(',,train/loss,20,,1763906720000,user');

    // PNG of one group's chart.
    const pngDownload = page.waitForEvent('download');
    await train.locator('button.nbq-MetricsChart-png').click();
    const png = await pngDownload;
    expect(png.suggestedFilename()).toBe('metrics-train.png');
    const bytes = fs.readFileSync((await png.path())!);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  });

  test('nbqueue.log_metric in an interactive kernel: the chart grows while the cell runs', async ({
    page,
    tmpPath
  }) => {
    // Long enough (12 s) to be seen growing on a busy machine too.
    const STEPS = 60;
    const TOTAL = 2 * STEPS + 1; // loss and acc per step, and a last NaN
    const source = [
      'import time',
      'import nbqueue',
      `for step in range(${STEPS}):`,
      '    nbqueue.log_metric("train/loss", 1.0 / (step + 1))',
      `    nbqueue.log_metric("train/acc", step / ${STEPS}, step=step)`,
      '    time.sleep(0.2)',
      'nbqueue.log_metric("train/loss", float("nan"))'
    ].join('\n');
    await uploadAndOpen(page, tmpPath, 'interactive.ipynb', notebook([source]));
    const running = page.notebook.runCell(0);

    const train = group(
      cell(page, 0).locator('.jp-OutputArea-output'),
      'train'
    );
    await expect(train.locator('.main-svg').first()).toBeVisible();
    await expect.poll(() => points(train)).toBeGreaterThan(0);
    const first = await points(train);
    await expect.poll(() => points(train)).toBeGreaterThan(first + 4);
    expect(await points(train)).toBeLessThan(TOTAL);
    await shot(page, 'metrics-03-interactive-live', train);

    await running;
    await expect.poll(() => points(train)).toBe(TOTAL);
  });

  test('a submitted job: the chart grows live in the open notebook, and shows in the result', async ({
    page,
    request,
    tmpPath
  }) => {
    const STEPS = 16;
    const notebookPath = await uploadAndOpen(
      page,
      tmpPath,
      'train.ipynb',
      notebook(
        [
          `steps = ${STEPS}\ndelay = 0.5`,
          [
            'import time',
            'import nbqueue',
            'for step in range(steps):',
            '    nbqueue.log_metric("train/loss", 2.0 / (step + 1), step=step)',
            '    time.sleep(delay)',
            'print(f"done: {steps} steps")'
          ].join('\n')
        ],
        0
      )
    );

    await page
      .locator('.jp-NotebookPanel-toolbar [data-command="nbqueue:submit"]')
      .click();
    const dialog = page.locator('.nbq-SubmitDialog');
    await expect(
      dialog.locator('select[name="profile"] option[value="cpu"]')
    ).toHaveCount(1);
    await dialog.locator('select[name="profile"]').selectOption('cpu');
    await page
      .locator('.jp-Dialog')
      .getByRole('button', { name: 'Submit', exact: true })
      .click();
    await expect(dialog).toBeHidden();

    let job: IJob | undefined;
    await expect
      .poll(
        async () =>
          (job = (await api<{ jobs: IJob[] }>(request, '/api/jobs')).jobs.find(
            j => j.notebook_path === notebookPath
          )),
        { timeout: 15_000 }
      )
      .toBeDefined();
    const state = async () =>
      (await api<IJob>(request, `/api/jobs/${job!.id}`)).state;

    // Live: the chart appears while the job runs, then gains points.
    const train = group(
      cell(page, 1).locator('.jp-OutputArea-output'),
      'train'
    );
    await expect(train.locator('.main-svg').first()).toBeVisible({
      timeout: 90_000
    });
    await expect.poll(() => points(train)).toBeGreaterThan(0);
    const firstSeen = await points(train);
    const firstDrawn = await plotlyPoints(train);
    expect(await state()).toBe('running');
    await shot(page, 'metrics-04-job-live-first', train);

    await expect
      .poll(() => points(train), { timeout: 30_000 })
      .toBeGreaterThan(firstSeen + 1);
    const laterDrawn = await plotlyPoints(train);
    expect(await state()).toBe('running');
    expect(laterDrawn).toBeGreaterThan(firstDrawn);
    expect(firstSeen).toBeLessThan(STEPS);
    await shot(page, 'metrics-05-job-live-later', train);

    // The end: every point in the open notebook.
    const toast = page.locator('.Toastify__toast', { hasText: /succeeded/ });
    await expect(toast).toBeVisible({ timeout: 120_000 });
    await expect.poll(() => points(train)).toBe(STEPS);

    // The result notebook, saved to disk and opened from there, has the chart.
    await toast.getByRole('button', { name: 'Open result' }).click();
    const resultName = `train-${job!.id}.ipynb`;
    await expect(page.activity.getTabLocator(resultName)).toBeVisible();
    expect(
      await page.contents.fileExists(`${tmpPath}/${resultName}`)
    ).toBeTruthy();
    await expect.poll(() => page.activity.isTabActive(resultName)).toBe(true);
    const result = (await page.activity.getPanelLocator(resultName))!;
    const resultTrain = group(result, 'train');
    await expect(resultTrain.locator('.main-svg').first()).toBeVisible();
    expect(await points(resultTrain)).toBe(STEPS);
    expect(await plotlyPoints(resultTrain)).toBe(STEPS);
    await shot(page, 'metrics-06-result-notebook', resultTrain);
  });

  test('twenty charts in one notebook render as SVG and stay responsive', async ({
    page,
    tmpPath
  }) => {
    const webgl: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (/webgl|context lost/i.test(message.text())) {
        webgl.push(message.text());
      }
    });
    const source = [
      'import math',
      'from IPython.display import display',
      'n = 5000',
      'steps = list(range(n))',
      'times = [1763906700000 + 100 * i for i in steps]',
      'for k in range(20):',
      '    values = [math.exp(-i / 800) + 0.02 * ((i * (k + 3)) % 11) for i in steps]',
      `    display({"${MIME}": {"version": 1, "series": [`,
      '        {"name": f"run{k}/loss", "steps": steps, "values": values, "times": times},',
      '    ]}, "text/plain": f"chart {k}"}, raw=True)'
    ].join('\n');
    await uploadAndOpen(
      page,
      tmpPath,
      'twenty.ipynb',
      notebook([source, '1 + 1'])
    );
    const started = Date.now();
    await page.notebook.runCell(0);

    const outputs = cell(page, 0).locator('.jp-OutputArea-output');
    await expect(outputs.locator('.nbq-MetricsChart-group')).toHaveCount(20);
    await expect(outputs.locator('.js-plotly-plot')).toHaveCount(20);
    // Each plotly chart has its own SVG layers; none uses WebGL.
    await expect
      .poll(() => outputs.locator('.js-plotly-plot .main-svg').count())
      .toBeGreaterThanOrEqual(20);
    const renderSeconds = (Date.now() - started) / 1000;
    await expect(outputs.locator('canvas')).toHaveCount(0);
    // Each trace is downsampled: no path carries 5,000 points.
    const drawn = await outputs
      .locator('.js-plotly-plot')
      .evaluateAll(nodes =>
        nodes.map(node =>
          Math.max(
            ...(node as unknown as { data: { y: unknown[] }[] }).data.map(
              trace => trace.y.length
            )
          )
        )
      );
    expect(Math.max(...drawn)).toBeLessThanOrEqual(2000);

    // Responsive: a frame comes promptly and the next cell runs at once.
    const frameMs = await page.evaluate(
      () =>
        new Promise<number>(resolve => {
          const start = performance.now();
          requestAnimationFrame(() =>
            requestAnimationFrame(() => resolve(performance.now() - start))
          );
        })
    );
    expect(frameMs).toBeLessThan(500);
    const runStart = Date.now();
    await page.notebook.runCell(1);
    await expect(cell(page, 1).locator('.jp-OutputArea-output')).toHaveText(
      '2'
    );
    expect(Date.now() - runStart).toBeLessThan(10_000);
    await outputs.last().scrollIntoViewIfNeeded();
    await shot(page, 'metrics-07-twenty-charts');
    expect(webgl).toEqual([]);
    console.log(
      `twenty charts: rendered in ${renderSeconds.toFixed(1)} s, two frames in ${frameMs.toFixed(0)} ms`
    );
  });
});
