import { Store } from '../src/store/store';
import type { JobEvent, JobRecord } from '../src/jobs/types';

const NOTEBOOK = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] };

function job(id: string, profile = 'gpu-1'): JobRecord {
  return {
    id,
    owner: 'alice',
    name: id,
    profile,
    queue: profile,
    priority: 'normal',
    state: 'queued',
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
    attempt: 1,
    restarts: [],
    has_result: false
  };
}

const update = (seq: number, displayId: string, points: number): JobEvent => ({
  seq,
  time: 1763906700000 + seq,
  type: 'update_display_data',
  display_id: displayId,
  output: {
    output_type: 'display_data',
    data: { 'text/plain': `${points} points` },
    metadata: {}
  }
});

describe('store', () => {
  let store: Store;
  beforeEach(() => {
    store = new Store(':memory:');
    store.insertJob(job('j-1'), NOTEBOOK);
  });
  afterEach(() => store.close());

  test('keeps only the latest update of each display, the others as seq-keeping markers', () => {
    store.appendEvents('j-1', [
      update(1, 'chart-a', 1),
      update(2, 'chart-b', 1),
      update(3, 'chart-a', 2)
    ]);
    // Arriving late (after 5): superseded as it is stored.
    store.appendEvents('j-1', [update(5, 'chart-a', 4)]);
    store.appendEvents('j-1', [update(4, 'chart-a', 3)]);
    // A re-sent batch changes nothing.
    store.appendEvents('j-1', [update(5, 'chart-a', 4)]);

    const events = store.listEvents('j-1', 0, 100);
    expect(events.map(e => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map(e => e.superseded_by ?? null)).toEqual([
      3,
      null,
      5,
      5,
      null
    ]);
    expect(events.filter(e => 'output' in e).map(e => e.seq)).toEqual([2, 5]);
    expect((events[4].output as { data: object }).data).toEqual({
      'text/plain': '4 points'
    });
    expect(store.getJob('j-1')?.last_seq).toBe(5);
  });

  test('serves the queued rows from memory, in step with inserts and updates', () => {
    store.insertJob(job('j-2', 'cpu'), NOTEBOOK);
    expect(store.listQueue().map(r => r.id)).toEqual(['j-1', 'j-2']);
    // Read once, then extended by an insert without a read.
    store.insertJob(job('j-3'), NOTEBOOK);
    expect(store.listQueue('gpu-1').map(r => r.id)).toEqual(['j-1', 'j-3']);
    store.updateJob('j-1', { state: 'running' });
    store.updateJob('j-3', { held: true });
    expect(store.listQueue().map(r => [r.id, r.held])).toEqual([
      ['j-2', 0],
      ['j-3', 1]
    ]);
    // Callers may sort or filter what they get without changing the store's copy.
    store.listQueue().reverse();
    expect(store.listQueue().map(r => r.id)).toEqual(['j-2', 'j-3']);
    expect(store.countJobs(['running'])).toBe(1);
    expect(store.countJobs(['queued'], 'gpu-1')).toBe(1);
  });

  test('a group of inserts is stored whole or not at all, and the queue hears only of a stored one', () => {
    const heard: string[] = [];
    store.watchQueue(id => heard.push(id));
    store.insertJobs([
      { job: job('j-2'), notebook: NOTEBOOK },
      { job: job('j-3', 'cpu'), notebook: NOTEBOOK }
    ]);
    expect(heard).toEqual(['j-2', 'j-3']);
    // A second j-3 fails the group's transaction: j-4 is not stored either.
    expect(() =>
      store.insertJobs([
        { job: job('j-4'), notebook: NOTEBOOK },
        { job: job('j-3'), notebook: NOTEBOOK }
      ])
    ).toThrow(/UNIQUE/);
    expect(store.getJob('j-4')).toBeUndefined();
    expect(store.listQueue().map(r => r.id)).toEqual(['j-1', 'j-2', 'j-3']);
    expect(heard).toEqual(['j-2', 'j-3']);
  });
});
