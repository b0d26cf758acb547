/**
 * Why a queued job waits (server/src/queue/waiting.ts): the reasons for each case, and
 * properties that tie them to the scheduler's own decision.
 */
import fc from 'fast-check';
import {
  QueuedJob,
  decideAdmissions,
  queuePositions
} from '../src/queue/scheduler';
import { WaitingInput, explainQueue } from '../src/queue/waiting';

const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
const rank = (name: string) => PRIORITIES.indexOf(name);

let next = 0;
const job = (owner: string, extra: Partial<QueuedJob> = {}): QueuedJob => ({
  id: `j${String(++next).padStart(3, '0')}`,
  owner,
  pool: 'gpu-8',
  priorityRank: rank('normal'),
  positionKey: next,
  ...extra
});

const input = (queued: QueuedJob[], extra: Partial<WaitingInput> = {}) =>
  explainQueue({
    queued,
    pools: { 'gpu-8': { capacity: 2, running: 0 } },
    runningByUser: {},
    runningByPoolOwner: {},
    priorities: PRIORITIES,
    gpusPerJob: { 'gpu-8': 8 },
    ...extra
  });

const codes = (w: { reasons: Array<{ code: string }> } | undefined) =>
  (w?.reasons ?? []).map(r => r.code);

describe('why a job waits', () => {
  test('a held job waits for its release, and has no position', () => {
    const held = job('alice', { held: true });
    const out = input([held]);
    expect(codes(out.waiting.get(held.id))).toEqual(['held']);
    expect(out.waiting.get(held.id)?.summary).toBe(
      'Held: it starts only after it is released.'
    );
    expect(out.positions.has(held.id)).toBe(false);
  });

  test('a full pool names its GPUs in use and who holds them', () => {
    const mine = job('carol');
    const out = input([mine], {
      pools: { 'gpu-8': { capacity: 2, running: 2 } },
      runningByUser: { alice: 1, bob: 1 },
      runningByPoolOwner: { 'gpu-8': { alice: 1, bob: 1 } }
    });
    const reason = out.waiting.get(mine.id)?.reasons[0];
    expect(reason).toEqual({
      code: 'pool_full',
      in_use: 16,
      capacity: 16,
      message: 'pool gpu-8: 16 of 16 GPUs in use: alice 8, bob 8'
    });
    expect(out.waiting.get(mine.id)?.summary).toBe(
      'Pool gpu-8: 16 of 16 GPUs in use: alice 8, bob 8.'
    );
  });

  test('a CPU pool counts job slots', () => {
    const mine = job('carol', { pool: 'cpu' });
    const out = input([mine], {
      pools: { cpu: { capacity: 1, running: 1 } },
      runningByPoolOwner: { cpu: { dave: 1 } },
      gpusPerJob: { cpu: 0 }
    });
    expect(out.waiting.get(mine.id)?.reasons[0].message).toBe(
      'pool cpu: 1 of 1 job slots in use: dave 1'
    );
  });

  test('the per-user limit comes before everything else that holds the job', () => {
    const mine = job('alice');
    const out = input([mine], {
      pools: { 'gpu-8': { capacity: 2, running: 2 } },
      runningByUser: { alice: 2 },
      runningByPoolOwner: { 'gpu-8': { alice: 2 } },
      maxRunningPerUser: 2
    });
    expect(codes(out.waiting.get(mine.id))).toEqual([
      'user_limit',
      'pool_full'
    ]);
    expect(out.waiting.get(mine.id)?.reasons[0].message).toBe(
      'you have 2 of 2 running jobs allowed per user'
    );
  });

  test('a queue at its own capacity says so', () => {
    const mine = job('alice', { queue: 'nightly' });
    const out = input([mine], {
      queues: { nightly: { capacity: 1, running: 1 } }
    });
    expect(out.waiting.get(mine.id)?.reasons[0]).toMatchObject({
      code: 'queue_full',
      message: 'queue nightly: 1 of 1 job running'
    });
  });

  test('jobs ahead are counted by priority class, highest first', () => {
    const urgent = job('bob', { priorityRank: rank('urgent') });
    const high1 = job('carol', { priorityRank: rank('high') });
    const high2 = job('dave', { priorityRank: rank('high') });
    const mine = job('alice', { priorityRank: rank('high') });
    const out = input([mine, high2, urgent, high1], {
      pools: { 'gpu-8': { capacity: 2, running: 2 } }
    });
    const behind = out.waiting.get(mine.id)?.reasons[1];
    expect(behind).toEqual({
      code: 'behind',
      ahead: 3,
      message: '3 jobs ahead in the queue: 1 urgent, 2 high'
    });
    expect(out.positions.get(mine.id)).toBe(4);
  });

  test('fair share: a later job of a user with fewer running jobs goes next', () => {
    const mine = job('alice');
    const bobs = job('bob');
    const out = input([mine, bobs], {
      pools: { 'gpu-8': { capacity: 2, running: 2 } },
      runningByUser: { alice: 1, bob: 0 },
      runningByPoolOwner: { 'gpu-8': { alice: 1, carol: 1 } }
    });
    expect(out.positions.get(bobs.id)).toBe(1);
    const reasons = out.waiting.get(mine.id)?.reasons ?? [];
    expect(reasons.map(r => r.code)).toEqual([
      'pool_full',
      'behind',
      'fair_share'
    ]);
    expect(reasons[2]).toEqual({
      code: 'fair_share',
      user: 'bob',
      message: 'bob goes next: fewer running jobs at the same priority'
    });
  });

  test('fair share names a job that went before, not only the next one', () => {
    const first = job('carol');
    const mine = job('alice');
    const bobs = job('bob');
    const out = input([first, mine, bobs], {
      pools: { 'gpu-8': { capacity: 2, running: 2 } },
      runningByUser: { alice: 1 }
    });
    expect(out.positions.get(mine.id)).toBe(3);
    expect(out.waiting.get(mine.id)?.reasons.at(-1)?.message).toBe(
      'bob goes before you: fewer running jobs at the same priority'
    );
    // carol submitted first and runs nothing: nobody jumped her.
    expect(codes(out.waiting.get(first.id))).toEqual(['pool_full']);
  });

  test('the head of a queue with room is next to start', () => {
    const mine = job('alice');
    const out = input([mine]);
    expect(out.waiting.get(mine.id)).toEqual({
      summary: 'Next to start.',
      reasons: [{ code: 'next', message: 'next to start' }]
    });
  });

  test("the backend's reason (no node has room) is shown where the pool has slots", () => {
    const mine = job('alice');
    const out = input([mine], {
      cluster: id =>
        id === mine.id
          ? {
              code: 'no_node_fits',
              message: '10 GPUs free across 3 nodes, none has 8 GPUs free'
            }
          : undefined
    });
    expect(out.waiting.get(mine.id)?.summary).toBe(
      '10 GPUs free across 3 nodes, none has 8 GPUs free.'
    );
  });
});

describe('waiting, against the scheduler', () => {
  const owners = ['alice', 'bob', 'carol'];
  const jobsArb = fc
    .array(
      fc.record({
        owner: fc.constantFrom(...owners),
        pool: fc.constantFrom('cpu', 'gpu'),
        queue: fc.constantFrom('a', 'b'),
        priorityRank: fc.integer({ min: 0, max: 2 }),
        held: fc.boolean()
      }),
      { maxLength: 30 }
    )
    .chain(rows =>
      fc
        .uniqueArray(fc.integer({ min: 0, max: 10000 }), {
          minLength: rows.length,
          maxLength: rows.length
        })
        .map(keys =>
          rows.map((r, i): QueuedJob => ({
            ...r,
            queue: `${r.pool}-${r.queue}`,
            id: `j${String(i).padStart(3, '0')}`,
            positionKey: keys[i]
          }))
        )
    );
  const stateArb = fc.record({
    cpu: fc.record({
      capacity: fc.integer({ min: 1, max: 4 }),
      running: fc.nat(4)
    }),
    gpu: fc.record({
      capacity: fc.integer({ min: 1, max: 4 }),
      running: fc.nat(4)
    }),
    queueCap: fc.integer({ min: 1, max: 3 }),
    queueRunning: fc.nat(3),
    running: fc.record({ alice: fc.nat(3), bob: fc.nat(3), carol: fc.nat(3) }),
    limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined })
  });

  test('positions are the scheduler’s; every queued job has a reason; nothing admitted is blocked', () => {
    fc.assert(
      fc.property(jobsArb, stateArb, (jobs, s) => {
        const pools = { cpu: s.cpu, gpu: s.gpu };
        const queues = {
          'cpu-a': { capacity: s.queueCap, running: s.queueRunning }
        };
        const out = explainQueue({
          queued: jobs,
          pools,
          queues,
          runningByUser: s.running,
          maxRunningPerUser: s.limit,
          runningByPoolOwner: {},
          priorities: ['low', 'normal', 'high']
        });
        const positions = queuePositions(jobs, s.running);
        expect(out.positions).toEqual(positions);
        for (const j of jobs) {
          const w = out.waiting.get(j.id);
          expect(w?.reasons.length).toBeGreaterThan(0);
          expect(w?.summary).toMatch(/\.$/);
          if (j.held) expect(codes(w)).toEqual(['held']);
          const behind = w?.reasons.find(r => r.code === 'behind');
          if (!j.held)
            expect(behind?.ahead ?? 0).toBe((positions.get(j.id) ?? 1) - 1);
        }
        const admitted = decideAdmissions({
          queued: jobs,
          pools,
          queues,
          runningByUser: s.running,
          maxRunningPerUser: s.limit
        });
        const blocking = ['held', 'user_limit', 'queue_full', 'pool_full'];
        for (const id of admitted)
          expect(
            codes(out.waiting.get(id)).filter(c => blocking.includes(c))
          ).toEqual([]);
      })
    );
  });
});
