/**
 * The Jobs table in the main area: its command ("Open Jobs Table", in the
 * palette), a status bar button, and the layout restorer that opens it again
 * after a reload. Built by the Jobs panel's plugin, on the panel's model and
 * actions, so both show the same jobs live.
 */
import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import type { IStateDB } from '@jupyterlab/statedb';
import type { IStatusBar } from '@jupyterlab/statusbar';
import { listIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import type { JobActions } from '../panel/actions';
import type { JobsModel } from '../panel/model';
import { CommandIDs } from '../tokens';
import type { TranslationBundle } from '../translation';
import { JobsTable } from './JobsTable';
import { JobsTableModel } from './model';

export interface IJobsTableOptions {
  app: JupyterFrontEnd;
  model: JobsModel;
  actions: JobActions;
  trans: TranslationBundle;
  restorer: ILayoutRestorer | null;
  palette: ICommandPalette | null;
  statusBar: IStatusBar | null;
  state: IStateDB | null;
}

/** Registers the table's command; returns what opens the table. */
export function addJobsTable(options: IJobsTableOptions): () => void {
  const { app, model, actions, trans, restorer, palette, statusBar } = options;
  const tracker = new WidgetTracker<MainAreaWidget<JobsTable>>({
    namespace: 'nbqueue-jobs-table'
  });
  // One table model for the page: sort and filters are the same wherever
  // the table is opened from.
  const tableModel = new JobsTableModel({
    jobs: model,
    state: options.state,
    trans
  });
  const restored = tableModel.restore();

  const open = async () => {
    const existing = tracker.currentWidget;
    if (existing && !existing.isDisposed) {
      app.shell.activateById(existing.id);
      return;
    }
    await restored;
    const content = new JobsTable(
      tableModel,
      actions,
      () => void model.refresh(),
      trans
    );
    const widget = new MainAreaWidget({ content });
    widget.id = 'nbq-jobs-table';
    widget.title.label = trans.__('Jobs');
    widget.title.caption = trans.__('nbqueue Jobs Table');
    widget.title.icon = listIcon;
    widget.title.closable = true;
    await tracker.add(widget);
    app.shell.add(widget, 'main');
    app.shell.activateById(widget.id);
  };

  app.commands.addCommand(CommandIDs.openJobsTable, {
    label: trans.__('Open Jobs Table'),
    caption: trans.__('Every nbqueue job in a sortable, filterable table'),
    icon: listIcon,
    execute: open
  });
  palette?.addItem({
    command: CommandIDs.openJobsTable,
    category: trans.__('nbqueue')
  });
  void restorer?.restore(tracker, {
    command: CommandIDs.openJobsTable,
    name: () => 'jobs-table'
  });

  if (statusBar) {
    const button = new Widget({ node: document.createElement('button') });
    button.addClass('nbq-TableStatusItem');
    button.addClass('jp-StatusBar-TextItem');
    (button.node as HTMLButtonElement).type = 'button';
    button.node.title = trans.__('Open Jobs Table');
    listIcon.element({ container: button.node, tag: 'span' });
    button.node.addEventListener('click', () => void open());
    statusBar.registerStatusItem('nbqueue-labextension:jobs-table-status', {
      item: button,
      align: 'left',
      rank: 11
    });
  }
  return () => void app.commands.execute(CommandIDs.openJobsTable);
}
