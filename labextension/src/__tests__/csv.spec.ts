import { toCsv } from '../metrics/csv';

describe('toCsv', () => {
  it('writes name,step,value,time with gaps as empty values', () => {
    const csv = toCsv([
      {
        name: 'train/loss',
        steps: [0, 1, 2],
        values: [0.9, null, 0.25],
        times: [1763906700000, 1763906700100, 1763906700200]
      },
      { name: 'lr', steps: [0], values: [0.1], times: [1763906700000] }
    ]);
    expect(csv.split('\r\n')).toEqual([
      'name,step,value,time',
      'train/loss,0,0.9,1763906700000',
      'train/loss,1,,1763906700100',
      'train/loss,2,0.25,1763906700200',
      'lr,0,0.1,1763906700000',
      ''
    ]);
  });

  it('adds a job column for series of several jobs', () => {
    const csv = toCsv([
      { name: 'loss', job: 'j-1', steps: [0], values: [1], times: [5] },
      { name: 'loss', job: 'j-2', steps: [0], values: [2], times: [6] }
    ]);
    expect(csv).toBe(
      'job,name,step,value,time\r\nj-1,loss,0,1,5\r\nj-2,loss,0,2,6\r\n'
    );
  });

  it('makes names a spreadsheet would run as formulas open as text', () => {
    const csv = toCsv([
      { name: '=1+1', job: '@j', steps: [0], values: [-0.5], times: [1] },
      { name: '-x,y', steps: [1], values: [2], times: [3] }
    ]);
    expect(csv).toBe(
      "job,name,step,value,time\r\n'@j,'=1+1,0,-0.5,1\r\n,\"'-x,y\",1,2,3\r\n"
    );
  });

  it('quotes names holding commas, quotes or line breaks', () => {
    const csv = toCsv([
      { name: 'acc, top "5"', steps: [1], values: [0.5], times: [] }
    ]);
    expect(csv).toBe('name,step,value,time\r\n"acc, top ""5""",1,0.5,\r\n');
  });

  it('writes every point, however many', () => {
    const n = 100_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    const csv = toCsv([{ name: 'x', steps, values: steps, times: steps }]);
    expect(csv.split('\r\n')).toHaveLength(n + 2);
  });
});
