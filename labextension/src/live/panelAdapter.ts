/**
 * The live writer's view of an open notebook.
 */
import type { ICodeCellModel } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IOutputAreaModel } from '@jupyterlab/outputarea';

import { restartText } from '../jobs/attempt';
import type { IAttemptEvent } from '../service/events';
import { nbqueueBundle, TranslationBundle } from '../translation';
import type { INotebookAdapter } from './adapter';

export const RUNNING_CLASS = 'nbq-remote-running';
export const BADGE_CLASS = 'nbq-RemoteBadge';

export class NotebookPanelAdapter implements INotebookAdapter {
  constructor(
    private readonly _panel: NotebookPanel,
    private readonly _trans: TranslationBundle = nbqueueBundle()
  ) {}

  outputs(cellId: string): IOutputAreaModel | null {
    return this._codeCell(cellId)?.outputs ?? null;
  }

  setExecutionCount(cellId: string, count: number | null): boolean {
    const model = this._codeCell(cellId);
    if (!model) {
      return false;
    }
    model.executionCount = count;
    return true;
  }

  restarted(event: IAttemptEvent): void {
    this._attempt = restartText(
      event.attempt,
      event.max_attempts,
      event.cause,
      this._trans
    );
  }

  /** What a running cell's badge says. */
  badgeText(): string {
    return this._attempt
      ? this._trans.__('running on nbqueue (%1)', this._attempt)
      : this._trans.__('running on nbqueue');
  }

  mark(cellId: string, running: boolean): void {
    const cell = this._panel.content.widgets.find(
      widget => widget.model.id === cellId
    );
    if (!cell) {
      return;
    }
    cell.toggleClass(RUNNING_CLASS, running);
    const badge = cell.node.querySelector(`:scope > .${BADGE_CLASS}`);
    if (running && !badge) {
      const node = document.createElement('div');
      node.className = BADGE_CLASS;
      node.textContent = this.badgeText();
      node.title = this._trans.__(
        'This cell is running as part of an nbqueue job.'
      );
      cell.node.appendChild(node);
    } else if (!running && badge) {
      badge.remove();
    }
  }

  private _attempt = '';

  private _codeCell(cellId: string): ICodeCellModel | null {
    const cells = this._panel.content.model?.cells;
    if (!cells) {
      return null;
    }
    for (let i = 0; i < cells.length; i++) {
      const cell = cells.get(i);
      if (cell.id === cellId) {
        return cell.type === 'code' ? (cell as ICodeCellModel) : null;
      }
    }
    return null;
  }
}
