/**
 * System metrics' units: which chart a sample goes on, MiB or GiB on the y
 * axis, and the traces and layout drawn with them.
 */
import { groupLayout, seriesTraces } from '../metrics/traces';
import { axisScale, commonUnit, systemGroupOf, unitOf } from '../metrics/units';
import type { IMetricSeries } from '../metrics/types';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

const memory: IMetricSeries = {
  name: 'system/memory_bytes',
  steps: [0, 1, 2],
  values: [512 * MIB, 2 * GIB, null],
  times: [1_700_000_000_000, 1_700_000_005_000, 1_700_000_010_000]
};

describe('system metric units', () => {
  it('reads the unit from the name, and none for user metrics', () => {
    expect(unitOf('system/memory_bytes')).toBe('bytes');
    expect(unitOf('system/gpu0/memory_bytes')).toBe('bytes');
    expect(unitOf('system/cpu_percent')).toBe('percent');
    expect(unitOf('system/gpu1/utilization_percent')).toBe('percent');
    expect(unitOf('train/loss')).toBeNull();
  });

  it('puts bytes and percents on charts of their own', () => {
    expect(systemGroupOf('system/memory_bytes')).toBe('memory');
    expect(systemGroupOf('system/gpu0/memory_bytes')).toBe('memory');
    expect(systemGroupOf('system/cpu_percent')).toBe('utilization');
    expect(systemGroupOf('system/gpu0/utilization_percent')).toBe(
      'utilization'
    );
    expect(systemGroupOf('system/other')).toBe('system');
    expect(commonUnit(['system/cpu_percent', 'system/gpu0/memory_bytes'])).toBe(
      null
    );
    expect(
      commonUnit(['system/memory_bytes', 'system/gpu0/memory_bytes'])
    ).toBe('bytes');
  });

  it('shows GiB from 1 GiB up, MiB below, % as is', () => {
    expect(axisScale('bytes', 2 * GIB)).toEqual({
      divisor: GIB,
      suffix: 'GiB'
    });
    expect(axisScale('bytes', GIB)).toEqual({ divisor: GIB, suffix: 'GiB' });
    expect(axisScale('bytes', GIB - 1)).toEqual({
      divisor: MIB,
      suffix: 'MiB'
    });
    expect(axisScale('bytes', -Infinity)).toEqual({
      divisor: MIB,
      suffix: 'MiB'
    });
    expect(axisScale('percent', 250)).toEqual({ divisor: 1, suffix: '%' });
  });

  it('draws bytes scaled against wall time, with the unit on the axis', () => {
    const scale = axisScale('bytes', 2 * GIB);
    const [trace] = seriesTraces(memory, {
      xAxis: 'time',
      color: '#123456',
      maxPoints: 2000,
      smoothed: null,
      scale
    });
    expect(trace.y).toEqual([0.5, 2, null]);
    expect(trace.x).toEqual(memory.times.map(t => new Date(t)));
    expect(trace.hovertemplate).toBe('%{y:.4g} GiB');
    const layout = groupLayout({
      group: 'memory',
      xAxis: 'time',
      xTitle: 'time',
      lastStep: 2,
      height: 200,
      fontColor: '#000',
      gridColor: '#eee',
      scale
    });
    expect(layout.xaxis).toMatchObject({ type: 'date' });
    expect(layout.yaxis).toMatchObject({ title: { text: 'GiB' } });
    expect(layout.yaxis).not.toHaveProperty('ticksuffix');
  });

  it('leaves user metrics as logged, with no unit', () => {
    const [trace] = seriesTraces(
      { ...memory, name: 'train/loss' },
      { xAxis: 'step', color: '#123456', maxPoints: 2000, smoothed: null }
    );
    expect(trace.y).toEqual(memory.values);
    expect(trace.hovertemplate).toBe('%{y:.6g}');
  });
});
