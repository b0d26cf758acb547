/**
 * The job event format of `server/schema/events.schema.json`.
 *
 * Hand-written to mirror the schema; the tests validate fixtures of every
 * variant against the schema file so the two cannot drift apart silently.
 */
import type * as nbformat from '@jupyterlab/nbformat';

interface IEventBase {
  /** Starts at 1 and increases by exactly 1 per job. */
  seq: number;
  /** Milliseconds since the Unix epoch. */
  time: number;
  cell_id?: string;
  cell_index?: number;
}

export interface IRunStartedEvent extends IEventBase {
  type: 'run_started';
  cells: number;
  /** How many of them are code cells (runners from this version on). */
  code_cells?: number;
  kernel?: string;
}

export interface ICellStartedEvent extends IEventBase {
  type: 'cell_started';
  cell_id: string;
  cell_index: number;
  /** Which code cell, 1-based (runners from this version on). */
  code_cell?: number;
}

export interface IOutputEvent extends IEventBase {
  type: 'output';
  cell_id: string;
  output: nbformat.IOutput;
  display_id?: string;
}

export interface IClearOutputEvent extends IEventBase {
  type: 'clear_output';
  cell_id: string;
  wait: boolean;
}

export interface IUpdateDisplayDataEvent extends IEventBase {
  type: 'update_display_data';
  display_id: string;
  /**
   * Absent when a later update of the same display replaced this one in the
   * sidecar's store (`superseded_by` is then that update's seq).
   */
  output?: nbformat.IDisplayData;
  superseded_by?: number;
}

export interface IExecutionCountEvent extends IEventBase {
  type: 'execution_count';
  cell_id: string;
  execution_count: number | null;
}

export interface ICellFinishedEvent extends IEventBase {
  type: 'cell_finished';
  cell_id: string;
  cell_index: number;
  status: 'ok' | 'error';
}

export interface IMetricEvent extends IEventBase {
  type: 'metric';
  name: string;
  /** null stands for NaN or an infinity. */
  value: number | null;
  step: number;
  /** `system` for the runner's CPU/memory/GPU samples; absent in old events. */
  kind?: 'user' | 'system';
}

/** nbqueue.output in the notebook: a value handed to the next steps of a pipeline. */
export interface IOutputValueEvent extends IEventBase {
  type: 'output_value';
  name: string;
  value: unknown;
}

export interface ILogEvent extends IEventBase {
  type: 'log';
  level: 'debug' | 'info' | 'warning' | 'error';
  message: string;
}

/**
 * Written by the sidecar when the job runs again after its pod was taken away: the events
 * after it are attempt `attempt`'s, which starts the notebook over.
 */
export interface IAttemptEvent extends IEventBase {
  type: 'attempt';
  attempt: number;
  max_attempts: number;
  cause: RestartCause;
  reason: string;
}

/** What took a job's pod away (the Job view's `restarts[].cause`). */
export type RestartCause =
  'preemption' | 'eviction' | 'node_lost' | 'pod_deleted';

export type JobEvent =
  | IRunStartedEvent
  | ICellStartedEvent
  | IOutputEvent
  | IClearOutputEvent
  | IUpdateDisplayDataEvent
  | IExecutionCountEvent
  | ICellFinishedEvent
  | IMetricEvent
  | IOutputValueEvent
  | ILogEvent
  | IAttemptEvent;

/** Socket.io `events` message. */
export interface IEventsMessage {
  job_id: string;
  events: JobEvent[];
}
