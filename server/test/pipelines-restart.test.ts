/**
 * A pipeline goes on across a sidecar restart: its state is in SQLite, and on start the room
 * moves on pipelines whose step jobs ended while it was down. The job rooms are built on a
 * store file with a backend that records what it is asked to start (no runner is needed:
 * what happens while the sidecar is down is written into the store as a runner would leave it).
 */
import * as path from 'path';
import type { Backend, LaunchRequest } from '../src/backends/backend';
import { parseConfig } from '../src/config/load';
import { JobService } from '../src/jobs/service';
import { PipelineRoom } from '../src/pipelines/room';
import { Store } from '../src/store/store';
import { code, notebook, tmpDir, waitFor } from './helpers';

const config = parseConfig({
  profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 4 }]
});
const ALICE = { user: 'alice', admin: false };

/** A backend that starts nothing: jobs it is given stay `starting`. */
function recordingBackend(started: string[]): Backend {
  return {
    name: 'recording',
    submit: async (request: LaunchRequest) => {
      started.push(request.job.id);
    },
    cancel: async () => undefined,
    readopt: async () => true,
    logs: async () => null,
    close: async () => undefined
  };
}

function open(file: string, started: string[]) {
  const store = new Store(file);
  const jobs = new JobService({
    config,
    store,
    sidecarUrl: () => 'http://127.0.0.1:1',
    backend: () => recordingBackend(started)
  });
  return { store, jobs, room: PipelineRoom.forJobs(config, store, jobs) };
}

/** What a runner leaves when it ends while the sidecar is down: its events, then its end. */
function endedWhileDown(
  store: Store,
  jobId: string,
  state: 'succeeded' | 'failed',
  outputs: Record<string, unknown>
): void {
  const events = Object.entries(outputs).map(([name, value], i) => ({
    seq: i + 1,
    time: Date.now(),
    type: 'output_value',
    name,
    value
  }));
  store.appendEvents(jobId, events);
  store.updateJob(jobId, {
    state,
    reason: state === 'failed' ? 'Cell 1 raised ValueError.' : null,
    finished_at: new Date().toISOString(),
    token_hash: null
  });
}

describe('pipelines across a restart', () => {
  const file = path.join(tmpDir('nbq-pipeline-restart-'), 'nbqueue.db');
  const step = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    profile: 'cpu',
    notebook: notebook([code('x = 1', { metadata: { tags: ['parameters'] } })]),
    ...extra
  });

  test('a step that succeeded while the sidecar was down starts the next one, with its outputs', async () => {
    const started: string[] = [];
    let side = open(file, started);
    const p = side.room.startPipeline(ALICE, {
      name: 'restart',
      steps: [
        step('one'),
        step('two', { parameters: { keep: true } }),
        step('three')
      ]
    });
    const first = p.steps[0].job_id as string;
    await waitFor(() => started.includes(first), 'the first step to start');
    side.room.stop();
    side.store.close();

    // Down: the first step's job ends with its outputs.
    const down = new Store(file);
    endedWhileDown(down, first, 'succeeded', { rows: 7, name: 'a' });
    down.close();

    side = open(file, started);
    expect(side.room.get(ALICE, p.id).steps[0].state).toBe('queued');
    side.room.resume();
    const after = side.room.get(ALICE, p.id);
    expect(after.steps.map(s => s.state)).toEqual([
      'succeeded',
      'queued',
      'waiting'
    ]);
    expect(after.steps[0].outputs).toEqual({ rows: 7, name: 'a' });
    const second = side.jobs.queries.get(
      ALICE,
      after.steps[1].job_id as string
    );
    expect(second.parameters).toEqual({ keep: true, rows: 7, name: 'a' });
    expect(second.pipeline_step).toBe('two');
    // A second resume (another restart) submits nothing again; the step follows its job.
    await waitFor(
      () => started.includes(after.steps[1].job_id as string),
      'the second step to start'
    );
    side.room.resume();
    const resumed = side.room.get(ALICE, p.id);
    expect(resumed.steps.map(s => [s.state, s.job_id])).toEqual([
      ['succeeded', first],
      ['starting', after.steps[1].job_id],
      ['waiting', null]
    ]);
    expect(side.store.listJobs({ owner: 'alice' }).length).toBe(2);

    // Down again: the second step fails; on start the third is skipped and the pipeline fails.
    side.room.stop();
    side.store.close();
    const again = new Store(file);
    endedWhileDown(again, after.steps[1].job_id as string, 'failed', {});
    again.close();
    side = open(file, started);
    side.room.resume();
    const failed = side.room.get(ALICE, p.id);
    expect(failed.state).toBe('failed');
    expect(failed.reason).toBe("step 'two' failed: Cell 1 raised ValueError.");
    expect(failed.steps.map(s => s.state)).toEqual([
      'succeeded',
      'failed',
      'skipped'
    ]);
    side.room.stop();
    side.store.close();
  });
});
