/**
 * A job's runner log (`GET /api/jobs/:id/log`) as read-only text, with a
 * button to read it again.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { describe } from '../service/errors';
import type { IJob } from '../service/model';
import type { INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';

export class LogView extends ReactWidget {
  constructor(
    service: Pick<INbqueueService, 'getLog'>,
    job: IJob,
    trans: TranslationBundle = nbqueueBundle()
  ) {
    super();
    this._service = service;
    this._jobId = job.id;
    this._trans = trans;
    this.addClass('nbq-LogView');
    this.node.dataset.jobId = job.id;
    void this.reload();
  }

  /** Read the log again. */
  async reload(): Promise<void> {
    try {
      const text = await this._service.getLog(this._jobId);
      this._text = text || this._trans.__('(the log is empty)');
      this._failed = false;
    } catch (error) {
      this._text = this._trans.__(
        'Could not read the log of job %1: %2',
        this._jobId,
        describe(error)
      );
      this._failed = true;
    }
    this.update();
  }

  protected render(): React.ReactElement {
    const trans = this._trans;
    return (
      <>
        <div className="nbq-LogView-toolbar">
          <button
            type="button"
            className="jp-mod-styled jp-mod-reject"
            title={trans.__('Read the log again')}
            onClick={() => void this.reload()}
          >
            {trans.__('Reload')}
          </button>
        </div>
        <pre
          className={`nbq-LogView-text${this._failed ? ' nbq-mod-error' : ''}`}
        >
          {this._text}
        </pre>
      </>
    );
  }

  private _service: Pick<INbqueueService, 'getLog'>;
  private _jobId: string;
  private _trans: TranslationBundle;
  private _text = '';
  private _failed = false;
}
