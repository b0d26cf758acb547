/**
 * The chart's CSV: its series as points of the sidecar's one metrics CSV
 * format (`@nbqueue/common`), `job,seq,name,step,value,time,kind`.
 */
import { metricsCsv } from '@nbqueue/common';

import { seriesCsvPoints } from '../metrics/series';
import type { IMetricSeries } from '../metrics/types';

const toCsv = (series: IMetricSeries[]) => metricsCsv(seriesCsvPoints(series));

describe('the chart CSV', () => {
  it('writes every point of every series, gaps as empty values', () => {
    const csv = toCsv([
      {
        name: 'train/loss',
        steps: [0, 1, 2],
        values: [0.9, null, 0.25],
        times: [1763906700000, 1763906700100, 1763906700200]
      },
      { name: 'system/cpu', steps: [0], values: [12], times: [1763906700000] }
    ]);
    expect(csv.split('\r\n')).toEqual([
      'job,seq,name,step,value,time,kind',
      ',,train/loss,0,0.9,1763906700000,user',
      ',,train/loss,1,,1763906700100,user',
      ',,train/loss,2,0.25,1763906700200,user',
      ',,system/cpu,0,12,1763906700000,system',
      ''
    ]);
  });

  it('fills the job column for series of several jobs', () => {
    const csv = toCsv([
      { name: 'loss', job: 'j-1', steps: [0], values: [1], times: [5] },
      { name: 'loss', job: 'j-2', steps: [0], values: [2], times: [6] }
    ]);
    expect(csv).toBe(
      'job,seq,name,step,value,time,kind\r\nj-1,,loss,0,1,5,user\r\nj-2,,loss,0,2,6,user\r\n'
    );
  });

  it('makes names a spreadsheet would run as formulas open as text', () => {
    const csv = toCsv([
      { name: '=1+1', job: '@j', steps: [0], values: [-0.5], times: [1] },
      { name: '-x,y', steps: [1], values: [2], times: [3] }
    ]);
    expect(csv).toBe(
      "job,seq,name,step,value,time,kind\r\n'@j,,'=1+1,0,-0.5,1,user\r\n,,\"'-x,y\",1,2,3,user\r\n"
    );
  });

  it('quotes names holding commas, quotes or line breaks; no time, empty', () => {
    const csv = toCsv([
      { name: 'acc, top "5"', steps: [1], values: [0.5], times: [] }
    ]);
    expect(csv).toBe(
      'job,seq,name,step,value,time,kind\r\n,,"acc, top ""5""",1,0.5,,user\r\n'
    );
  });

  it('writes every point, however many', () => {
    const n = 100_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    const csv = toCsv([{ name: 'x', steps, values: steps, times: steps }]);
    expect(csv.split('\r\n')).toHaveLength(n + 2);
  });
});
