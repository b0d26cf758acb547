import type { Backend } from '../backends/backend';
import type { Config } from '../config/schema';
import type { Store } from '../store/store';
import { JobCommands } from './commands';
import { JobLifecycle } from './lifecycle';
import { BackendOutcomes } from './outcomes';
import { JobPublisher } from './publisher';
import { JobQueries } from './queries';
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
 * changed) → lifecycle (queue, change, end a job) → outcomes (what the backend reports) →
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
    this.queries = new JobQueries({ config, store, now });
    const queries = this.queries;
    this.publisher = new JobPublisher({ store, queries });
    const publisher = this.publisher;
    this.lifecycle = new JobLifecycle({ config, store, publisher, now });
    const lifecycle = this.lifecycle;
    this.outcomes = new BackendOutcomes({ store, publisher, lifecycle });
    this.backend = options.backend(this.outcomes);
    const backend = this.backend;
    this.scheduling = new SchedulingLoop({
      config,
      store,
      backend,
      publisher,
      lifecycle,
      sidecarUrl,
      now
    });
    this.commands = new JobCommands({
      config,
      store,
      backend,
      queries,
      publisher,
      lifecycle,
      now
    });
    this.runner = new RunnerIntake({
      config,
      store,
      queries,
      publisher,
      lifecycle
    });
  }

  // Delegations kept for call sites until they use the rooms directly (issue 12).
  list(...a: Parameters<JobQueries['list']>) {
    return this.queries.list(...a);
  }
  get(...a: Parameters<JobQueries['get']>) {
    return this.queries.get(...a);
  }
  getRecord(...a: Parameters<JobQueries['getRecord']>) {
    return this.queries.getRecord(...a);
  }
  events(...a: Parameters<JobQueries['events']>) {
    return this.queries.events(...a);
  }
  metrics(...a: Parameters<JobQueries['metrics']>) {
    return this.queries.metrics(...a);
  }
  result(...a: Parameters<JobQueries['result']>) {
    return this.queries.result(...a);
  }
  profiles() {
    return this.queries.profiles();
  }
  queues() {
    return this.queries.queues();
  }
  allowedPriorities(...a: Parameters<JobQueries['allowedPriorities']>) {
    return this.queries.allowedPriorities(...a);
  }
  submit(...a: Parameters<JobCommands['submit']>) {
    return this.commands.submit(...a);
  }
  cancel(...a: Parameters<JobCommands['cancel']>) {
    return this.commands.cancel(...a);
  }
  hold(...a: Parameters<JobCommands['hold']>) {
    return this.commands.hold(...a);
  }
  release(...a: Parameters<JobCommands['release']>) {
    return this.commands.release(...a);
  }
  rerun(...a: Parameters<JobCommands['rerun']>) {
    return this.commands.rerun(...a);
  }
  move(...a: Parameters<JobCommands['move']>) {
    return this.commands.move(...a);
  }
  setPriority(...a: Parameters<JobCommands['setPriority']>) {
    return this.commands.setPriority(...a);
  }
  reorder(...a: Parameters<JobCommands['reorder']>) {
    return this.commands.reorder(...a);
  }
  log(...a: Parameters<JobCommands['log']>) {
    return this.commands.log(...a);
  }
  authenticateRunner(...a: Parameters<RunnerIntake['authenticate']>) {
    return this.runner.authenticate(...a);
  }
  runnerFetch(...a: Parameters<RunnerIntake['fetch']>) {
    return this.runner.fetch(...a);
  }
  ingestEvents(...a: Parameters<RunnerIntake['ingestEvents']>) {
    return this.runner.ingestEvents(...a);
  }
  finish(...a: Parameters<RunnerIntake['finish']>) {
    return this.runner.finish(...a);
  }
}

// Delegations kept for call sites until they use the rooms directly (issue 12).
export { EVENTS_BODY_BYTES, MAX_EVENT_BYTES } from './runnerIntake';
