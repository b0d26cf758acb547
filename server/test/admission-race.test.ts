import fc from 'fast-check';
import type { Identity } from '../src/auth/auth';
import type { Backend, LaunchRequest } from '../src/backends/backend';
import { parseConfig } from '../src/config/load';
import { JobService } from '../src/jobs/service';
import type { JobRecord, JobView } from '../src/jobs/types';
import { submitSchema } from '../src/api/contract/submit';
import { parse } from '../src/api/validate';
import { Store } from '../src/store/store';
import { code, notebook } from './helpers';

/**
 * The scheduler decides, then starts the admitted jobs one after another, each start awaiting
 * the backend (creating a Kubernetes Job takes a round trip). Users act meanwhile. With a slow
 * backend and random cancel / hold / release / move / priority operations interleaved, no
 * cancelled or held job may start, no job may start on a profile it left, and no job's state
 * may go backwards.
 */

const RANK: Record<string, number> = {
  queued: 0,
  starting: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  cancelled: 3
};

/** A backend whose every submit takes `delays.shift()` turns of the event loop. */
class SlowBackend implements Backend {
  readonly name = 'slow';
  readonly started: JobRecord[] = [];
  readonly delays: number[] = [];
  constructor(private readonly store: Store) {}

  async submit(request: LaunchRequest): Promise<void> {
    // What the store says at the moment the backend is asked to start the job.
    this.started.push(this.store.getJob(request.job.id) as JobRecord);
    for (let i = this.delays.shift() ?? 1; i > 0; i--)
      await new Promise(resolve => setImmediate(resolve));
  }
  async cancel(): Promise<void> {}
  async readopt(): Promise<boolean> {
    return false;
  }
  async logs(): Promise<string | null> {
    return null;
  }
  async close(): Promise<void> {}
}

type Op =
  | { kind: 'submit'; queue: 'cpu' | 'cpu-long' | 'gpu-1' }
  | { kind: 'cancel' | 'hold' | 'release' | 'finish'; pick: number }
  | { kind: 'move'; pick: number; queue: 'cpu' | 'cpu-long' | 'gpu-1' }
  | { kind: 'priority'; pick: number; priority: 'low' | 'normal' | 'high' }
  | { kind: 'wait'; turns: number };

const queueArb = fc.constantFrom(
  'cpu' as const,
  'cpu-long' as const,
  'gpu-1' as const
);
// Weighted towards what makes the race: bursts of submits, and cancels and holds arriving
// while earlier starts are still in flight.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('submit' as const),
      queue: queueArb
    })
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom('cancel' as const, 'hold' as const),
      pick: fc.nat()
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('release' as const, 'finish' as const),
      pick: fc.nat()
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      pick: fc.nat(),
      queue: queueArb
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('priority' as const),
      pick: fc.nat(),
      priority: fc.constantFrom(
        'low' as const,
        'normal' as const,
        'high' as const
      )
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      turns: fc.integer({ min: 1, max: 4 })
    })
  }
);

const config = parseConfig({
  profiles: [
    { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 4 },
    { name: 'gpu-1', cpus: 1, gpus: 1, memory: '1Gi', capacity: 1 }
  ],
  queues: [
    { name: 'cpu', profile: 'cpu' },
    { name: 'cpu-long', profile: 'cpu' },
    { name: 'gpu-1', profile: 'gpu-1' }
  ]
});
const alice: Identity = { user: 'alice', admin: true };
const nb = notebook([code('1')]);

async function run(ops: Op[], delays: number[]): Promise<void> {
  const store = new Store(':memory:');
  const backend = new SlowBackend(store);
  backend.delays.push(...delays);
  const { commands, runner, publisher } = new JobService({
    config,
    store,
    sidecarUrl: () => 'http://x',
    backend: () => backend
  });
  const seen = new Map<string, string[]>();
  publisher.subscribe({
    jobChanged: (view: JobView) =>
      seen.set(view.id, [...(seen.get(view.id) ?? []), view.state]),
    eventsAppended: () => {}
  });
  const ids: string[] = [];
  const cancelledWhileQueued = new Set<string>();
  const pick = (n: number) => ids[n % Math.max(ids.length, 1)];
  const attempt = async (action: () => unknown) => {
    try {
      await action();
    } catch {
      // 409 and friends: the job was no longer in a state for this operation.
    }
  };

  for (const op of ops) {
    if (op.kind === 'submit') {
      const profile = op.queue === 'gpu-1' ? 'gpu-1' : 'cpu';
      ids.push(
        commands.submit(
          alice,
          parse(submitSchema(config), {
            notebook: nb,
            profile,
            queue: op.queue
          })
        ).id
      );
    } else if (op.kind === 'wait') {
      for (let i = 0; i < op.turns; i++)
        await new Promise(resolve => setImmediate(resolve));
    } else if (ids.length) {
      const id = pick(op.pick);
      if (op.kind === 'cancel') {
        const before = store.getJob(id)?.state;
        await attempt(async () => {
          const view = await commands.cancel(alice, id);
          if (before === 'queued' && view.state === 'cancelled')
            cancelledWhileQueued.add(id);
        });
      } else if (op.kind === 'hold')
        await attempt(() => commands.hold(alice, id));
      else if (op.kind === 'release')
        await attempt(() => commands.release(alice, id));
      else if (op.kind === 'move')
        await attempt(() => commands.move(alice, id, { queue: op.queue }));
      else if (op.kind === 'priority')
        await attempt(() =>
          commands.setPriority(alice, id, { priority: op.priority })
        );
      else if (op.kind === 'finish') {
        const job = store.getJob(id) as JobRecord;
        if (job.state === 'starting' || job.state === 'running')
          await attempt(() => runner.finish(job, { state: 'succeeded' }));
      }
    }
  }
  // Let every start in flight complete.
  for (let i = 0; i < 50; i++)
    await new Promise(resolve => setImmediate(resolve));

  for (const started of backend.started) {
    expect(started.state).toBe('starting');
    expect(started.held).toBe(false);
    expect(cancelledWhileQueued.has(started.id)).toBe(false);
    // It starts on the profile of the queue it is in now, whatever it was when decided.
    const queue = config.queues.find(q => q.name === started.queue);
    expect(started.profile).toBe(queue?.profile);
  }
  for (const [id, states] of seen) {
    const ranks = states.map(s => RANK[s]);
    for (let i = 1; i < ranks.length; i++) {
      if (ranks[i] < ranks[i - 1])
        throw new Error(`job ${id} went backwards: ${states.join(' → ')}`);
    }
    const finals = states.filter(s => RANK[s] === 3);
    expect(new Set(finals).size).toBeLessThanOrEqual(1);
  }
  for (const id of cancelledWhileQueued)
    expect(store.getJob(id)?.state).toBe('cancelled');
  // Never more running than a profile holds.
  for (const profile of config.profiles) {
    const active = store
      .listJobs({ states: ['starting', 'running'] })
      .filter(j => j.profile === profile.name).length;
    expect(active).toBeLessThanOrEqual(profile.capacity);
  }
  store.close();
}

test('no cancelled, held or moved job starts while earlier starts are slow; no state goes backwards', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 5, maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 40 }),
      run
    ),
    { numRuns: 150 }
  );
});

test('the race as it happened: a job cancelled while the one before it was starting', async () => {
  // G's slow start keeps the scheduler busy while A and B arrive; the next decision admits A
  // and B together (cpu has room for both); A's start is slow, and B is cancelled meanwhile. Before
  // admission was a conditional change, B then started anyway.
  await run(
    [
      { kind: 'submit', queue: 'gpu-1' },
      { kind: 'submit', queue: 'cpu' },
      { kind: 'submit', queue: 'cpu' },
      { kind: 'wait', turns: 4 },
      { kind: 'cancel', pick: 2 },
      { kind: 'wait', turns: 10 }
    ],
    [3, 5, 1]
  );
});
