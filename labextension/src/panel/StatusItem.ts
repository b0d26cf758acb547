/**
 * The status bar item "2 running · 3 queued": this user's jobs, live; a
 * click opens the Jobs panel.
 */
import { Widget } from '@lumino/widgets';

import { nbqueueBundle, TranslationBundle } from '../translation';
import type { JobsModel } from './model';
import { statusProgress } from './estimates';
import { statusText } from './rows';

export class JobsStatusItem extends Widget {
  constructor(
    model: JobsModel,
    open: () => void,
    trans: TranslationBundle = nbqueueBundle()
  ) {
    super({ node: document.createElement('button') });
    this._model = model;
    this._trans = trans;
    this.addClass('nbq-StatusItem');
    this.addClass('jp-StatusBar-TextItem');
    const node = this.node as HTMLButtonElement;
    node.type = 'button';
    node.addEventListener('click', open);
    model.changed.connect(this._update, this);
    this._update();
  }

  dispose(): void {
    this._model.changed.disconnect(this._update, this);
    super.dispose();
  }

  private _update(): void {
    const trans = this._trans;
    const counts = this._model.counts();
    const cell = statusProgress(this._model.jobs, trans);
    this.node.textContent = this._model.loaded
      ? statusText(counts, trans) + (cell ? ` · ${cell}` : '')
      : this._model.error
        ? trans.__('nbqueue: unavailable')
        : trans.__('nbqueue: …');
    this.node.title =
      this._model.error ?? trans.__('nbqueue jobs: open the Jobs panel');
    this.node.dataset.running = String(counts.running);
    this.node.dataset.queued = String(counts.queued);
  }

  private _model: JobsModel;
  private _trans: TranslationBundle;
}
