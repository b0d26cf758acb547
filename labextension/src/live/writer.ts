/**
 * Applies a job's ordered event stream to a notebook's cells.
 *
 * Events are matched to cells by nbformat cell id; cells that were deleted
 * meanwhile are skipped. Only outputs, execution counts and the running mark
 * are touched, never sources or metadata. Every event is applied once: events
 * at or below the last applied seq are dropped, and events that arrive ahead
 * of a gap wait until the gap is filled (see `missingAfter`).
 */
import type * as nbformat from '@jupyterlab/nbformat';

import type { JobEvent } from '../service/events';
import type { INotebookAdapter } from './adapter';

export namespace LiveWriter {
  export interface IApplyResult {
    /** Events applied by this call, in seq order. */
    applied: JobEvent[];
    /**
     * Set when later events wait for missing ones: fetch the events after
     * this seq (`GET /api/jobs/:id/events?after=N`) and apply them.
     */
    missingAfter: number | null;
  }
}

/** The MIME type of an ipywidgets view: its model lives in the job's kernel, not this one. */
const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';

/**
 * A bundle to show live: a widget view becomes its text fallback, since the open notebook's
 * kernel has no such model (JupyterLab would show "model not found"). The executed notebook
 * keeps the view and the widget state, so it renders when the result is opened.
 */
export function liveData(data: nbformat.IMimeBundle): nbformat.IMimeBundle {
  if (!(WIDGET_VIEW_MIME in data) || !('text/plain' in data)) return data;
  const shown = { ...data };
  delete shown[WIDGET_VIEW_MIME];
  return shown;
}

function liveOutput(output: nbformat.IOutput): nbformat.IOutput {
  const data = (output as nbformat.IDisplayData).data;
  return data
    ? ({ ...output, data: liveData(data) } as nbformat.IOutput)
    : output;
}

interface IDisplayTarget {
  cellId: string;
  index: number;
}

export class LiveWriter {
  constructor(
    private readonly _adapter: INotebookAdapter,
    lastSeq = 0
  ) {
    this._lastSeq = lastSeq;
  }

  /** The seq of the last event applied (0 before the first). */
  get lastSeq(): number {
    return this._lastSeq;
  }

  /** Cells marked as running and not yet finished. */
  get runningCells(): ReadonlySet<string> {
    return this._running;
  }

  apply(events: readonly JobEvent[]): LiveWriter.IApplyResult {
    for (const event of events) {
      if (event.seq > this._lastSeq) {
        this._pending.set(event.seq, event);
      }
    }
    const applied: JobEvent[] = [];
    let next = this._pending.get(this._lastSeq + 1);
    while (next) {
      this._pending.delete(next.seq);
      this._applyOne(next);
      this._lastSeq = next.seq;
      applied.push(next);
      next = this._pending.get(this._lastSeq + 1);
    }
    return {
      applied,
      missingAfter: this._pending.size > 0 ? this._lastSeq : null
    };
  }

  /** Remove every running mark, e.g. when the job ended or the view closes. */
  unmarkAll(): void {
    for (const cellId of this._running) {
      this._adapter.mark(cellId, false);
    }
    this._running.clear();
  }

  private _applyOne(event: JobEvent): void {
    switch (event.type) {
      case 'cell_started': {
        const outputs = this._adapter.outputs(event.cell_id);
        if (!outputs) {
          return;
        }
        outputs.clear();
        this._forgetDisplays(event.cell_id);
        this._waitingClear.delete(event.cell_id);
        this._adapter.setExecutionCount(event.cell_id, null);
        this._adapter.mark(event.cell_id, true);
        this._running.add(event.cell_id);
        return;
      }
      case 'output': {
        const outputs = this._adapter.outputs(event.cell_id);
        if (!outputs) {
          return;
        }
        if (this._waitingClear.delete(event.cell_id)) {
          // OutputAreaModel.add performs the delayed clear of clear(true).
          this._forgetDisplays(event.cell_id);
        }
        if (event.display_id && event.output.output_type !== 'stream') {
          // As in JupyterLab: showing a display id again updates its earlier outputs too.
          const shown = event.output as nbformat.IDisplayData;
          this._updateDisplays(event.display_id, shown.data, shown.metadata);
        }
        const length = outputs.add(liveOutput(event.output));
        if (event.display_id) {
          const targets = this._displays.get(event.display_id) ?? [];
          targets.push({ cellId: event.cell_id, index: length - 1 });
          this._displays.set(event.display_id, targets);
        }
        return;
      }
      case 'clear_output': {
        const outputs = this._adapter.outputs(event.cell_id);
        if (!outputs) {
          return;
        }
        outputs.clear(event.wait);
        if (event.wait) {
          this._waitingClear.add(event.cell_id);
        } else {
          this._forgetDisplays(event.cell_id);
        }
        return;
      }
      case 'update_display_data':
        // A superseded update: a later one (also replayed) sets the display.
        if (event.output) {
          this._updateDisplays(
            event.display_id,
            event.output.data,
            event.output.metadata
          );
        }
        return;
      case 'execution_count':
        this._adapter.setExecutionCount(event.cell_id, event.execution_count);
        return;
      case 'cell_finished':
        if (this._running.delete(event.cell_id)) {
          this._adapter.mark(event.cell_id, false);
        }
        return;
      case 'attempt':
        // The earlier attempt's runner is gone with its running cells; the next one starts
        // the notebook over (its cell_started events clear each cell).
        this.unmarkAll();
        this._adapter.restarted?.(event);
        return;
      default:
        // run_started, metric and log do not change cells.
        return;
    }
  }

  private _updateDisplays(
    displayId: string,
    data: nbformat.IMimeBundle,
    metadata: nbformat.OutputMetadata | undefined
  ): void {
    for (const { cellId, index } of this._displays.get(displayId) ?? []) {
      const outputs = this._adapter.outputs(cellId);
      if (outputs && index < outputs.length) {
        const previous = outputs.get(index).toJSON();
        outputs.set(index, {
          ...previous,
          data: liveData(data),
          metadata: metadata ?? {}
        } as nbformat.IOutput);
      }
    }
  }

  private _forgetDisplays(cellId: string): void {
    for (const [displayId, targets] of this._displays) {
      const kept = targets.filter(target => target.cellId !== cellId);
      if (kept.length) {
        this._displays.set(displayId, kept);
      } else {
        this._displays.delete(displayId);
      }
    }
  }

  private _lastSeq: number;
  private _pending = new Map<number, JobEvent>();
  private _displays = new Map<string, IDisplayTarget[]>();
  private _waitingClear = new Set<string>();
  private _running = new Set<string>();
}
