/**
 * The calibrated ETA (server/src/queue/estimate): unit and property tests of the pure
 * estimator and of the incremental duration history.
 */
import fc from 'fast-check';
import { DurationHistory, Run } from '../src/queue/estimate/history';
import {
  JobEstimate,
  PoolInput,
  estimatePool
} from '../src/queue/estimate/pool';
import { StartCalibration } from '../src/queue/estimate/calibration';
import { quantile, seededRandom } from '../src/queue/estimate/quantiles';
import { StartTracker } from '../src/jobs/startTracker';
import type { JobRecord } from '../src/jobs/types';

function history(
  runs: Run[],
  options = { window: 200, minUserJobs: 20 }
): DurationHistory {
  // The source gives newest first, as the store does.
  return new DurationHistory(() => [...runs].reverse(), options);
}

function pool(over: Partial<PoolInput> & { runs?: Run[] }): PoolInput {
  return {
    profile: 'gpu-1',
    capacity: 1,
    running: [],
    queued: [],
    history: history(over.runs ?? []).view('gpu-1'),
    ...over
  };
}

const runsOf = (owner: string, seconds: number[]): Run[] =>
  seconds.map(s => ({ owner, seconds: s }));

describe('calibrated ETA estimator', () => {
  test('unknown without history: null ranges and a reason', () => {
    const out = estimatePool(
      pool({
        running: [{ id: 'r', owner: 'ann', elapsed: 30 }],
        queued: [{ id: 'q', owner: 'bob' }]
      })
    );
    for (const id of ['r', 'q'])
      expect(out.get(id)).toEqual({
        start: null,
        end: null,
        basis: 'unknown: no finished jobs on profile gpu-1 yet'
      });
  });

  test('a free slot starts now; the next waits for the first to end', () => {
    const out = estimatePool(
      pool({
        capacity: 1,
        queued: [
          { id: 'a', owner: 'ann' },
          { id: 'b', owner: 'ann' }
        ],
        runs: runsOf('x', [100, 100, 100])
      })
    );
    expect(out.get('a')?.start).toEqual({ seconds: 0, low: 0, high: 0 });
    // Three runs of 100 s: the smoothed draws stay near 100 s, the range around it.
    const end = out.get('a')?.end as NonNullable<JobEstimate['end']>;
    expect(Math.abs(end.seconds - 100)).toBeLessThanOrEqual(3);
    expect(end.low).toBeLessThan(100);
    expect(end.high).toBeGreaterThan(100);
    expect(end.high).toBeLessThan(150);
    expect(out.get('b')?.start).toEqual(end);
  });

  test("a running job's remaining time is conditioned on its elapsed time", () => {
    // Runs of 10 s and 1000 s: a job 500 s in is a long one, ending in 500 s, not now.
    const runs = runsOf('x', [10, 10, 10, 1000]);
    const out = estimatePool(
      pool({
        running: [{ id: 'r', owner: 'ann', elapsed: 500 }],
        queued: [{ id: 'q', owner: 'bob' }],
        runs
      })
    );
    expect(out.get('r')?.start).toBeNull();
    expect(out.get('r')?.end?.seconds).toBe(500);
    expect(out.get('q')?.start?.seconds).toBe(500);
  });

  test("a user's own history is used only with enough of it", () => {
    const mine = runsOf('ann', Array(20).fill(1000));
    const others = runsOf('bob', Array(100).fill(10));
    const few = estimatePool(
      pool({
        queued: [{ id: 'q', owner: 'ann' }],
        runs: [...others, ...mine.slice(0, 19)]
      })
    ).get('q') as JobEstimate;
    expect(Math.abs((few.end?.seconds as number) - 10)).toBeLessThanOrEqual(3);
    expect(few.basis).toMatch(/last 119 gpu-1 jobs/);
    const enough = estimatePool(
      pool({ queued: [{ id: 'q', owner: 'ann' }], runs: [...others, ...mine] })
    ).get('q') as JobEstimate;
    expect(Math.abs((enough.end?.seconds as number) - 1000)).toBeLessThan(30);
    expect(enough.basis).toMatch(/ann's last 20 gpu-1 jobs/);
  });

  test('past the simulated depth the queue is extrapolated at the throughput', () => {
    const queued = Array.from({ length: 520 }, (_, i) => ({
      id: `q${i}`,
      owner: 'u'
    }));
    const out = estimatePool(
      pool({ capacity: 2, queued, runs: runsOf('x', [100]) })
    );
    // 2 slots, about 100 s each: job k starts near floor(k/2)*100, and 20 jobs later 1000 s on.
    const at499 = out.get('q499')?.start?.seconds as number;
    expect(Math.abs(at499 - 24900)).toBeLessThan(500);
    expect(out.get('q519')?.start?.seconds).toBe(at499 + 1000);
    expect(out.get('q519')?.basis).toMatch(/extrapolated/);
  });

  test('properties: ordered ranges, starts never earlier down the queue, deterministic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 5000, noNaN: true }), {
          minLength: 1,
          maxLength: 60
        }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.double({ min: 0, max: 8000, noNaN: true }), {
          maxLength: 5
        }),
        fc.integer({ min: 0, max: 30 }),
        (durations, capacity, elapsed, queuedCount) => {
          const input = pool({
            capacity,
            running: elapsed.map((e, i) => ({
              id: `r${i}`,
              owner: 'u',
              elapsed: e
            })),
            queued: Array.from({ length: queuedCount }, (_, i) => ({
              id: `q${i}`,
              owner: i % 2 ? 'u' : 'v'
            })),
            runs: runsOf('x', durations)
          });
          const out = estimatePool(input);
          expect(estimatePool(input)).toEqual(out);
          let previous = -1;
          for (let i = 0; i < queuedCount; i++) {
            const e = out.get(`q${i}`) as JobEstimate;
            const start = e.start as NonNullable<JobEstimate['start']>;
            const end = e.end as NonNullable<JobEstimate['end']>;
            expect(start.low).toBeLessThanOrEqual(start.seconds);
            expect(start.seconds).toBeLessThanOrEqual(start.high);
            expect(end.low).toBeLessThanOrEqual(end.seconds);
            expect(end.seconds).toBeLessThanOrEqual(end.high);
            expect(end.low).toBeGreaterThanOrEqual(start.low);
            // Admission order: a later job cannot be expected to start earlier.
            expect(start.seconds).toBeGreaterThanOrEqual(previous);
            previous = start.seconds;
          }
          for (let i = 0; i < elapsed.length; i++) {
            const e = out.get(`r${i}`) as JobEstimate;
            expect(e.start).toBeNull();
            expect(e.end?.low).toBeGreaterThanOrEqual(0);
          }
        }
      ),
      { numRuns: 60 }
    );
  });

  test('property: quantiles are monotone in q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), {
          minLength: 1
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, a, b) => {
          const sorted = [...values].sort((x, y) => x - y);
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(quantile(sorted, lo)).toBeLessThanOrEqual(
            quantile(sorted, hi)
          );
          expect(quantile(sorted, 0) === sorted[0]).toBe(true);
          expect(quantile(sorted, 1) === sorted[sorted.length - 1]).toBe(true);
        }
      )
    );
  });
});

describe('duration history', () => {
  test('read once from the store, then kept current as jobs succeed', () => {
    let reads = 0;
    const h = new DurationHistory(
      () => {
        reads += 1;
        return runsOf('ann', [30, 20, 10]);
      },
      { window: 4, minUserJobs: 2 }
    );
    expect(h.view('cpu').all).toEqual([10, 20, 30]);
    h.record('cpu', { owner: 'bob', seconds: 5 });
    h.record('cpu', { owner: 'bob', seconds: 50 });
    // The window keeps the newest 4: the 10 s run left, and left ann's list too.
    expect(h.view('cpu').all).toEqual([5, 20, 30, 50]);
    expect(h.view('cpu').user('ann')).toEqual([20, 30]);
    expect(h.view('cpu').user('bob')).toEqual([5, 50]);
    h.record('cpu', { owner: 'bob', seconds: 7 });
    expect(h.view('cpu').user('ann')).toBeUndefined();
    expect(reads).toBe(1);
  });

  test('a run recorded before the profile is read is not counted twice', () => {
    const h = new DurationHistory(() => runsOf('ann', [10]), {
      window: 10,
      minUserJobs: 1
    });
    h.record('cpu', { owner: 'ann', seconds: 10 });
    expect(h.view('cpu').all).toEqual([10]);
  });
});

describe('start calibration', () => {
  const options = { window: 200, minScores: 20, coverage: 0.9 };

  test('the raw range until enough starts are seen', () => {
    const c = new StartCalibration(options);
    for (let i = 0; i < 19; i++)
      c.observe('cpu', { seconds: 100, low: 50, high: 150 }, 1000);
    expect(c.adjust('cpu', { seconds: 100, low: 50, high: 150 })).toEqual({
      seconds: 100,
      low: 50,
      high: 150
    });
  });

  test('ranges that were too narrow widen until they cover the share asked', () => {
    // Real waits are the prediction times a spread factor the raw range does not know of.
    const c = new StartCalibration(options);
    const random = seededRandom(3);
    const real = () => 600 * Math.exp(1.5 * (random() - 0.5) * 2);
    const raw = { seconds: 600, low: 500, high: 700 };
    for (let i = 0; i < 200; i++) c.observe('gpu-1', raw, real());
    const adjusted = c.adjust('gpu-1', raw);
    let inside = 0;
    for (let i = 0; i < 2000; i++) {
      const r = real();
      if (r >= adjusted.low && r <= adjusted.high) inside += 1;
    }
    expect(inside / 2000).toBeGreaterThan(0.85);
    expect(inside / 2000).toBeLessThan(0.96);
    expect(adjusted.seconds).toBe(600);
    // Another profile is not touched.
    expect(c.adjust('cpu', raw)).toEqual(raw);
  });

  test('the tracker scores a job against its first prediction once it started', () => {
    const c = new StartCalibration({ ...options, minScores: 1 });
    const t = new StartTracker(c);
    const raw = { seconds: 60, low: 30, high: 90 };
    t.predict('cpu', 'a', raw, 0);
    // A later, different prediction does not replace the first.
    t.predict('cpu', 'a', { seconds: 5, low: 1, high: 9 }, 50_000);
    t.predict('cpu', 'b', raw, 0);
    // Still queued: not scored; gone without a start (b, cancelled): dropped.
    t.settle('cpu', new Set(['a', 'b']), () => undefined);
    expect(c.seen('cpu')).toBe(0);
    t.settle('cpu', new Set(), id =>
      id === 'a'
        ? ({
            state: 'running',
            started_at: new Date(600_000).toISOString()
          } as unknown as JobRecord)
        : undefined
    );
    // a waited 600 s against [30, 90]: the range widens to reach it.
    expect(c.seen('cpu')).toBe(1);
    expect(c.adjust('cpu', raw).high).toBeGreaterThanOrEqual(599);
  });
});
