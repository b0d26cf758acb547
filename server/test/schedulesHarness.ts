/**
 * Schedules without a server: a store in a real SQLite file, the job rooms with a backend that
 * starts nothing (a started job stays `starting` until the test ends it), the schedule service
 * and its loop on a clock and a timer the test moves.
 */
import * as path from 'path';
import type { Backend } from '../src/backends/backend';
import type { BackendOutcomes } from '../src/jobs/outcomes';
import { parseConfig } from '../src/config/load';
import { apiContract } from '../src/api/contract';
import { parse } from '../src/api/validate';
import { JobService } from '../src/jobs/service';
import type { JobRecord } from '../src/jobs/types';
import { ScheduleLoop, type Timer } from '../src/schedules/loop';
import { PipelineRoom } from '../src/pipelines/room';
import { ScheduleService } from '../src/schedules/service';
import { Store } from '../src/store/store';
import { code, notebook, tmpDir } from './helpers';

/** Started jobs stay starting; a cancel stops them at once. */
class IdleBackend implements Backend {
  readonly name = 'idle';
  constructor(private readonly outcomes: BackendOutcomes) {}
  async submit(): Promise<void> {}
  async cancel(job: JobRecord): Promise<void> {
    this.outcomes.exited(job.id, 'stopped');
  }
  async readopt(): Promise<boolean> {
    return true;
  }
  async logs(): Promise<string | null> {
    return null;
  }
  async close(): Promise<void> {}
}

/** A timer that only remembers what it was asked: the test decides when time passes. */
export class ManualTimer implements Timer {
  pending: { fn: () => void; ms: number } | undefined;
  set(fn: () => void, ms: number): unknown {
    this.pending = { fn, ms };
    return this.pending;
  }
  clear(handle: unknown): void {
    if (this.pending === handle) this.pending = undefined;
  }
}

export const config = parseConfig({});

export interface Harness {
  store: Store;
  jobs: JobService;
  schedules: ScheduleService;
  loop: ScheduleLoop;
  timer: ManualTimer;
  /** Sets the clock. */
  at(iso: string): void;
  now(): Date;
  close(): void;
}

/** A sidecar's schedule rooms on `file` (a new instance on the same file is a restart). */
export function harness(file: string, startAt: string): Harness {
  let t = Date.parse(startAt);
  const now = () => new Date(t);
  const store = new Store(file);
  const jobs = new JobService({
    config,
    store,
    sidecarUrl: () => 'http://127.0.0.1:1',
    backend: outcomes => new IdleBackend(outcomes),
    now
  });
  const pipelines = PipelineRoom.forJobs(config, store, jobs);
  const schedules = new ScheduleService({
    store,
    jobs,
    pipelines: pipelines.forSchedules(),
    now
  });
  const timer = new ManualTimer();
  const loop = new ScheduleLoop({
    table: store.schedules,
    service: schedules,
    now,
    timer,
    // Hourly wake-ups at most: the test's days pass in fewer steps.
    maxSleepMs: 3600000
  });
  return {
    store,
    jobs,
    schedules,
    loop,
    timer,
    at: iso => (t = Date.parse(iso)),
    now,
    close: () => {
      void loop.stop();
      store.close();
    }
  };
}

export const dbFile = () => path.join(tmpDir('nbq-sched-'), 'nbqueue.db');

/** A create body as the contract parses it. */
export function body(fields: Record<string, unknown>) {
  return parse(apiContract(config).schedules.createSchedule.body, {
    job: {
      profile: 'cpu',
      notebook: notebook([code('day = None\nprint(day)')]),
      notebook_path: 'reports/daily.ipynb',
      parameters: { day: '{{ date }}', stamp: 'at {{ datetime }}' }
    },
    ...fields
  });
}

export const ALICE = { user: 'alice', admin: false };
