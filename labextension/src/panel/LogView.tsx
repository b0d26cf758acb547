/**
 * A job's runner log (`GET /api/jobs/:id/log`) as read-only text, with a
 * button to read it again.
 */
import { Widget } from '@lumino/widgets';

import type { NbqueueService } from '../service/client';
import { describe } from '../service/errors';
import type { IJob } from '../service/model';

export class LogView extends Widget {
  constructor(service: NbqueueService, job: IJob) {
    super();
    this._service = service;
    this._jobId = job.id;
    this.addClass('nbq-LogView');
    this.node.dataset.jobId = job.id;
    const toolbar = document.createElement('div');
    toolbar.className = 'nbq-LogView-toolbar';
    const reload = document.createElement('button');
    reload.type = 'button';
    reload.className = 'jp-mod-styled jp-mod-reject';
    reload.textContent = 'Reload';
    reload.title = 'Read the log again';
    reload.addEventListener('click', () => void this.reload());
    toolbar.appendChild(reload);
    this._text = document.createElement('pre');
    this._text.className = 'nbq-LogView-text';
    this.node.append(toolbar, this._text);
    void this.reload();
  }

  async reload(): Promise<void> {
    try {
      const text = await this._service.getLog(this._jobId);
      this._text.textContent = text || '(the log is empty)';
      this._text.classList.remove('nbq-mod-error');
    } catch (error) {
      this._text.textContent = `Could not read the log of job ${this._jobId}: ${describe(error)}`;
      this._text.classList.add('nbq-mod-error');
    }
  }

  private _service: NbqueueService;
  private _jobId: string;
  private _text: HTMLElement;
}
