import { Widget } from '@lumino/widgets';

import { MetricsChart } from '../metrics/chart';
import type { IClock } from '../metrics/throttle';
import { FakePlotly, freeClock, until } from './fixtures';
import type { IMetricSeries } from '../metrics/types';

function metric(name: string, n: number, job?: string): IMetricSeries {
  const steps = Array.from({ length: n }, (_, i) => i);
  return {
    name,
    job,
    steps,
    values: steps.map(i => 1 / (i + 1)),
    times: steps.map(i => 1_700_000_000_000 + i * 100)
  };
}

function makeChart(
  options: MetricsChart.IOptions = {}
): [MetricsChart, FakePlotly] {
  const plotly = new FakePlotly();
  const chart = new MetricsChart({
    plotly: async () => plotly,
    clock: freeClock(),
    ...options
  });
  Widget.attach(chart, document.body);
  return [chart, plotly];
}

describe('MetricsChart', () => {
  it('draws one chart per group, smoothed lines over faint raw ones', async () => {
    const [chart, plotly] = makeChart();
    await chart.setSeries([
      metric('train/loss', 10),
      metric('train/acc', 10),
      metric('lr', 10)
    ]);
    expect(chart.groups).toEqual(['train', 'lr']);
    const groups = chart.node.querySelectorAll('.nbq-MetricsChart-group');
    expect(Array.from(groups, g => (g as HTMLElement).dataset.group)).toEqual([
      'train',
      'lr'
    ]);
    const train = plotly.last('train');
    expect(train.map(t => t.name)).toEqual([
      'train/loss (raw)',
      'train/loss',
      'train/acc (raw)',
      'train/acc'
    ]);
    expect(train.every(t => t.type === 'scatter')).toBe(true);
    expect(train[0].showlegend).toBe(false);
    expect((groups[0] as HTMLElement).dataset.points).toBe('20');
    chart.dispose();
  });

  it('draws only the raw line without smoothing', async () => {
    const [chart, plotly] = makeChart({ smoothing: 0 });
    await chart.setSeries([metric('loss', 5)]);
    expect(plotly.last('loss').map(t => t.name)).toEqual(['loss']);
    chart.dispose();
  });

  it('downsamples long series for display but keeps all for the CSV', async () => {
    const [chart, plotly] = makeChart({ maxPoints: 500 });
    await chart.setSeries([metric('loss', 100_000)]);
    for (const trace of plotly.last('loss')) {
      expect(trace.x.length).toBeLessThanOrEqual(500);
    }
    expect(chart.toCsv().split('\r\n')).toHaveLength(100_000 + 2);
    chart.dispose();
  });

  it('extends a growing series instead of replacing it', async () => {
    const [chart, plotly] = makeChart({ smoothing: 0 });
    await chart.updateSeries([metric('loss', 3)]);
    const first = chart.series[0];
    await chart.updateSeries([metric('loss', 5)]);
    expect(chart.series[0]).toBe(first);
    expect(chart.series[0].values).toHaveLength(5);
    expect(plotly.last('loss')[0].y).toHaveLength(5);

    // Different data under the same name (a re-run): replaced.
    const rerun = metric('loss', 2);
    rerun.values = [7, 8];
    await chart.updateSeries([rerun]);
    expect(chart.series[0].values).toEqual([7, 8]);

    // A series no longer present goes away, and its chart with it.
    await chart.updateSeries([metric('eval/acc', 2)]);
    expect(chart.groups).toEqual(['eval']);
    expect(chart.node.querySelectorAll('.nbq-MetricsChart-group')).toHaveLength(
      1
    );
    chart.dispose();
  });

  it('coalesces a burst of updates into few draws', async () => {
    const [chart, plotly] = makeChart();
    const clock: IClock = {
      now: () => 0,
      setTimeout: (callback: () => void) => setTimeout(callback, 0),
      clearTimeout: () => undefined
    };
    const throttled = new MetricsChart({ plotly: async () => plotly, clock });
    const done: Promise<void>[] = [];
    for (let n = 1; n <= 50; n++) {
      done.push(throttled.updateSeries([metric('loss', n)]));
    }
    await Promise.all(done);
    // The first draw, then one for everything that came meanwhile.
    expect(Number(throttled.node.dataset.draws)).toBeLessThanOrEqual(2);
    expect(plotly.calls[plotly.calls.length - 1].data[0].y).toHaveLength(50);
    throttled.dispose();
    chart.dispose();
  });

  it('overlays jobs: same metric, one line per job, job in the CSV', async () => {
    const [chart, plotly] = makeChart({ smoothing: 0 });
    await chart.setSeries([
      { ...metric('train/loss', 3, 'j-1'), label: 'baseline' },
      metric('train/loss', 4, 'j-2')
    ]);
    expect(plotly.last('train').map(t => t.name)).toEqual([
      'baseline',
      'j-2 · train/loss'
    ]);
    await chart.extend([
      { name: 'train/loss', job: 'j-1', steps: [3], values: [0.1], times: [0] }
    ]);
    expect(plotly.last('train')[0].y).toHaveLength(4);
    expect(chart.toCsv().split('\r\n').slice(0, 2)).toEqual([
      'job,seq,name,step,value,time,kind',
      'j-1,,train/loss,0,1,1700000000000,user'
    ]);
    chart.dispose();
  });

  it('switches the x axis to wall time and back', async () => {
    const [chart, plotly] = makeChart({ smoothing: 0 });
    await chart.setSeries([metric('loss', 3)]);
    expect(plotly.last('loss')[0].x).toEqual([0, 1, 2]);
    // The toolbar is React: rendered after the chart is attached.
    const select = await until(
      () =>
        chart.node.querySelector('select[name="x-axis"]') as HTMLSelectElement
    );
    select.value = 'time';
    // As a browser does: `change` bubbles (React listens at its root).
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(chart.xAxis).toBe('time');
    expect(plotly.last('loss')[0].x[0]).toEqual(new Date(1_700_000_000_000));
    chart.dispose();
  });

  it('escapes names, which plotly would read as HTML', async () => {
    const [chart, plotly] = makeChart({ smoothing: 0 });
    await chart.setSeries([metric('<img src=x onerror=alert(1)>', 2)]);
    expect(plotly.calls[0].data[0].name).toBe(
      '&lt;img src=x onerror=alert(1)&gt;'
    );
    chart.dispose();
  });
});

describe('MetricsChart toolbar', () => {
  it('smooths as the slider moves, and shows the weight', async () => {
    const [chart, plotly] = makeChart({ smoothing: 0 });
    await chart.setSeries([metric('loss', 3)]);
    const slider = await until(
      () =>
        chart.node.querySelector('input[name="smoothing"]') as HTMLInputElement
    );
    // As browser automation does: set the value, then fire `input`.
    slider.value = '0.5';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    expect(chart.smoothing).toBe(0.5);
    await until(() => plotly.last('loss').length === 2);
    expect(plotly.last('loss').map(t => t.name)).toEqual([
      'loss (raw)',
      'loss'
    ]);
    await until(
      () =>
        chart.node.querySelector('.nbq-MetricsChart-smoothingValue')
          ?.textContent === '0.50'
    );
    chart.dispose();
  });
});
