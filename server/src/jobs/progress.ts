/**
 * Where a running job is: which of its code cells runs (1-based, of how many) and since when,
 * from the runner's `run_started` (`code_cells`) and `cell_started` (`code_cell`) events. Kept
 * per running job as events arrive; after a sidecar restart read once from the stored events.
 */
import type { JobEvent } from './types';

export interface Progress {
  cell: number;
  cells: number;
  /** When the cell started (ISO time, the runner's clock). */
  cell_started_at: string;
}

/** Reads a job's latest stored event of a type (Store.latestEvent). */
export type LatestEvent = (jobId: string, type: string) => JobEvent | undefined;

interface Place {
  cells: number | null;
  cell: number | null;
  startedAt: number | null;
  runSeq: number;
}

const count = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0
    ? value
    : null;

export class JobProgress {
  private readonly places = new Map<string, Place>();

  constructor(private readonly latest: LatestEvent) {}

  /** New events of a job: whether its progress changed (a run or a code cell started). */
  observe(jobId: string, events: JobEvent[]): boolean {
    let place = this.places.get(jobId);
    let changed = false;
    for (const e of events) {
      if (e.type === 'run_started') {
        place = {
          cells: count(e.code_cells),
          cell: null,
          startedAt: null,
          runSeq: e.seq
        };
        changed = true;
      } else if (e.type === 'cell_started' && place && e.seq > place.runSeq) {
        place.cell = count(e.code_cell);
        place.startedAt = e.time;
        changed = true;
      }
    }
    if (place) this.places.set(jobId, place);
    return changed;
  }

  /** The running job's progress; null before its first code cell or from an older runner. */
  get(jobId: string): Progress | null {
    const place = this.places.get(jobId) ?? this.load(jobId);
    if (
      !place.cells ||
      !place.cell ||
      place.cell > place.cells ||
      place.startedAt === null
    )
      return null;
    return {
      cell: place.cell,
      cells: place.cells,
      cell_started_at: new Date(place.startedAt).toISOString()
    };
  }

  /** The job no longer runs: nothing of it is kept. */
  forget(jobId: string): void {
    this.places.delete(jobId);
  }

  private load(jobId: string): Place {
    const run = this.latest(jobId, 'run_started');
    const place: Place = {
      cells: null,
      cell: null,
      startedAt: null,
      runSeq: run?.seq ?? Infinity
    };
    if (run) {
      this.observe(jobId, [run]);
      const cell = this.latest(jobId, 'cell_started');
      if (cell) this.observe(jobId, [cell]);
      return this.places.get(jobId) as Place;
    }
    this.places.set(jobId, place);
    return place;
  }
}
