/**
 * Restarts without a cluster (jobs/restarts.ts, store/restarts.ts): a job whose runner was
 * taken away runs again under its id, first in its queue, its events numbered on; attempts
 * run out into a failure that says why; an ended job is never admitted again, not even by a
 * sidecar started anew on the same store. The backend is a stand-in that starts nothing;
 * the store is a real SQLite file. The Kubernetes side: test/k8s/restarts.test.ts.
 */
import * as path from 'path';
import type { Backend } from '../src/backends/backend';
import type { api } from '@nbqueue/common';
import { hashToken } from '../src/auth/token';
import { jobStatus, jobsTable } from '../src/cli/format';
import { parseConfig } from '../src/config/load';
import type { BackendOutcomes } from '../src/jobs/outcomes';
import { maxAttempts } from '../src/jobs/restarts';
import { JobService } from '../src/jobs/service';
import type { JobEvent, JobRecord } from '../src/jobs/types';
import { Store } from '../src/store/store';
import { code, notebook, tmpDir, waitFor } from './helpers';

const config = parseConfig({
  backend: { type: 'kubernetes', kubernetes: { requeue_on_eviction: 0 } },
  profiles: [
    {
      name: 'gpu',
      cpus: 1,
      gpus: 1,
      memory: '1Gi',
      capacity: 1,
      kubernetes: { max_restarts: 2 }
    },
    { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }
  ]
});

/** Starts nothing; a restarted job fits only once `leftoverGone` (its old pod is gone). */
class StandIn implements Backend {
  readonly name = 'stand-in';
  leftoverGone = true;
  readonly started: string[] = [];
  fits(job: JobRecord): boolean {
    return job.attempt === 1 || this.leftoverGone;
  }
  async submit({ job }: { job: JobRecord }): Promise<void> {
    this.started.push(job.id);
  }
  async cancel(): Promise<void> {}
  async readopt(): Promise<boolean> {
    return true;
  }
  async logs(): Promise<string | null> {
    return null;
  }
  async close(): Promise<void> {}
}

function sidecar(file: string) {
  const store = new Store(file);
  let backend: StandIn | undefined;
  let outcomes: BackendOutcomes | undefined;
  const jobs = new JobService({
    config,
    store,
    sidecarUrl: () => 'http://127.0.0.1:1',
    backend: o => {
      outcomes = o;
      backend = new StandIn();
      return backend;
    }
  });
  const submit = (profile: string, owner = 'alice', priority = 'normal') =>
    jobs.lifecycle.enqueue({
      owner,
      name: 'nb.ipynb',
      profile,
      queue: profile,
      priority,
      spec: { parameters: {}, notebook_path: null, cwd: null, kernel: {} },
      notebook: notebook([code('print(1)')]) as never
    });
  const running = async (id: string) => {
    await waitFor(
      () => store.getJob(id)?.state === 'starting',
      `${id} started`
    );
    store.updateJob(id, { state: 'running' });
  };
  return {
    store,
    jobs,
    backend: backend as StandIn,
    outcomes: outcomes as BackendOutcomes,
    submit,
    running
  };
}

const log = (seq: number): JobEvent => ({
  seq,
  time: seq,
  type: 'log',
  level: 'info',
  message: `event ${seq}`
});

describe('restarts', () => {
  test('a job taken away runs again under its id, first in its queue, events numbered on', async () => {
    const s = sidecar(path.join(tmpDir(), 'nbqueue.db'));
    const a = s.submit('gpu');
    await s.running(a);
    const b = s.submit('gpu');
    const urgent = s.submit('gpu', 'bob', 'urgent');
    // Attempt 1 sent events 1-3, then 5 and a metric at 6 past a gap it will never fill.
    s.store.appendEvents(a, [log(1), log(2), log(3), log(5)]);
    s.store.appendEvents(a, [
      { seq: 6, time: 6, type: 'metric', name: 'loss', value: 1, step: 0 }
    ]);
    s.store.saveResult(a, {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: []
    });
    const before = s.store.getJob(a) as JobRecord;
    expect(before.last_seq).toBe(3);

    s.backend.leftoverGone = false;
    s.outcomes.restart(a, 'preemption', 'Its pod was taken off node n1.');

    const job = s.jobs.queries.fresh(a);
    expect(job).toMatchObject({
      id: a,
      state: 'queued',
      attempt: 2,
      max_attempts: 3,
      started_at: null,
      has_result: false,
      last_seq: 4,
      reason:
        'Attempt 2 of 3, restarted after node preemption. Its pod was taken off node n1.'
    });
    expect(job.restarts).toEqual([
      {
        attempt: 1,
        started_at: before.started_at,
        ended_at: expect.any(String),
        cause: 'preemption',
        reason: 'Its pod was taken off node n1.'
      }
    ]);
    // The old runner's token is void: it can add nothing to the new attempt.
    expect(s.store.getTokenHash(a)).toBeNull();
    const events = s.store.listEvents(a, 0, 100);
    expect(events.map(e => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[3]).toMatchObject({
      type: 'attempt',
      attempt: 2,
      max_attempts: 3,
      cause: 'preemption'
    });
    expect(s.store.metrics.list(a)).toEqual([]);
    // First in its queue, before a job of a higher priority class.
    expect(s.jobs.queries.fresh(a).position).toBe(1);
    expect(s.jobs.queries.fresh(urgent).position).toBe(2);
    expect(s.jobs.queries.fresh(b).position).toBe(3);

    s.backend.leftoverGone = true;
    s.jobs.lifecycle.mayAdmit();
    await s.running(a);
    expect(s.backend.started).toEqual([a, a]);
    expect(s.store.getJob(urgent)?.state).toBe('queued');
    // Attempt 2's runner numbers on from the marker.
    const fetched = s.jobs.runner.fetch(s.store.getJob(a) as JobRecord);
    expect(fetched.first_seq).toBe(5);
    const took = s.jobs.runner.ingestEvents(s.store.getJob(a) as JobRecord, {
      events: [log(5), log(6)]
    });
    expect(took).toMatchObject({ accepted: 2, last_seq: 6 });
    // What `nbqueue jobs` and `nbqueue status` print of it.
    const view = s.jobs.queries.fresh(a) as api.Job;
    const row = jobsTable([view]).split('\n');
    expect(row[0]).toMatch(/STATE +ATTEMPT +POS/);
    expect(row[1]).toMatch(/ running +2\/3 /);
    expect(jobStatus(view).split('\n').slice(1)).toEqual([
      'attempt 2 of 3, restarted after node preemption',
      'Attempt 2 of 3, restarted after node preemption. Its pod was taken off node n1.',
      `  attempt 1: ${before.started_at} to ${view.restarts[0].ended_at}, node preemption: Its pod was taken off node n1.`
    ]);
    s.store.close();
  });

  test('attempts run out into a failure that names the cause, the count and what to do', async () => {
    const s = sidecar(path.join(tmpDir(), 'nbqueue.db'));
    const a = s.submit('gpu');
    for (const attempt of [1, 2]) {
      await s.running(a);
      expect(s.store.getJob(a)?.attempt).toBe(attempt);
      s.outcomes.restart(a, 'eviction', `Evicted, attempt ${attempt}.`);
    }
    await s.running(a);
    s.outcomes.restart(a, 'eviction', 'Evicted, attempt 3.');
    const job = s.jobs.queries.fresh(a);
    expect(job.state).toBe('failed');
    expect(job.attempt).toBe(3);
    expect(job.reason).toBe(
      "Evicted, attempt 3. Attempt 3 of 3 ended by eviction, the last one allowed (max_restarts 2 for profile 'gpu'): re-run it, or choose a profile whose nodes are not preempted or drained as often."
    );
    expect(job.restarts.map(r => r.attempt)).toEqual([1, 2]);
    // The default, backend.kubernetes.requeue_on_eviction (0 here): no restart at all.
    const c = s.submit('cpu');
    await s.running(c);
    s.outcomes.restart(c, 'pod_deleted', 'Its pod was deleted.');
    expect(s.jobs.queries.fresh(c)).toMatchObject({
      state: 'failed',
      attempt: 1,
      max_attempts: 1
    });
    expect(s.store.getJob(c)?.reason).toMatch(
      /Attempt 1 of 1 ended by pod deletion, the last one allowed \(max_restarts 0 for profile 'cpu'\): re-run it, or ask an operator to allow restarts\.$/
    );
    s.store.close();
  });

  test('an ended job is never admitted again, not even after a sidecar restart', async () => {
    const file = path.join(tmpDir(), 'nbqueue.db');
    const s = sidecar(file);
    const a = s.submit('gpu');
    await s.running(a);
    s.jobs.runner.finish(s.store.getJob(a) as JobRecord, {
      state: 'succeeded',
      reason: null,
      notebook: null
    });
    s.outcomes.restart(a, 'preemption', 'Late news of its pod.');
    expect(s.store.getJob(a)).toMatchObject({ state: 'succeeded', attempt: 1 });
    s.store.close();

    const again = sidecar(file);
    await again.jobs.scheduling.readopt();
    again.outcomes.restart(a, 'node_lost', 'Late news of its node.');
    expect(again.store.getJob(a)).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      restarts: []
    });
    expect(again.backend.started).toEqual([]);
    again.store.close();
  });

  test("a cancel the owner did not ask for leaves the job to the backend's word", async () => {
    const s = sidecar(path.join(tmpDir(), 'nbqueue.db'));
    const a = s.submit('gpu');
    await s.running(a);
    // Kubernetes sent SIGTERM (pod deleted): the runner reports cancelled.
    s.jobs.runner.finish(s.store.getJob(a) as JobRecord, {
      state: 'cancelled',
      reason: 'Cancel requested by SIGTERM.',
      notebook: null
    });
    expect(s.store.getJob(a)?.state).toBe('running');
    s.outcomes.restart(a, 'pod_deleted', 'Its pod was deleted.');
    // Queued again, and admitted at once: the pool is free.
    expect(s.store.getJob(a)).toMatchObject({ state: 'starting', attempt: 2 });
    // A cancel the owner asked for ends it, restart or not.
    await s.running(a);
    s.store.updateJob(a, { cancel_requested: true });
    s.outcomes.restart(a, 'pod_deleted', 'Its pod was deleted.');
    expect(s.store.getJob(a)).toMatchObject({ state: 'cancelled', attempt: 2 });
    s.store.close();
  });

  test('the attempt taken away may still store checkpoints, nothing else, until the next restores', async () => {
    const s = sidecar(path.join(tmpDir(), 'nbqueue.db'));
    const a = s.submit('gpu');
    await s.running(a);
    s.store.updateJob(a, { token_hash: hashToken('attempt-1-token') });
    const auth = (draining: boolean) => () =>
      s.jobs.runner.authenticate(a, 'attempt-1-token', draining);
    expect(auth(false)().id).toBe(a);
    s.backend.leftoverGone = false;
    s.outcomes.restart(a, 'eviction', 'Its pod was evicted.');
    // Its on_preempt callbacks run while its pod terminates: a checkpoint (draining) is taken.
    expect(auth(false)).toThrow('This job token is not valid for this job.');
    expect(auth(true)().id).toBe(a);
    expect(() => s.jobs.runner.authenticate(a, 'another', true)).toThrow(
      'not valid'
    );
    // Once the next attempt's runner asks for the checkpoint to restore, it opens nothing.
    s.backend.leftoverGone = true;
    s.jobs.lifecycle.mayAdmit();
    await s.running(a);
    expect(auth(true)().id).toBe(a);
    s.jobs.runner.restoring(s.store.getJob(a) as JobRecord);
    expect(auth(true)).toThrow('not valid');
    // A job that ends keeps no token of any attempt.
    s.store.updateJob(a, { token_hash: hashToken('attempt-2-token') });
    s.backend.leftoverGone = false;
    s.outcomes.restart(a, 'eviction', 'Its pod was evicted again.');
    expect(s.store.getDrainingTokenHash(a)).toBe(hashToken('attempt-2-token'));
    s.jobs.lifecycle.end(a, 'cancelled', 'Cancelled by the user.');
    expect(s.store.getDrainingTokenHash(a)).toBeNull();
    expect(() =>
      s.jobs.runner.authenticate(a, 'attempt-2-token', true)
    ).toThrow('not valid');
    // The scheduling pass the end asked for runs before the store closes.
    await new Promise(r => setImmediate(r));
    s.store.close();
  });

  test('the local backend never restarts: one attempt', () => {
    const local = parseConfig({});
    expect(maxAttempts(local, local.profiles[0].name)).toBe(1);
    expect(maxAttempts(config, 'gpu')).toBe(3);
    expect(maxAttempts(config, 'cpu')).toBe(1);
  });
});
