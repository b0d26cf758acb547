import fc from 'fast-check';
import {
  admissionOrder,
  decideAdmissions,
  firstChoices,
  orderedAdmissions,
  QueuedJob,
  queuePositions
} from '../src/queue/scheduler';

const users = ['alice', 'bob', 'carol'];
const pools = ['cpu', 'gpu-1'];

const jobArb = fc.record({
  owner: fc.constantFrom(...users),
  pool: fc.constantFrom(...pools),
  priorityRank: fc.integer({ min: 0, max: 3 }),
  positionKey: fc.integer({ min: 0, max: 1000 })
});

const inputArb = fc.record({
  jobs: fc.array(jobArb, { maxLength: 40 }),
  capacity: fc.record({
    cpu: fc.integer({ min: 0, max: 5 }),
    'gpu-1': fc.integer({ min: 0, max: 5 })
  }),
  running: fc.record({
    cpu: fc.integer({ min: 0, max: 6 }),
    'gpu-1': fc.integer({ min: 0, max: 6 })
  }),
  runningByUser: fc.record({
    alice: fc.nat(4),
    bob: fc.nat(4),
    carol: fc.nat(4)
  })
});

type Input = typeof inputArb extends fc.Arbitrary<infer T> ? T : never;

function build(input: Input) {
  const queued: QueuedJob[] = input.jobs.map((j, i) => ({
    ...j,
    id: `j${String(i).padStart(3, '0')}`
  }));
  const poolState = Object.fromEntries(
    pools.map(p => [
      p,
      {
        capacity: input.capacity[p as 'cpu'],
        running: input.running[p as 'cpu']
      }
    ])
  );
  return { queued, pools: poolState, runningByUser: input.runningByUser };
}

describe('scheduler (pure admission)', () => {
  test('the one-pass pick for single free slots equals the first of the admission order', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.record({ cpu: fc.nat(1), 'gpu-1': fc.nat(1) }),
        (input, held, free) => {
          const s = build(input);
          s.queued.forEach((job, i) => (job.held = held[i]));
          for (const pool of pools) {
            s.pools[pool].running = Math.max(
              0,
              s.pools[pool].capacity - free[pool as 'cpu']
            );
          }
          const fast = firstChoices(s);
          expect(fast).not.toBeNull();
          expect(fast).toEqual(orderedAdmissions(s));
          expect(decideAdmissions(s)).toEqual(fast);
        }
      ),
      { numRuns: 500 }
    );
  });

  test('the one-pass pick stands aside where it cannot decide', () => {
    const job: QueuedJob = {
      id: 'j1',
      owner: 'alice',
      pool: 'cpu',
      priorityRank: 1,
      positionKey: 1
    };
    const base = {
      queued: [job],
      pools: { cpu: { capacity: 1, running: 0 } },
      runningByUser: {}
    };
    expect(firstChoices(base)).toEqual(['j1']);
    expect(
      firstChoices({ ...base, pools: { cpu: { capacity: 2, running: 0 } } })
    ).toBeNull();
    expect(firstChoices({ ...base, maxRunningPerUser: 1 })).toBeNull();
    expect(
      firstChoices({ ...base, queues: { cpu: { capacity: 1, running: 0 } } })
    ).toBeNull();
    expect(
      firstChoices({ ...base, pools: { cpu: { capacity: 1, running: 1 } } })
    ).toEqual([]);
  });

  test("never exceeds a pool's capacity, and fills what is free", () => {
    fc.assert(
      fc.property(inputArb, input => {
        const s = build(input);
        const admitted = new Set(decideAdmissions(s));
        for (const pool of pools) {
          const inPool = s.queued.filter(j => j.pool === pool);
          const n = inPool.filter(j => admitted.has(j.id)).length;
          const free = Math.max(
            0,
            s.pools[pool].capacity - s.pools[pool].running
          );
          expect(n).toBeLessThanOrEqual(free);
          expect(n).toBe(Math.min(free, inPool.length));
        }
      })
    );
  });

  test('a higher priority never waits behind a lower one in the same pool', () => {
    fc.assert(
      fc.property(inputArb, input => {
        const s = build(input);
        const admitted = new Set(decideAdmissions(s));
        for (const pool of pools) {
          const inPool = s.queued.filter(j => j.pool === pool);
          const lowestAdmitted = Math.min(
            ...inPool.filter(j => admitted.has(j.id)).map(j => j.priorityRank)
          );
          const highestWaiting = Math.max(
            ...inPool.filter(j => !admitted.has(j.id)).map(j => j.priorityRank)
          );
          expect(highestWaiting <= lowestAdmitted).toBe(true);
        }
      })
    );
  });

  test('at equal priority no user is starved: the order interleaves users by running share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...users), { minLength: 1, maxLength: 30 }),
        owners => {
          const jobs: QueuedJob[] = owners.map((owner, i) => ({
            id: `j${i}`,
            owner,
            pool: 'cpu',
            priorityRank: 1,
            positionKey: i
          }));
          const order = admissionOrder(jobs, {});
          // Among the first k admitted, no user has more than one job more than any other
          // user who still had jobs waiting at that point.
          const count = new Map<string, number>();
          const remaining = new Map<string, number>();
          for (const o of owners) remaining.set(o, (remaining.get(o) ?? 0) + 1);
          for (const job of order) {
            const mine = count.get(job.owner) ?? 0;
            for (const [other, left] of remaining) {
              if (other !== job.owner && left > 0)
                expect(mine).toBeLessThanOrEqual(count.get(other) ?? 0);
            }
            count.set(job.owner, mine + 1);
            remaining.set(job.owner, (remaining.get(job.owner) ?? 0) - 1);
          }
        }
      )
    );
  });

  test('FIFO within one user at one priority', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10000 }), {
          minLength: 1,
          maxLength: 20
        }),
        keys => {
          const jobs = keys.map((k, i) => ({
            id: `j${i}`,
            owner: 'alice',
            pool: 'cpu',
            priorityRank: 1,
            positionKey: k
          }));
          const order = admissionOrder(jobs, {}).map(j => j.positionKey);
          expect(order).toEqual([...keys].sort((a, b) => a - b));
        }
      )
    );
  });

  test('queue positions are 1..n per queue and agree with admission order', () => {
    fc.assert(
      fc.property(inputArb, input => {
        const s = build(input);
        const positions = queuePositions(
          s.queued.map(j => ({ ...j, queue: j.pool })),
          s.runningByUser
        );
        for (const pool of pools) {
          const inPool = s.queued.filter(j => j.pool === pool);
          const pos = inPool
            .map(j => positions.get(j.id) as number)
            .sort((a, b) => a - b);
          expect(pos).toEqual(inPool.map((_, i) => i + 1));
          const free = Math.max(
            0,
            s.pools[pool].capacity - s.pools[pool].running
          );
          const admitted = new Set(decideAdmissions(s));
          for (const j of inPool)
            expect(admitted.has(j.id)).toBe(
              (positions.get(j.id) as number) <= free
            );
        }
      })
    );
  });
});

/** The O(n²) definition the heap-based order must equal: repeatedly take the best job. */
function referenceOrder(
  jobs: QueuedJob[],
  runningByUser: Record<string, number>
): string[] {
  const share = new Map(Object.entries(runningByUser));
  const left = [...jobs];
  const out: string[] = [];
  const better = (a: QueuedJob, b: QueuedJob) => {
    if (a.priorityRank !== b.priorityRank)
      return a.priorityRank > b.priorityRank;
    const sa = share.get(a.owner) ?? 0;
    const sb = share.get(b.owner) ?? 0;
    if (sa !== sb) return sa < sb;
    if (a.positionKey !== b.positionKey) return a.positionKey < b.positionKey;
    return a.id < b.id;
  };
  while (left.length) {
    let best = 0;
    for (let i = 1; i < left.length; i++)
      if (better(left[i], left[best])) best = i;
    const [job] = left.splice(best, 1);
    out.push(job.id);
    share.set(job.owner, (share.get(job.owner) ?? 0) + 1);
  }
  return out;
}

describe('scheduler limits', () => {
  test('the heap-based order equals the definition', () => {
    fc.assert(
      fc.property(inputArb, input => {
        const s = build(input);
        expect(
          admissionOrder(s.queued, s.runningByUser).map(j => j.id)
        ).toEqual(referenceOrder(s.queued, s.runningByUser));
      })
    );
  });

  test('a queue with its own capacity never runs more than it', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (input, cap, running) => {
          const s = build(input);
          const queued = s.queued.map((j, i) => ({
            ...j,
            queue: i % 2 ? 'small' : j.pool
          }));
          const admitted = new Set(
            decideAdmissions({
              ...s,
              queued,
              queues: { small: { capacity: cap, running } }
            })
          );
          const inSmall = queued.filter(
            j => j.queue === 'small' && admitted.has(j.id)
          ).length;
          expect(inSmall).toBeLessThanOrEqual(Math.max(0, cap - running));
        }
      )
    );
  });

  test('no user runs more than the per-user limit', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 4 }), (input, limit) => {
        const s = build(input);
        const admitted = new Set(
          decideAdmissions({ ...s, maxRunningPerUser: limit })
        );
        for (const user of users) {
          const mine = s.queued.filter(
            j => j.owner === user && admitted.has(j.id)
          ).length;
          const before = (s.runningByUser as Record<string, number>)[user] ?? 0;
          expect(mine === 0 || before + mine <= limit).toBe(true);
        }
      })
    );
  });
});
