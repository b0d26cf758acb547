/**
 * The Schedules tab's model: the user's schedules (`GET /api/schedules`) and
 * the actions on one, each answered by the sidecar's new view of it.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { describe } from '../service/errors';
import type { IRunNow, ISchedule } from '../service/scheduleModel';
import type { INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';

export type SchedulesSource = Pick<INbqueueService, 'schedules'>;

export type ScheduleAction = 'pause' | 'resume' | 'run-now' | 'delete';

export class SchedulesModel {
  constructor(
    source: SchedulesSource,
    trans: TranslationBundle = nbqueueBundle()
  ) {
    this._source = source;
    this._trans = trans;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get schedules(): ISchedule[] {
    return [...this._schedules.values()];
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** Why the last list or action failed; null when it worked. */
  get error(): string | null {
    return this._error;
  }

  async refresh(all = false): Promise<void> {
    try {
      const schedules = await this._source.schedules.list(all ? { all } : {});
      this._schedules = new Map(schedules.map(s => [s.id, s]));
      this._loaded = true;
      this._error = null;
    } catch (error) {
      this._error = this._trans.__(
        'Could not list nbqueue schedules: %1',
        describe(error)
      );
    }
    this._changed.emit();
  }

  /** Runs one action; the answer replaces the schedule (or `delete` drops it). */
  async act(
    schedule: ISchedule,
    action: ScheduleAction
  ): Promise<IRunNow | null> {
    const api = this._source.schedules;
    let started: IRunNow | null = null;
    try {
      switch (action) {
        case 'pause':
          this._schedules.set(schedule.id, await api.pause(schedule.id));
          break;
        case 'resume':
          this._schedules.set(schedule.id, await api.resume(schedule.id));
          break;
        case 'run-now':
          started = await api.runNow(schedule.id);
          // Its last run is now this one.
          this._schedules.set(schedule.id, await api.get(schedule.id));
          break;
        case 'delete':
          await api.remove(schedule.id);
          this._schedules.delete(schedule.id);
          break;
      }
      this._error = null;
    } catch (error) {
      const trans = this._trans;
      const why = describe(error);
      this._error = {
        pause: () =>
          trans.__('Could not pause schedule %1: %2', schedule.name, why),
        resume: () =>
          trans.__('Could not resume schedule %1: %2', schedule.name, why),
        'run-now': () =>
          trans.__('Could not run schedule %1 now: %2', schedule.name, why),
        delete: () =>
          trans.__('Could not delete schedule %1: %2', schedule.name, why)
      }[action]();
    }
    this._changed.emit();
    return started;
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _source: SchedulesSource;
  private _trans: TranslationBundle;
  private _schedules = new Map<string, ISchedule>();
  private _loaded = false;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}
