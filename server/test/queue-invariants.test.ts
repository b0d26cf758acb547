import fc from 'fast-check';
import {
  admissionOrder,
  decideAdmissions,
  QueuedJob,
  queuePositions
} from '../src/queue/scheduler';
import {
  Placed,
  ReorderTarget,
  reorderGroup,
  reorderKeys
} from '../src/queue/reorder';

const users = ['alice', 'bob', 'carol', 'dave'];
const queues = ['cpu', 'cpu-long', 'gpu-1'];
const poolOf: Record<string, string> = {
  cpu: 'cpu',
  'cpu-long': 'cpu',
  'gpu-1': 'gpu-1'
};

type Job = QueuedJob & Placed;

/** Queued jobs with unique position keys (as the store hands them out), some held. */
const queueArb = (
  owners: string[] = users,
  names: string[] = queues
): fc.Arbitrary<Job[]> =>
  fc
    .array(
      fc.record({
        owner: fc.constantFrom(...owners),
        queue: fc.constantFrom(...names),
        priorityRank: fc.integer({ min: 0, max: 2 }),
        held: fc.boolean()
      }),
      { maxLength: 40 }
    )
    .chain(rows =>
      fc
        .uniqueArray(fc.integer({ min: 0, max: 100000 }), {
          minLength: rows.length,
          maxLength: rows.length
        })
        .map(keys =>
          rows.map((r, i): Job => ({
            ...r,
            id: `j${String(i).padStart(3, '0')}`,
            pool: poolOf[r.queue],
            positionKey: keys[i]
          }))
        )
    );

const runningArb = fc.record({
  alice: fc.nat(3),
  bob: fc.nat(3),
  carol: fc.nat(3),
  dave: fc.nat(3)
});

const apply = (jobs: Job[], keys: Map<string, number>): Job[] =>
  jobs.map(j =>
    keys.has(j.id) ? { ...j, positionKey: keys.get(j.id) as number } : j
  );

describe('held jobs', () => {
  test('are never admitted, have no position, and change nobody else’s admission', () => {
    fc.assert(
      fc.property(
        queueArb(),
        runningArb,
        fc.nat(4),
        fc.nat(4),
        (jobs, runningByUser, cpu, gpu) => {
          const input = {
            queued: jobs,
            pools: {
              cpu: { capacity: cpu, running: 0 },
              'gpu-1': { capacity: gpu, running: 0 }
            },
            runningByUser
          };
          const admitted = decideAdmissions(input);
          const held = new Set(jobs.filter(j => j.held).map(j => j.id));
          expect(admitted.filter(id => held.has(id))).toEqual([]);
          // The same decision as if the held jobs were not there at all.
          expect(admitted).toEqual(
            decideAdmissions({
              ...input,
              queued: jobs.filter(j => !j.held)
            })
          );
          const positions = queuePositions(jobs, runningByUser);
          for (const id of held) expect(positions.has(id)).toBe(false);
          expect(admissionOrder(jobs, runningByUser).some(j => j.held)).toBe(
            false
          );
        }
      )
    );
  });
});

describe('reorder', () => {
  const targetArb = (jobs: Job[]) =>
    fc.oneof(
      fc.constant<ReorderTarget>({ to: 'front' }),
      fc.constant<ReorderTarget>({ to: 'back' }),
      fc
        .constantFrom(...jobs.map(j => j.id))
        .map((before): ReorderTarget => ({ before }))
    );

  // Few owners, two queues of one pool and mostly equal shares, so that owners often tie and
  // a wrong reorder would show in someone else's position.
  const caseArb = queueArb(['alice', 'bob', 'carol'], ['cpu', 'cpu-long'])
    .filter(jobs => jobs.length > 0)
    .chain(jobs =>
      fc.record({
        jobs: fc.constant(jobs),
        mover: fc.constantFrom(...jobs),
        target: targetArb(jobs),
        runningByUser: fc.oneof(fc.constant({}), fc.constant({}), runningArb)
      })
    );

  test("affects only the owner's own jobs: everyone else keeps their exact position", () => {
    fc.assert(
      fc.property(caseArb, ({ jobs, mover, target, runningByUser }) => {
        const keys = reorderKeys(reorderGroup(jobs, mover), mover.id, target);
        if (!keys) return;
        for (const id of keys.keys())
          expect(jobs.find(j => j.id === id)?.owner).toBe(mover.owner);
        const before = queuePositions(jobs, runningByUser);
        const after = queuePositions(apply(jobs, keys), runningByUser);
        for (const j of jobs)
          if (j.owner !== mover.owner)
            expect(after.get(j.id)).toBe(before.get(j.id));
        // The owner's places are the same set, dealt out again.
        const mine = (p: Map<string, number>) =>
          jobs
            .filter(j => j.owner === mover.owner && p.has(j.id))
            .map(j => p.get(j.id))
            .sort();
        expect(mine(after)).toEqual(mine(before));
      }),
      { numRuns: 2000 }
    );
  });

  test('puts the job where it was asked, among the jobs it competes with', () => {
    fc.assert(
      fc.property(caseArb, ({ jobs, mover, target }) => {
        const group = reorderGroup(jobs, mover);
        const keys = reorderKeys(group, mover.id, target);
        if ('before' in target) {
          const other = group.find(
            j => j.id === target.before && j.id !== mover.id
          );
          expect(keys === null).toBe(!other);
          if (!other) return;
        }
        const order = apply(group, keys as Map<string, number>)
          .sort((a, b) => a.positionKey - b.positionKey)
          .map(j => j.id);
        if ('before' in target)
          expect(order.indexOf(mover.id)).toBe(
            order.indexOf(target.before) - 1
          );
        else if (target.to === 'front') expect(order[0]).toBe(mover.id);
        else expect(order[order.length - 1]).toBe(mover.id);
        // The others of the group keep their relative order.
        const rest = (ids: string[]) => ids.filter(id => id !== mover.id);
        expect(rest(order)).toEqual(
          rest(
            [...group]
              .sort((a, b) => a.positionKey - b.positionKey)
              .map(j => j.id)
          )
        );
      })
    );
  });
});
