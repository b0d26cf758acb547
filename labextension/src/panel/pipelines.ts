/**
 * The pipelines of the Jobs panel: the sidecar's list (`GET /api/pipelines`)
 * kept current by the socket's `pipeline` messages, and how the job rows
 * group under their pipeline. The grouping is a pure function.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { describe } from '../service/errors';
import type { IJob } from '../service/model';
import type {
  IPipeline,
  IPipelineStep,
  PipelineStepState
} from '../service/scheduleModel';
import type { INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';
import type { IJobRow } from './rows';

/** What the model needs of the sidecar client. */
export type PipelinesSource = Pick<
  INbqueueService,
  'pipelines' | 'pipelineChanged' | 'connected'
>;

export class PipelinesModel {
  constructor(
    source: PipelinesSource,
    trans: TranslationBundle = nbqueueBundle()
  ) {
    this._source = source;
    this._trans = trans;
    source.pipelineChanged.connect((_, pipeline) => this.update(pipeline));
    source.connected.connect(() => void this.refresh(this._all));
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get error(): string | null {
    return this._error;
  }

  get(id: string): IPipeline | undefined {
    return this._pipelines.get(id);
  }

  /** Read the list again; `all`: everyone's (admins). */
  async refresh(all = false): Promise<void> {
    this._all = all;
    try {
      const pipelines = await this._source.pipelines.list(all ? { all } : {});
      this._pipelines = new Map(pipelines.map(p => [p.id, p]));
      this._error = null;
    } catch (error) {
      this._error = this._trans.__(
        'Could not list nbqueue pipelines: %1',
        describe(error)
      );
    }
    this._changed.emit();
  }

  /**
   * Cancel a running pipeline, or re-run a failed or cancelled one from the
   * steps that did not succeed; a refusal shows as the model's error.
   */
  async act(id: string, action: 'cancel' | 'rerun'): Promise<void> {
    try {
      const pipeline = await this._source.pipelines[action](id);
      this._error = null;
      this.update(pipeline);
    } catch (error) {
      this._error =
        action === 'cancel'
          ? this._trans.__(
              'Could not cancel pipeline %1: %2',
              id,
              describe(error)
            )
          : this._trans.__(
              'Could not re-run pipeline %1: %2',
              id,
              describe(error)
            );
      this._changed.emit();
    }
  }

  /** A pipeline the socket or an action reported. */
  update(pipeline: IPipeline): void {
    this._pipelines.set(pipeline.id, pipeline);
    this._changed.emit();
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _source: PipelinesSource;
  private _trans: TranslationBundle;
  private _pipelines = new Map<string, IPipeline>();
  private _all = false;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}

/** The pipeline a job belongs to, if any. */
export function pipelineIdOf(job: IJob): string | null {
  return job.pipeline_id;
}

/** One step of a pipeline group: its job's row, or none yet (waiting, skipped). */
export interface IStepItem {
  step: IPipelineStep;
  row: IJobRow | null;
}

/** What the list draws: a job alone, or a pipeline with its steps. */
export type ListItem =
  | { kind: 'job'; row: IJobRow }
  | { kind: 'pipeline'; pipeline: IPipeline; steps: IStepItem[] };

/**
 * The rows, with the jobs of a known pipeline gathered under it where its
 * first job shows; a pipeline none of whose jobs shows is left out (the
 * filters hid them).
 */
export function groupRows(
  rows: IJobRow[],
  jobOf: (id: string) => IJob | undefined,
  pipelineOf: (id: string) => IPipeline | undefined
): ListItem[] {
  const items: ListItem[] = [];
  const grouped = new Map<string, Map<string, IJobRow>>();
  for (const row of rows) {
    const job = jobOf(row.id);
    const pipeline = job && pipelineOf(pipelineIdOf(job) ?? '');
    if (!pipeline) {
      items.push({ kind: 'job', row });
      continue;
    }
    let members = grouped.get(pipeline.id);
    if (!members) {
      members = new Map();
      grouped.set(pipeline.id, members);
      items.push({ kind: 'pipeline', pipeline, steps: [] });
    }
    members.set(row.id, row);
  }
  for (const item of items) {
    if (item.kind === 'pipeline') {
      const members = grouped.get(item.pipeline.id)!;
      item.steps = item.pipeline.steps.map(step => ({
        step,
        row: step.job_id ? (members.get(step.job_id) ?? null) : null
      }));
    }
  }
  return items;
}

const FOLLOWED: readonly PipelineStepState[] = [
  'running',
  'starting',
  'queued'
];

/** The job a pipeline's live view follows: the running step's (else the next to run). */
export function liveStepJobId(pipeline: IPipeline): string | null {
  for (const state of FOLLOWED) {
    const step = pipeline.steps.find(s => s.state === state && s.job_id);
    if (step) {
      return step.job_id;
    }
  }
  return null;
}
