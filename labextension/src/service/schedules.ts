/**
 * The schedules part of the sidecar's REST API (`/api/schedules`), on the
 * main client's authenticated request.
 */
import type { ISchedulesApi } from '../tokens';
import type {
  IRunNow,
  ISchedule,
  ISchedulePreview,
  IScheduleSubmit
} from './scheduleModel';

/** One authenticated JSON call to the sidecar (NbqueueService's). */
export type SidecarRequest = <T>(
  path: string,
  init?: RequestInit
) => Promise<T>;

export class SchedulesClient implements ISchedulesApi {
  constructor(private readonly _request: SidecarRequest) {}

  async list(options: { all?: boolean } = {}): Promise<ISchedule[]> {
    const body = await this._request<{ schedules: ISchedule[] }>(
      `api/schedules${options.all ? '?all=1' : ''}`
    );
    return body.schedules;
  }

  get(id: string): Promise<ISchedule> {
    return this._request(`api/schedules/${encodeURIComponent(id)}`);
  }

  create(submit: IScheduleSubmit): Promise<ISchedule> {
    return this._request('api/schedules', {
      method: 'POST',
      body: JSON.stringify(submit)
    });
  }

  async remove(id: string): Promise<void> {
    await this._request(`api/schedules/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  pause(id: string): Promise<ISchedule> {
    return this._action(id, 'pause');
  }

  resume(id: string): Promise<ISchedule> {
    return this._action(id, 'resume');
  }

  runNow(id: string): Promise<IRunNow> {
    return this._action(id, 'run-now');
  }

  preview(cron: string, timezone: string): Promise<ISchedulePreview> {
    const query = new URLSearchParams({ cron, timezone });
    return this._request(`api/schedules/preview?${query.toString()}`);
  }

  private _action<T>(id: string, action: string): Promise<T> {
    return this._request(`api/schedules/${encodeURIComponent(id)}/${action}`, {
      method: 'POST'
    });
  }
}
