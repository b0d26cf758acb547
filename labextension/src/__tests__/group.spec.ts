import { groupByPrefix, groupOf } from '../metrics/group';
import { parseMetricsData, seriesKey, seriesLabel } from '../metrics/types';

describe('groupOf', () => {
  it('groups by the prefix before the first slash', () => {
    expect(groupOf('train/loss')).toBe('train');
    expect(groupOf('train/acc')).toBe('train');
    expect(groupOf('system/gpu0/utilization_percent')).toBe('system');
    expect(groupOf('loss')).toBe('loss');
    // A leading slash is not an empty group.
    expect(groupOf('/odd')).toBe('/odd');
  });

  it('keeps groups in order of first appearance', () => {
    const groups = groupByPrefix([
      { name: 'train/loss' },
      { name: 'lr' },
      { name: 'eval/acc' },
      { name: 'train/acc' }
    ]);
    expect([...groups.keys()]).toEqual(['train', 'lr', 'eval']);
    expect(groups.get('train')!.map(s => s.name)).toEqual([
      'train/loss',
      'train/acc'
    ]);
  });
});

describe('metrics data', () => {
  it('parses the notebook output format, non-finite values as gaps', () => {
    expect(
      parseMetricsData({
        version: 1,
        series: [
          { name: 'loss', steps: [0, 1], values: [0.9, 'NaN'], times: [1, 2] }
        ]
      })
    ).toEqual([
      { name: 'loss', steps: [0, 1], values: [0.9, null], times: [1, 2] }
    ]);
  });

  it('refuses data in another shape', () => {
    expect(parseMetricsData(null)).toBeNull();
    expect(parseMetricsData({ version: 2, series: [] })).toBeNull();
    expect(
      parseMetricsData({ version: 1, series: [{ name: 'x', steps: [1] }] })
    ).toBeNull();
    expect(
      parseMetricsData({
        version: 1,
        series: [{ name: 'x', steps: [1, 2], values: [1], times: [] }]
      })
    ).toBeNull();
  });

  it('labels series by job in comparisons', () => {
    const base = { name: 'loss', steps: [], values: [], times: [] };
    expect(seriesLabel(base)).toBe('loss');
    expect(seriesLabel({ ...base, job: 'j-1' })).toBe('j-1 · loss');
    expect(seriesLabel({ ...base, job: 'j-1', label: 'run A' })).toBe('run A');
    expect(seriesKey({ name: 'loss', job: 'j-1' })).not.toBe(
      seriesKey({ name: 'loss', job: 'j-2' })
    );
  });
});
