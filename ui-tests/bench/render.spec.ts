/**
 * Benchmark: drawing and extending a metrics chart of 100,000 points in
 * Chromium, through the renderer JupyterLab uses for notebook outputs
 * (downsampled to at most 2,000 points per trace), against plotly.js drawing
 * the same data itself in the same page: 100,000 raw points, and 2,000.
 * Prints one table; `docs/benchmarks.md` ("Metrics rendering") keeps it.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const PLOTLY = require.resolve('plotly.js-dist-min');
const POINTS = Number(process.env.BENCH_POINTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

test('metrics chart: draw and extend 100,000 points', async ({ page }) => {
  await page.notebook.createNew('bench.ipynb');
  // The same plotly.js build, as a global, for the reference drawings.
  await page.evaluate(() => {
    (window as unknown as { define?: unknown }).define = undefined;
  });
  await page.addScriptTag({ path: path.resolve(PLOTLY) });

  const result = await page.evaluate(
    async ({ points, rounds }) => {
      const MIME = 'application/vnd.nbqueue.metrics+json';
      type Renderer = {
        node: HTMLElement;
        renderModel(model: object): Promise<void>;
        dispose(): void;
      };
      const w = window as unknown as {
        jupyterapp: {
          shell: {
            currentWidget: {
              content: {
                rendermime: { createRenderer(mime: string): Renderer };
              };
            };
          };
        };
        Plotly: {
          newPlot(
            node: HTMLElement,
            data: object[],
            layout: object
          ): Promise<void>;
          purge(node: HTMLElement): void;
        };
      };
      const rendermime = w.jupyterapp.shell.currentWidget.content.rendermime;
      const frame = () =>
        new Promise<void>(resolve =>
          requestAnimationFrame(() => requestAnimationFrame(() => resolve()))
        );
      const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
      const median = (xs: number[]) =>
        xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const host = () => {
        const node = document.createElement('div');
        node.style.cssText =
          'position:fixed;left:0;top:0;width:900px;background:white;z-index:10000';
        document.body.appendChild(node);
        return node;
      };
      const series = (n: number, seed: number) => {
        const steps = new Array<number>(n);
        const values = new Array<number | null>(n);
        const times = new Array<number>(n);
        let s = seed;
        for (let i = 0; i < n; i++) {
          s = (s * 1103515245 + 12345) % 2147483648;
          steps[i] = i;
          values[i] = 2 * Math.exp(-i / (n / 5)) + 0.1 * (s / 2147483648);
          times[i] = 1763906700000 + i * 10;
        }
        return { name: 'train/loss', steps, values, times };
      };
      const model = (s: object) => ({
        data: { [MIME]: { version: 1, series: [s] } },
        metadata: {},
        trusted: true,
        setData: () => undefined
      });
      const extended = (
        base: ReturnType<typeof series>,
        extra: ReturnType<typeof series>
      ) => ({
        name: base.name,
        steps: base.steps.concat(extra.steps.map(x => x + base.steps.length)),
        values: base.values.concat(extra.values),
        times: base.times.concat(extra.times)
      });

      // plotly.js loads lazily on the first chart: timed once, apart.
      let node = host();
      let renderer = rendermime.createRenderer(MIME);
      node.appendChild(renderer.node);
      let t = performance.now();
      await renderer.renderModel(model(series(10, 1)));
      await frame();
      const firstLoad = performance.now() - t;
      renderer.dispose();
      node.remove();

      const data = series(points, 7);
      const small = series(2000, 7);
      const draw: number[] = [];
      const drawRawOnly: number[] = [];
      const extendOne: number[] = [];
      const extendThousand: number[] = [];
      const refRaw: number[] = [];
      const refSmall: number[] = [];
      for (let r = 0; r < rounds; r++) {
        // The chart: draw, then two live updates (whole data, as
        // update_display_data brings it), past the 100 ms throttle.
        node = host();
        renderer = rendermime.createRenderer(MIME);
        node.appendChild(renderer.node);
        t = performance.now();
        await renderer.renderModel(model(data));
        await frame();
        draw.push(performance.now() - t);
        await sleep(150);
        const plusOne = extended(data, series(1, 3));
        t = performance.now();
        await renderer.renderModel(model(plusOne));
        await frame();
        extendOne.push(performance.now() - t);
        await sleep(150);
        const plusThousand = extended(plusOne, series(1000, 5));
        t = performance.now();
        await renderer.renderModel(model(plusThousand));
        await frame();
        extendThousand.push(performance.now() - t);
        renderer.dispose();
        node.remove();

        // The same with smoothing off: one trace, as in the references.
        node = host();
        renderer = rendermime.createRenderer(MIME);
        node.appendChild(renderer.node);
        const slider = renderer.node.querySelector(
          'input[name="smoothing"]'
        ) as HTMLInputElement;
        slider.value = '0';
        slider.dispatchEvent(new Event('input'));
        await sleep(150); // past the redraw throttle the slider started
        t = performance.now();
        await renderer.renderModel(model(data));
        await frame();
        drawRawOnly.push(performance.now() - t);
        renderer.dispose();
        node.remove();

        // References: plotly.js alone, same trace type (SVG scatter lines).
        for (const [input, out] of [
          [data, refRaw],
          [small, refSmall]
        ] as const) {
          node = host();
          const plot = document.createElement('div');
          node.appendChild(plot);
          t = performance.now();
          await w.Plotly.newPlot(
            plot,
            [
              {
                type: 'scatter',
                mode: 'lines',
                x: input.steps,
                y: input.values
              }
            ],
            { height: 260 }
          );
          await frame();
          out.push(performance.now() - t);
          w.Plotly.purge(plot);
          node.remove();
        }
      }
      return {
        firstLoad,
        draw: median(draw),
        drawRawOnly: median(drawRawOnly),
        extendOne: median(extendOne),
        extendThousand: median(extendThousand),
        refRaw: median(refRaw),
        refSmall: median(refSmall)
      };
    },
    { points: POINTS, rounds: ROUNDS }
  );

  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const n = POINTS.toLocaleString('en-US');
  console.log(
    [
      `metrics rendering, ${n} points, median of ${ROUNDS} (Chromium ${page.context().browser()?.version()})`,
      `  first chart on the page (loads plotly.js):          ${ms(result.firstLoad)}`,
      `  nbqueue chart, draw ${n} (downsampled to <=2,000): ${ms(result.draw)}`,
      `  nbqueue chart, smoothing off (1 trace):             ${ms(result.drawRawOnly)}`,
      `  nbqueue chart, extend by 1 point:                   ${ms(result.extendOne)}`,
      `  nbqueue chart, extend by 1,000 points:              ${ms(result.extendThousand)}`,
      `  plotly.js alone, ${n} raw points:                 ${ms(result.refRaw)}`,
      `  plotly.js alone, 2,000 points:                      ${ms(result.refSmall)}`,
      `  ratio draw / plotly raw ${n}:  ${(result.draw / result.refRaw).toFixed(2)}`,
      `  ratio draw / plotly 2,000 points: ${(result.draw / result.refSmall).toFixed(2)}`,
      `  ratio smoothing off / plotly raw ${n}: ${(result.drawRawOnly / result.refRaw).toFixed(2)}`
    ].join('\n')
  );
  expect(result.draw).toBeGreaterThan(0);
});
