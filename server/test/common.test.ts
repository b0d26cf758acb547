import {
  defaultJobName,
  humanBytes,
  metricsCsv,
  METRICS_CSV_HEADER
} from '@nbqueue/common';

describe('@nbqueue/common', () => {
  test('humanBytes: bytes below 1 KiB, then one decimal in the largest unit', () => {
    expect(humanBytes(0)).toBe('0 B');
    expect(humanBytes(1023)).toBe('1023 B');
    expect(humanBytes(1024)).toBe('1.0 KB');
    expect(humanBytes(3.5 * 1024 * 1024)).toBe('3.5 MB');
    expect(humanBytes(2 * 1024 ** 3)).toBe('2.0 GB');
    expect(humanBytes(5 * 1024 ** 4)).toBe('5.0 TB');
  });

  test('defaultJobName: the file name and the local time', () => {
    const now = new Date(2026, 10, 3, 4, 5);
    expect(defaultJobName('work/train.ipynb', now)).toBe(
      'train.ipynb 2026-11-03 04:05'
    );
    expect(defaultJobName(null, now)).toBe('notebook 2026-11-03 04:05');
    expect(defaultJobName('dir/', now)).toBe('dir 2026-11-03 04:05');
  });

  test('metricsCsv: points without a job or cursor leave those columns empty', () => {
    const csv = metricsCsv([
      { name: 'loss', step: 0, value: 0.5, time: 7 },
      { name: 'system/gpu0_util', step: 1, value: null },
      { name: '=cmd', step: 2, value: Infinity, time: 9, job: 'j-1', seq: 4 }
    ]);
    expect(csv).toBe(
      [
        METRICS_CSV_HEADER,
        ',,loss,0,0.5,7,user',
        ',,system/gpu0_util,1,,,system',
        "j-1,4,'=cmd,2,,9,user",
        ''
      ].join('\r\n')
    );
  });
});
