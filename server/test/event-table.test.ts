import Database from 'better-sqlite3';
import * as path from 'path';
import { Store } from '../src/store/store';
import type { JobEvent, JobRecord } from '../src/jobs/types';
import { tmpDir } from './helpers';

/** The events table and the metrics table together (store/events.ts), on a real SQLite file. */

const NOTEBOOK = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] };

function job(id: string): JobRecord {
  return {
    id,
    owner: 'alice',
    name: id,
    profile: 'cpu',
    queue: 'cpu',
    priority: 'normal',
    state: 'running',
    reason: null,
    created_at: '2026-11-23T10:00:00.000Z',
    started_at: null,
    finished_at: null,
    position_key: 1,
    spec: { parameters: {}, notebook_path: null, cwd: null, kernel: {} },
    cancel_requested: false,
    held: false,
    backend_ref: null,
    last_seq: 0,
    has_result: false,
    attempt: 1,
    restarts: []
  };
}

const metric = (seq: number, step: number): JobEvent => ({
  seq,
  time: 1763906700000 + seq,
  type: 'metric',
  name: 'loss',
  value: step / 2,
  step,
  kind: 'user',
  cell_id: 'c1',
  cell_index: 0
});

const print = (seq: number, text: string, cell = 'c1'): JobEvent => ({
  seq,
  time: 1763906700000 + seq,
  type: 'output',
  cell_id: cell,
  cell_index: 0,
  output: { output_type: 'stream', name: 'stdout', text }
});

const log = (seq: number): JobEvent => ({
  seq,
  time: 1,
  type: 'log',
  level: 'info',
  message: `line ${seq}`
});

describe('event table', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = tmpDir();
    store = new Store(path.join(dir, 'nbqueue.db'));
    store.insertJob(job('j-1'), NOTEBOOK);
  });
  afterEach(() => store.close());

  const rows = (table: string) => {
    const db = new Database(path.join(dir, 'nbqueue.db'), { readonly: true });
    try {
      return (
        db
          .prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE job_id = 'j-1'`)
          .get() as { n: number }
      ).n;
    } finally {
      db.close();
    }
  };

  test('a point is one metrics row; replay merges both tables in seq order, out-of-order arrival included', () => {
    const all = [
      log(1),
      metric(2, 0),
      print(3, 'a'),
      metric(4, 1),
      metric(5, 2),
      print(6, 'b')
    ];
    expect(store.appendEvents('j-1', all.slice(3))).toMatchObject({
      before: 0,
      after: 0
    });
    expect(store.appendEvents('j-1', all.slice(0, 3))).toMatchObject({
      before: 0,
      after: 6,
      inserted: 3
    });
    expect(store.appendEvents('j-1', all).inserted).toBe(0); // a resent batch
    expect(rows('metrics')).toBe(3);
    expect(rows('events')).toBe(3);
    expect(store.listEvents('j-1', 0, 100)).toEqual(all);
    expect(store.listEvents('j-1', 1, 2)).toEqual(all.slice(1, 3));
    expect(store.listEvents('j-1', 3, 2)).toEqual(all.slice(3, 5));
  });

  test('a store written before points were stored once replays each of them once', () => {
    store.appendEvents('j-1', [log(1), print(3, 'x')]);
    store.metrics.append('j-1', [metric(2, 0)]);
    const db = new Database(path.join(dir, 'nbqueue.db'));
    db.prepare('INSERT INTO events (job_id, seq, body) VALUES (?, ?, ?)').run(
      'j-1',
      2,
      JSON.stringify(metric(2, 0))
    );
    db.close();
    store.appendEvents('j-1', [log(4)]);
    expect(store.listEvents('j-1', 0, 100).map(e => e.seq)).toEqual([
      1, 2, 3, 4
    ]);
  });

  test('past the bytes cap: one marker in the last cell seen, nothing more stored, the mark goes on', () => {
    const caps = { events: 1000, bytes: 600 };
    store.appendEvents('j-1', [print(1, 'x'.repeat(450), 'c7')], caps);
    const answer = store.appendEvents(
      'j-1',
      [log(2), print(3, 'y'), metric(4, 0), log(5)],
      caps
    );
    expect(answer).toEqual({ before: 1, after: 5, inserted: 4 });
    store.appendEvents('j-1', [log(7)], caps);
    expect(store.appendEvents('j-1', [log(6)], caps).after).toBe(7);
    const events = store.listEvents('j-1', 0, 100);
    expect(events.map(e => e.seq)).toEqual([1, 2]);
    expect(events[1]).toEqual({
      seq: 2,
      time: 1,
      type: 'output',
      cell_id: 'c7',
      cell_index: 0,
      output: {
        output_type: 'stream',
        name: 'stderr',
        text: 'Output truncated: this job passed 600 bytes of events (limits.event_bytes_per_job); the rest is in the result notebook.\n'
      }
    });
    expect(rows('metrics')).toBe(0);
    expect(store.getJob('j-1')?.last_seq).toBe(2); // clients: the last stored event
  });

  test('past the events cap with no cell yet: the marker is a log warning', () => {
    const caps = { events: 2, bytes: Infinity };
    expect(
      store.appendEvents('j-1', [log(1), log(2), log(3), log(4)], caps).after
    ).toBe(4);
    const events = store.listEvents('j-1', 0, 100);
    expect(events).toHaveLength(3);
    expect(events[2]).toMatchObject({
      seq: 3,
      type: 'log',
      level: 'warning',
      message:
        'Output truncated: this job passed 2 events (limits.events_per_job); the rest is in the result notebook.'
    });
    expect(store.getJob('j-1')?.last_seq).toBe(3);
  });
});
