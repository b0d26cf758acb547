import type { Backend } from '../backends/backend';
import type { Config } from '../config/schema';
import type { Store } from '../store/store';
import { JobCommands } from './commands';
import { JobLifecycle } from './lifecycle';
import { BackendOutcomes } from './outcomes';
import { JobPublisher } from './publisher';
import { JobQueries } from './queries';
import { JobRestarts } from './restarts';
import { RunnerIntake } from './runnerIntake';
import { SchedulingLoop } from './schedulingLoop';

export interface JobServiceOptions {
  config: Config;
  store: Store;
  /** URL runners use to reach the sidecar. */
  sidecarUrl: () => string;
  /** Makes the backend, given where it reports what becomes of its runners. */
  backend: (outcomes: BackendOutcomes) => Backend;
  now?: () => Date;
}

/**
 * The job rooms, built in the order they need each other, so each is whole from the start:
 * queries (the read side) → publisher (tells subscribers, such as the live layer, what
 * changed) → lifecycle (queue, change, end a job) → restarts → outcomes (what the backend reports) →
 * backend → scheduling loop (wakes on the lifecycle) → commands and runner intake.
 * Holds no state of its own beyond the store, so a restart picks up where it was.
 */
export class JobService {
  readonly queries: JobQueries;
  readonly publisher: JobPublisher;
  readonly lifecycle: JobLifecycle;
  readonly outcomes: BackendOutcomes;
  readonly backend: Backend;
  readonly scheduling: SchedulingLoop;
  readonly commands: JobCommands;
  readonly runner: RunnerIntake;

  constructor(options: JobServiceOptions) {
    const { config, store, sidecarUrl } = options;
    const now = options.now ?? (() => new Date());
    this.queries = new JobQueries({
      config,
      store,
      now,
      // The backend is made below, from the outcomes; asked only once jobs wait.
      cluster: id => this.backend.waitingReason?.(id),
      gpuFree: p => this.backend.gpuFree?.(p) ?? null
    });
    const queries = this.queries;
    this.publisher = new JobPublisher({ store, queries });
    const publisher = this.publisher;
    this.lifecycle = new JobLifecycle({
      config,
      store,
      publisher,
      now,
      ended: job => queries.jobEnded(job)
    });
    const lifecycle = this.lifecycle;
    const restarts = new JobRestarts({
      config,
      store,
      publisher,
      lifecycle,
      now
    });
    this.outcomes = new BackendOutcomes({
      store,
      publisher,
      lifecycle,
      restarts
    });
    this.backend = options.backend(this.outcomes);
    const backend = this.backend;
    this.scheduling = new SchedulingLoop({
      config,
      store,
      backend,
      publisher,
      lifecycle,
      queue: queries.queue,
      sidecarUrl,
      now
    });
    this.commands = new JobCommands({
      config,
      store,
      backend,
      queries,
      publisher,
      lifecycle
    });
    this.runner = new RunnerIntake({
      config,
      store,
      queries,
      publisher,
      lifecycle
    });
  }
}
