/**
 * The Jobs panel (left sidebar), its commands, and the status bar item.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';

import { addJobsTable } from '../table/plugin';
import { CommandIDs, INbqueue } from '../tokens';
import { nbqueueBundle } from '../translation';
import { JobActions } from './actions';
import { JobsPanel } from './JobsPanel';
import { JobsModel } from './model';
import { liveStepJobId, PipelinesModel } from './pipelines';
import { SchedulesModel } from './schedules';
import { JobsStatusItem } from './StatusItem';

export const jobsPanelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbqueue-labextension:jobs-panel',
  description:
    'The nbqueue Jobs panel: jobs, positions, ETAs, queue operations, logs and metrics; and a status bar item.',
  autoStart: true,
  requires: [INbqueue],
  optional: [
    IStatusBar,
    ILayoutRestorer,
    ICommandPalette,
    ITranslator,
    IStateDB
  ],
  activate: (
    app: JupyterFrontEnd,
    nbqueue: INbqueue,
    statusBar: IStatusBar | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    state: IStateDB | null
  ) => {
    const trans = nbqueueBundle(translator);
    const { service } = nbqueue;
    const model = new JobsModel(service, trans);
    const actions = new JobActions(app, nbqueue, model, trans);
    const pipelines = new PipelinesModel(service, trans);
    const schedules = new SchedulesModel(service, trans);
    const openTable = addJobsTable({
      app,
      model,
      actions,
      trans,
      restorer,
      palette,
      statusBar,
      state
    });
    const panel = new JobsPanel(model, actions, trans, {
      pipelines,
      schedules,
      openTable,
      openPipelineLive: async pipeline => {
        const id = liveStepJobId(pipeline);
        if (id) {
          await actions.openLive(model.get(id) ?? (await service.getJob(id)));
        }
      },
      confirm: async message =>
        (
          await showDialog({
            title: trans.__('nbqueue'),
            body: message,
            buttons: [
              Dialog.cancelButton(),
              Dialog.warnButton({ label: trans.__('Delete') })
            ]
          })
        ).button.accept
    });
    app.shell.add(panel, 'left', { rank: 900 });
    restorer?.add(panel, panel.id);

    const open = () => {
      app.shell.activateById(panel.id);
    };
    app.commands.addCommand(CommandIDs.openJobsPanel, {
      label: trans.__('Show nbqueue jobs'),
      execute: open
    });
    palette?.addItem({
      command: CommandIDs.openJobsPanel,
      category: trans.__('nbqueue')
    });

    const jobOf = (args: { id?: unknown }) =>
      typeof args.id === 'string' ? model.get(args.id) : undefined;
    app.commands.addCommand(CommandIDs.rerunJob, {
      label: args =>
        args.profile === jobOf(args)?.profile
          ? trans.__('Re-run on %1 (same profile)', args.profile)
          : trans.__('Re-run on %1', args.profile),
      execute: async args => {
        const job = jobOf(args);
        if (job) {
          await actions.rerun(job, String(args.profile));
        }
      }
    });
    app.commands.addCommand(CommandIDs.setJobPriority, {
      label: args => String(args.priority),
      isToggled: args => jobOf(args)?.priority === args.priority,
      execute: async args => {
        const job = jobOf(args);
        if (job) {
          await actions.setPriority(job, String(args.priority));
        }
      }
    });
    app.commands.addCommand(CommandIDs.moveJob, {
      label: args => trans.__('Move to %1', args.queue),
      isToggled: args => jobOf(args)?.queue === args.queue,
      execute: async args => {
        const job = jobOf(args);
        if (job) {
          await actions.move(job, String(args.queue));
        }
      }
    });

    statusBar?.registerStatusItem('nbqueue-labextension:jobs-status', {
      item: new JobsStatusItem(model, open, trans),
      align: 'left',
      rank: 10
    });

    // Live updates need the socket; open it once the sidecar answered.
    void pipelines.refresh();
    void model.refresh().then(() => {
      if (!model.error) {
        service.socket().catch(() => {
          // connectionFailed tells the user.
        });
      }
    });
  }
};
