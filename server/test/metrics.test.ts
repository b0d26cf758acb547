import Database from 'better-sqlite3';
import { csvField, METRICS_CSV_HEADER as CSV_HEADER } from '@nbqueue/common';
import { toCsv } from '../src/metrics/csv';
import { MetricStore } from '../src/metrics/store';
import type { JobEvent } from '../src/jobs/types';

const metric = (
  seq: number,
  name: string,
  value: number | null,
  step: number,
  kind?: 'user' | 'system'
): JobEvent => ({
  seq,
  time: 1763906700000 + seq,
  type: 'metric',
  name,
  value,
  step,
  ...(kind ? { kind } : {})
});

describe('metric store', () => {
  let store: MetricStore;
  beforeEach(() => {
    store = new MetricStore(new Database(':memory:'));
  });

  test('keeps only metric events, once per (job, seq), with kind defaulting to user', () => {
    const events: JobEvent[] = [
      { seq: 1, time: 1, type: 'run_started', cells: 1 },
      metric(2, 'loss', 0.5, 0),
      metric(3, 'loss', null, 1),
      metric(4, 'system/cpu_percent', 12.5, 0, 'system')
    ];
    expect(store.append('j-1', events)).toBe(3);
    expect(store.append('j-1', events)).toBe(0); // a re-sent batch
    expect(store.append('j-2', [metric(2, 'acc', 1, 0)])).toBe(1);
    expect(store.list('j-1')).toEqual([
      {
        seq: 2,
        name: 'loss',
        step: 0,
        value: 0.5,
        time: 1763906700002,
        kind: 'user'
      },
      {
        seq: 3,
        name: 'loss',
        step: 1,
        value: null,
        time: 1763906700003,
        kind: 'user'
      },
      {
        seq: 4,
        name: 'system/cpu_percent',
        step: 0,
        value: 12.5,
        time: 1763906700004,
        kind: 'system'
      }
    ]);
  });

  test('since is a cursor; kind, upTo and limit filter', () => {
    store.append(
      'j',
      Array.from({ length: 10 }, (_, i) =>
        metric(
          i + 1,
          i % 2 ? 'system/memory_bytes' : 'loss',
          i,
          i,
          i % 2 ? 'system' : 'user'
        )
      )
    );
    const seqs = (q: Parameters<MetricStore['list']>[1]) =>
      store.list('j', q).map(r => r.seq);
    expect(seqs({ since: 7 })).toEqual([8, 9, 10]);
    expect(seqs({ kind: 'user' })).toEqual([1, 3, 5, 7, 9]);
    expect(seqs({ kind: 'system', since: 4 })).toEqual([6, 8, 10]);
    expect(seqs({ upTo: 3 })).toEqual([1, 2, 3]);
    expect(seqs({ limit: 2, since: 5 })).toEqual([6, 7]);
    // paging with the cursor visits every row once
    const seen: number[] = [];
    let cursor = 0;
    for (;;) {
      const page = store.list('j', { since: cursor, limit: 3 });
      if (!page.length) break;
      seen.push(...page.map(r => r.seq));
      cursor = page[page.length - 1].seq;
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});

describe('metrics CSV', () => {
  test('RFC 4180 quoting of names', () => {
    expect(csvField('loss')).toBe('loss');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
  });

  test('a name a spreadsheet would run as a formula opens as text', () => {
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(
      `"'=HYPERLINK(""http://x"",""y"")"`
    );
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-cmd')).toBe("'-cmd");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tx')).toBe("'\tx");
    expect(csvField('loss=1')).toBe('loss=1');
  });

  test('header, rows, empty value for NaN/inf, kind', () => {
    const store = new MetricStore(new Database(':memory:'));
    store.append('j', [
      metric(1, 'val,loss', 0.25, 0),
      metric(2, 'say "x"', null, 1),
      metric(3, 'system/cpu_percent', 50, 0, 'system')
    ]);
    expect(CSV_HEADER).toBe('job,seq,name,step,value,time,kind');
    expect(toCsv('j', store.iterate('j'))).toBe(
      [
        CSV_HEADER,
        'j,1,"val,loss",0,0.25,1763906700001,user',
        'j,2,"say ""x""",1,,1763906700002,user',
        'j,3,system/cpu_percent,0,50,1763906700003,system',
        ''
      ].join('\r\n')
    );
    expect(toCsv('j', store.iterate('j', { since: 2 }))).toBe(
      `${CSV_HEADER}\r\nj,3,system/cpu_percent,0,50,1763906700003,system\r\n`
    );
    expect(toCsv('j', [])).toBe(`${CSV_HEADER}\r\n`);
  });
});
