/**
 * The queue index (server/src/queue/queueIndex.ts) against the scheduler's own order: after any
 * sequence of inserts, removals, priority changes, holds, reorders and moves, every position,
 * every pool order, why each job waits and every decision equal what the pure functions compute
 * from the whole queue (a brute-force sort).
 */
import fc from 'fast-check';
import { QueueIndex } from '../src/queue/queueIndex';
import {
  QueuedJob,
  SchedulerInput,
  admissionOrder,
  decideAdmissions,
  queuePositions
} from '../src/queue/scheduler';
import { WaitingInput, explainQueue, waitingAt } from '../src/queue/waiting';

const OWNERS = ['ann', 'bob', 'cy', 'dee'];
const POOLS = ['cpu', 'gpu'];
/** Queues: two serve the gpu pool, so a queue's order and its pool's differ. */
const QUEUES: Record<string, string> = { cpu: 'cpu', gpu: 'gpu', big: 'gpu' };
const PRIORITIES = ['low', 'normal', 'high'];

type Op =
  | { op: 'insert'; owner: number; queue: number; rank: number; key: number }
  | {
      op: 'remove' | 'hold' | 'priority' | 'move' | 'reorder';
      at: number;
      n: number;
    };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      owner: fc.nat(OWNERS.length - 1),
      queue: fc.nat(2),
      rank: fc.nat(3),
      // Mostly at the back (a submit), sometimes in the middle (a restart, a reorder).
      key: fc.oneof(fc.constant(-1), fc.nat(40))
    })
  },
  fc.record({
    op: fc.constantFrom(
      'remove' as const,
      'hold' as const,
      'priority' as const,
      'move' as const,
      'reorder' as const
    ),
    at: fc.nat(1000),
    n: fc.nat(1000)
  })
);

/**
 * Plays `ops` on the index and on a plain map of the same jobs; returns the map's jobs.
 * `after` runs after each step (reads between changes exercise the index's caches).
 */
function play(
  index: QueueIndex,
  ops: Op[],
  after: (jobs: Map<string, QueuedJob>) => void = () => undefined
): Map<string, QueuedJob> {
  const jobs = new Map<string, QueuedJob>();
  let seq = 0;
  let back = 100;
  const set = (job: QueuedJob) => {
    jobs.set(job.id, job);
    index.upsert(job);
  };
  for (const o of ops) {
    if (o.op === 'insert') {
      const queue = Object.keys(QUEUES)[o.queue];
      set({
        id: `j${String(seq++).padStart(3, '0')}`,
        owner: OWNERS[o.owner],
        pool: QUEUES[queue],
        queue,
        priorityRank: o.rank,
        positionKey: o.key < 0 ? back++ : o.key + 0.5 * (seq % 2),
        held: false
      });
      continue;
    }
    const ids = [...jobs.keys()];
    if (!ids.length) continue;
    const job = jobs.get(ids[o.at % ids.length]) as QueuedJob;
    if (o.op === 'remove') {
      jobs.delete(job.id);
      expect(index.remove(job.id)).toBe(true);
    } else if (o.op === 'hold') set({ ...job, held: !job.held });
    else if (o.op === 'priority') set({ ...job, priorityRank: o.n % 4 });
    else if (o.op === 'move') {
      const queue = Object.keys(QUEUES)[o.n % 3];
      set({ ...job, queue, pool: QUEUES[queue] });
    } else {
      // A reorder trades position keys with another of the owner's jobs.
      const mine = [...jobs.values()].filter(
        j => j.owner === job.owner && j.id !== job.id
      );
      if (!mine.length) continue;
      const other = mine[o.n % mine.length];
      set({ ...job, positionKey: other.positionKey });
      set({ ...other, positionKey: job.positionKey });
    }
    after(jobs);
  }
  return jobs;
}

const runningArb = fc.record(
  Object.fromEntries(OWNERS.map(o => [o, fc.nat(3)])) as Record<
    string,
    fc.Arbitrary<number>
  >
);

describe('the queue index', () => {
  test('positions, queue and pool orders equal the scheduler order of the whole queue', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 120 }),
        runningArb,
        (ops, running) => {
          const index = new QueueIndex();
          const jobs = play(index, ops);
          const all = [...jobs.values()];
          expect(index.size).toBe(all.length);
          const expected = queuePositions(all, running);
          for (const job of all)
            expect(index.position(job.id, running)).toBe(
              expected.get(job.id) ?? null
            );
          for (const pool of POOLS) {
            const ready = all.filter(j => j.pool === pool && !j.held);
            expect(
              [...index.order('pool', pool, running)].map(j => j.id)
            ).toEqual(admissionOrder(ready, running).map(j => j.id));
            expect(index.poolSize(pool)).toBe(ready.length);
            for (const [i, job] of admissionOrder(ready, running).entries()) {
              expect(index.standing(job.id, 'pool', running)?.ahead).toBe(i);
              // A pool of one queue: the queue's places are the pool's.
              if (index.poolIsQueue(job.id))
                expect(index.standing(job.id, 'queue', running)?.ahead).toBe(i);
            }
          }
          for (const queue of Object.keys(QUEUES)) {
            const ready = all.filter(j => j.queue === queue && !j.held);
            expect(
              [...index.order('queue', queue, running)].map(j => j.id)
            ).toEqual(admissionOrder(ready, running).map(j => j.id));
          }
          for (const owner of OWNERS)
            expect(index.queuedBy(owner)).toBe(
              all.filter(j => j.owner === owner).length
            );
        }
      ),
      { numRuns: 300 }
    );
  });

  test('positions stay right when read between changes', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 60 }),
        runningArb,
        (ops, running) => {
          const index = new QueueIndex();
          play(index, ops, jobs => {
            const all = [...jobs.values()];
            const expected = queuePositions(all, running);
            for (const job of all)
              expect(index.position(job.id, running)).toBe(
                expected.get(job.id) ?? null
              );
          });
        }
      ),
      { numRuns: 150 }
    );
  });

  test('why each job waits equals the reasons read from the whole queue', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 80 }),
        runningArb,
        fc.nat(2),
        (ops, running, busy) => {
          const index = new QueueIndex();
          const all = [...play(index, ops).values()];
          const input: WaitingInput = {
            queued: all,
            pools: {
              cpu: { capacity: 1, running: busy % 2 },
              gpu: { capacity: 2, running: busy }
            },
            runningByUser: running,
            runningByPoolOwner: {},
            priorities: PRIORITIES
          };
          const { waiting } = explainQueue(input);
          for (const job of all) {
            if (job.held) continue;
            const place = index.standing(job.id, 'queue', running);
            expect(place).toBeDefined();
            expect(waitingAt(input, job, job.queue as string, place!)).toEqual(
              waiting.get(job.id)
            );
          }
        }
      ),
      { numRuns: 200 }
    );
  });

  test('decides what the scheduler decides, with and without limits', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 120 }),
        runningArb,
        fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4)),
        fc.option(fc.nat(4)),
        fc.boolean(),
        (ops, running, [c1, r1, c2, r2], maxRunning, queueLimit) => {
          const index = new QueueIndex();
          const all = [...play(index, ops).values()];
          const input: Omit<SchedulerInput, 'queued'> = {
            pools: {
              cpu: { capacity: c1, running: r1 },
              gpu: { capacity: c2, running: r2 }
            },
            queues: queueLimit ? { big: { capacity: 1, running: 0 } } : {},
            runningByUser: running,
            maxRunningPerUser: maxRunning ?? undefined
          };
          expect(index.decide(input)).toEqual(
            decideAdmissions({ ...input, queued: all })
          );
        }
      ),
      { numRuns: 300 }
    );
  });
});
