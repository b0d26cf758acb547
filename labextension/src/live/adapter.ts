/**
 * What the live writer needs from a notebook, so that its logic can be tested
 * with bare models and run against an open `NotebookPanel`.
 */
import type { IOutputAreaModel } from '@jupyterlab/outputarea';

import type { IAttemptEvent } from '../service/events';

export interface INotebookAdapter {
  /** The outputs of the code cell with this nbformat id; null if it is gone. */
  outputs(cellId: string): IOutputAreaModel | null;

  /** Set the execution count; false if the cell is gone. */
  setExecutionCount(cellId: string, count: number | null): boolean;

  /** Show or hide that the cell is running remotely. */
  mark(cellId: string, running: boolean): void;

  /** The job runs again (attempt `event.attempt`): say so where its cells run. */
  restarted?(event: IAttemptEvent): void;
}
