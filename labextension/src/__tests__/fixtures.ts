/**
 * Job events for the tests, built to the shapes of events.schema.json.
 */
import type * as nbformat from '@jupyterlab/nbformat';

import type { IPlotly } from '../metrics/plotly';
import type { IClock } from '../metrics/throttle';
import type { JobEvent } from '../service/events';
import type { IJob } from '../service/model';

/** `Omit` applied to each member of the union, keeping the variants apart. */
type EventBody = JobEvent extends infer E
  ? E extends JobEvent
    ? Omit<E, 'seq' | 'time'>
    : never
  : never;

export class EventLog {
  /** Every event made so far, for the schema test. */
  readonly all: JobEvent[] = [];

  private _seq = 0;

  private _push(event: EventBody): JobEvent {
    const full = {
      seq: ++this._seq,
      time: 1763906700000 + this._seq,
      ...event
    } as JobEvent;
    this.all.push(full);
    return full;
  }

  runStarted(cells: number): JobEvent {
    return this._push({ type: 'run_started', cells, kernel: 'python3' });
  }

  cellStarted(cellId: string, cellIndex = 0): JobEvent {
    return this._push({
      type: 'cell_started',
      cell_id: cellId,
      cell_index: cellIndex
    });
  }

  stream(
    cellId: string,
    text: string,
    name: 'stdout' | 'stderr' = 'stdout'
  ): JobEvent {
    const output: nbformat.IStream = { output_type: 'stream', name, text };
    return this._push({ type: 'output', cell_id: cellId, output });
  }

  output(cellId: string, output: nbformat.IOutput): JobEvent {
    return this._push({ type: 'output', cell_id: cellId, output });
  }

  display(cellId: string, text: string, displayId?: string): JobEvent {
    const output: nbformat.IDisplayData = {
      output_type: 'display_data',
      data: { 'text/plain': text },
      metadata: {}
    };
    return this._push({
      type: 'output',
      cell_id: cellId,
      output,
      ...(displayId ? { display_id: displayId } : {})
    });
  }

  clear(cellId: string, wait: boolean): JobEvent {
    return this._push({ type: 'clear_output', cell_id: cellId, wait });
  }

  updateDisplay(displayId: string, text: string): JobEvent {
    return this._push({
      type: 'update_display_data',
      display_id: displayId,
      output: {
        output_type: 'display_data',
        data: { 'text/plain': text },
        metadata: {}
      }
    });
  }

  executionCount(cellId: string, count: number | null): JobEvent {
    return this._push({
      type: 'execution_count',
      cell_id: cellId,
      execution_count: count
    });
  }

  cellFinished(
    cellId: string,
    status: 'ok' | 'error' = 'ok',
    cellIndex = 0
  ): JobEvent {
    return this._push({
      type: 'cell_finished',
      cell_id: cellId,
      cell_index: cellIndex,
      status
    });
  }

  error(cellId: string): JobEvent {
    const output: nbformat.IError = {
      output_type: 'error',
      ename: 'ZeroDivisionError',
      evalue: 'division by zero',
      traceback: ['ZeroDivisionError: division by zero']
    };
    return this._push({ type: 'output', cell_id: cellId, output });
  }

  metric(name: string, value: number | null, step: number): JobEvent {
    return this._push({ type: 'metric', name, value, step });
  }

  log(message: string): JobEvent {
    return this._push({ type: 'log', level: 'info', message });
  }

  outputValue(name: string, value: unknown): JobEvent {
    return this._push({ type: 'output_value', name, value });
  }

  attempt(attempt: number, maxAttempts: number): JobEvent {
    return this._push({
      type: 'attempt',
      attempt,
      max_attempts: maxAttempts,
      cause: 'preemption',
      reason: `Attempt ${attempt} of ${maxAttempts}, restarted after node preemption.`
    });
  }
}

export interface ITrace {
  type: string;
  name: string;
  x: unknown[];
  y: (number | null)[];
  showlegend?: boolean;
}

/** plotly.js stand-in that records what it is asked to draw. */
export class FakePlotly implements IPlotly {
  calls: {
    root: HTMLElement;
    data: ITrace[];
    layout?: Record<string, unknown>;
  }[] = [];
  Plots = { resize: () => undefined };

  async react(
    root: HTMLElement,
    data: object[],
    layout?: object
  ): Promise<HTMLElement> {
    this.calls.push({
      root,
      data: data as ITrace[],
      layout: layout as Record<string, unknown> | undefined
    });
    return root;
  }

  purge(): void {
    /* nothing drawn */
  }

  async downloadImage(): Promise<string> {
    return '';
  }

  /** The traces last drawn for a group. */
  last(group: string): ITrace[] {
    const call = [...this.calls]
      .reverse()
      .find(c => c.root.parentElement?.dataset.group === group);
    return call?.data ?? [];
  }
}

/** A clock that is always far enough ahead for the throttle to run at once. */
export function freeClock(): IClock {
  let time = 0;
  return {
    now: () => (time += 1000),
    setTimeout: (callback: () => void) => setTimeout(callback, 0),
    clearTimeout: handle =>
      clearTimeout(handle as ReturnType<typeof setTimeout>)
  };
}

/** What `read` returns once it is truthy (polled every 10 ms, for 2 s at most). */
export async function until<T>(read: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (value) {
      return value;
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

/**
 * A job as the sidecar lists it: a queued `cpu` job of alice's with nothing
 * known yet, and `fields` over it.
 */
export function jobFixture(fields: Partial<IJob> & Pick<IJob, 'id'>): IJob {
  return {
    name: `train ${fields.id}`,
    owner: 'alice',
    profile: 'cpu',
    queue: 'cpu',
    priority: 'normal',
    parameters: {},
    notebook_path: 'train.ipynb',
    state: 'queued',
    reason: null,
    created_at: '',
    started_at: null,
    finished_at: null,
    position: null,
    last_seq: 0,
    has_result: false,
    cancel_requested: false,
    held: false,
    eta_seconds: null,
    eta_basis: null,
    eta: null,
    progress: null,
    pipeline_id: null,
    pipeline_step: null,
    schedule_id: null,
    scheduled_for: null,
    attempt: 1,
    max_attempts: 1,
    restarts: [],
    waiting: null,
    ...fields
  };
}
