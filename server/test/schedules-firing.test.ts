/**
 * The firing loop on a clock the test moves: daily schedules across the Europe/Berlin DST
 * changes, overlap, missed firings across a restart (a new service on the same SQLite file),
 * end_at and pause.
 */
import type { JobRecord } from '../src/jobs/types';
import { ALICE, body, dbFile, harness, Harness } from './schedulesHarness';

const ACTIVE = ['queued', 'starting', 'running'];

/** The schedule's jobs, oldest first. */
const jobsOf = (h: Harness, id: string): JobRecord[] =>
  h.store
    .listJobs()
    .filter(j => j.spec.schedule_id === id)
    .sort((a, b) => a.position_key - b.position_key);

/**
 * Lets time pass up to `until` as the loop's timer asks for it, firing whatever comes due;
 * with `finish`, each job ends (succeeded) right after it is submitted.
 */
async function advance(h: Harness, until: string, finish = true) {
  const end = Date.parse(until);
  for (;;) {
    const pending = h.timer.pending;
    expect(pending).toBeDefined();
    const at = h.now().getTime() + (pending as { ms: number }).ms;
    if (at > end) break;
    h.at(new Date(at).toISOString());
    pending?.fn();
    await h.loop.tick();
    if (finish)
      for (const j of h.store.listJobs())
        if (ACTIVE.includes(j.state))
          h.jobs.lifecycle.end(j.id, 'succeeded', null);
  }
  h.at(until);
}

describe('daily 02:30 in Europe/Berlin across the DST changes', () => {
  const daily = () => body({ cron: '30 2 * * *', timezone: 'Europe/Berlin' });

  test('spring: 02:30 does not exist on 29 March; croner fires at 03:00 CEST that day, once', async () => {
    const h = harness(dbFile(), '2026-03-27T12:00:00Z');
    const s = h.schedules.create(ALICE, daily());
    expect(s.next_run_at).toBe('2026-03-28T01:30:00.000Z');
    expect(s.description).toBe('every day at 02:30 Europe/Berlin');
    await h.loop.start();
    await advance(h, '2026-03-31T00:00:00Z');
    const jobs = jobsOf(h, s.id);
    expect(jobs.map(j => j.spec.scheduled_for)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: the first minute after the gap
      '2026-03-30T00:30:00.000Z' // 02:30 CEST
    ]);
    expect(jobs[1].spec.parameters).toEqual({
      day: '2026-03-29',
      stamp: 'at 2026-03-29T03:00:00+02:00'
    });
    expect(jobs.map(j => j.owner)).toEqual(['alice', 'alice', 'alice']);
    h.close();
  });

  test('autumn: 02:30 happens twice on 25 October; it fires once (the first, CEST)', async () => {
    const h = harness(dbFile(), '2026-10-23T12:00:00Z');
    const s = h.schedules.create(ALICE, daily());
    await h.loop.start();
    await advance(h, '2026-10-27T00:00:00Z');
    const jobs = jobsOf(h, s.id);
    expect(jobs.map(j => j.spec.scheduled_for)).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not fire again
      '2026-10-26T01:30:00.000Z'
    ]);
    expect(jobs.map(j => j.spec.parameters.day)).toEqual([
      '2026-10-24',
      '2026-10-25',
      '2026-10-26'
    ]);
    h.close();
  });
});

describe('overlap', () => {
  const every5 = (overlap: string) => body({ cron: '*/5 * * * *', overlap });

  test('skip: no new job while the previous one is still going, and why is recorded', async () => {
    const h = harness(dbFile(), '2026-01-01T00:00:30Z');
    const s = h.schedules.create(ALICE, every5('skip'));
    await h.loop.start();
    await advance(h, '2026-01-01T00:05:30Z', false);
    const [first] = jobsOf(h, s.id);
    expect(first.state).toBe('starting');
    await advance(h, '2026-01-01T00:10:30Z', false);
    expect(jobsOf(h, s.id)).toHaveLength(1);
    const skipped = h.schedules.get(ALICE, s.id);
    expect(skipped.last_outcome).toBe(
      `skipped 2026-01-01T00:10:00.000Z: job ${first.id} is still starting (overlap: skip)`
    );
    expect(skipped.last_run_at).toBe('2026-01-01T00:10:00.000Z');
    expect(skipped.next_run_at).toBe('2026-01-01T00:15:00.000Z');
    h.jobs.lifecycle.end(first.id, 'succeeded', null);
    await advance(h, '2026-01-01T00:15:30Z', false);
    expect(jobsOf(h, s.id).map(j => j.spec.scheduled_for)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:15:00.000Z'
    ]);
    expect(h.schedules.get(ALICE, s.id).last_outcome).toBeNull();
    h.close();
  });

  test('queue: submits anyway', async () => {
    const h = harness(dbFile(), '2026-01-01T00:00:30Z');
    const s = h.schedules.create(ALICE, every5('queue'));
    await h.loop.start();
    await advance(h, '2026-01-01T00:15:30Z', false);
    const jobs = jobsOf(h, s.id);
    expect(jobs).toHaveLength(3);
    expect(jobs.every(j => ACTIVE.includes(j.state))).toBe(true);
    h.close();
  });

  test('cancel_previous: the previous job is cancelled, then the new one submitted', async () => {
    const h = harness(dbFile(), '2026-01-01T00:00:30Z');
    const s = h.schedules.create(ALICE, every5('cancel_previous'));
    await h.loop.start();
    await advance(h, '2026-01-01T00:10:30Z', false);
    const [first, second] = jobsOf(h, s.id);
    expect(first.state).toBe('cancelled');
    expect(second.state).toBe('starting');
    expect(h.schedules.get(ALICE, s.id).last_job_id).toBe(second.id);
    h.close();
  });
});

describe('missed firings across a restart', () => {
  const daily3 = (missed: string) => body({ cron: '0 3 * * *', missed });

  test('skip: none of the missed ones; the next is the next future one', async () => {
    const file = dbFile();
    const before = harness(file, '2026-01-01T12:00:00Z');
    const s = before.schedules.create(ALICE, daily3('skip'));
    await before.loop.start();
    before.close();
    // Down from 1 January 12:00 to 4 January 10:00: three 03:00s passed.
    const after = harness(file, '2026-01-04T10:00:00Z');
    await after.loop.start();
    expect(jobsOf(after, s.id)).toEqual([]);
    const seen = after.schedules.get(ALICE, s.id);
    expect(seen.next_run_at).toBe('2026-01-05T03:00:00.000Z');
    expect(seen.last_outcome).toMatch(
      /^skipped: 3 firing times up to 2026-01-04T03:00:00.000Z passed while the sidecar was down/
    );
    after.close();
  });

  test('run_once: one job for the latest missed time, and a second restart does not repeat it', async () => {
    const file = dbFile();
    const before = harness(file, '2026-01-01T12:00:00Z');
    const s = before.schedules.create(ALICE, daily3('run_once'));
    before.close();
    const after = harness(file, '2026-01-04T10:00:00Z');
    await after.loop.start();
    const jobs = jobsOf(after, s.id);
    expect(jobs.map(j => j.spec.scheduled_for)).toEqual([
      '2026-01-04T03:00:00.000Z'
    ]);
    expect(jobs[0].spec.parameters.day).toBe('2026-01-04');
    after.close();
    const again = harness(file, '2026-01-04T10:05:00Z');
    await again.loop.start();
    expect(jobsOf(again, s.id)).toHaveLength(1);
    expect(again.schedules.get(ALICE, s.id).next_run_at).toBe(
      '2026-01-05T03:00:00.000Z'
    );
    again.close();
  });

  test('a restart just after a firing time (within the grace) fires it on time, missed: skip or not', async () => {
    const file = dbFile();
    const before = harness(file, '2026-01-01T12:00:00Z');
    const s = before.schedules.create(ALICE, daily3('skip'));
    before.close();
    const after = harness(file, '2026-01-02T03:00:20Z');
    await after.loop.start();
    expect(jobsOf(after, s.id).map(j => j.spec.scheduled_for)).toEqual([
      '2026-01-02T03:00:00.000Z'
    ]);
    after.close();
  });

  test('a firing is marked once: a second claim of the same time is refused', () => {
    const h = harness(dbFile(), '2026-01-01T12:00:00Z');
    const s = h.schedules.create(ALICE, daily3('skip'));
    const mark = {
      last_run_at: s.next_run_at,
      next_run_at: '2026-01-03T03:00:00.000Z',
      last_outcome: null
    };
    expect(
      h.store.schedules.claimFiring(s.id, s.next_run_at as string, mark)
    ).toBe(true);
    expect(
      h.store.schedules.claimFiring(s.id, s.next_run_at as string, mark)
    ).toBe(false);
    h.close();
  });
});

test('end_at: no firing after it, and next_run_at becomes null', async () => {
  const h = harness(dbFile(), '2026-01-01T12:00:00Z');
  const s = h.schedules.create(
    ALICE,
    body({ cron: '0 3 * * *', end_at: '2026-01-03T12:00:00+00:00' })
  );
  expect(s.end_at).toBe('2026-01-03T12:00:00.000Z');
  await h.loop.start();
  await advance(h, '2026-01-06T00:00:00Z');
  expect(jobsOf(h, s.id).map(j => j.spec.scheduled_for)).toEqual([
    '2026-01-02T03:00:00.000Z',
    '2026-01-03T03:00:00.000Z'
  ]);
  expect(h.schedules.get(ALICE, s.id).next_run_at).toBeNull();
  h.close();
});

test('pause: nothing fires; resume fires from the next time after now, without the paused ones', async () => {
  const h = harness(dbFile(), '2026-01-01T12:00:00Z');
  const s = h.schedules.create(ALICE, body({ cron: '0 3 * * *' }));
  await h.loop.start();
  expect(h.schedules.pause(ALICE, s.id)).toMatchObject({
    paused: true,
    next_run_at: null
  });
  await advance(h, '2026-01-04T00:00:00Z');
  expect(jobsOf(h, s.id)).toEqual([]);
  h.at('2026-01-04T10:00:00Z');
  expect(h.schedules.resume(ALICE, s.id)).toMatchObject({
    paused: false,
    next_run_at: '2026-01-05T03:00:00.000Z'
  });
  await advance(h, '2026-01-05T04:00:00Z');
  expect(jobsOf(h, s.id).map(j => j.spec.scheduled_for)).toEqual([
    '2026-01-05T03:00:00.000Z'
  ]);
  h.close();
});
