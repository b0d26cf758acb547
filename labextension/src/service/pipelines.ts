/**
 * The pipelines part of the sidecar's REST API (`/api/pipelines`), on the
 * main client's authenticated request.
 */
import type { IPipelinesApi } from '../tokens';
import type { IPipeline, IPipelineSubmit } from './scheduleModel';
import type { SidecarRequest } from './schedules';

export class PipelinesClient implements IPipelinesApi {
  constructor(private readonly _request: SidecarRequest) {}

  async list(options: { all?: boolean } = {}): Promise<IPipeline[]> {
    const body = await this._request<{ pipelines: IPipeline[] }>(
      `api/pipelines${options.all ? '?all=1' : ''}`
    );
    return body.pipelines;
  }

  get(id: string): Promise<IPipeline> {
    return this._request(`api/pipelines/${encodeURIComponent(id)}`);
  }

  submit(submit: IPipelineSubmit): Promise<IPipeline> {
    return this._request('api/pipelines', {
      method: 'POST',
      body: JSON.stringify(submit)
    });
  }

  cancel(id: string): Promise<IPipeline> {
    return this._action(id, 'cancel');
  }

  rerun(id: string): Promise<IPipeline> {
    return this._action(id, 'rerun');
  }

  private _action(id: string, action: string): Promise<IPipeline> {
    return this._request(`api/pipelines/${encodeURIComponent(id)}/${action}`, {
      method: 'POST'
    });
  }
}
