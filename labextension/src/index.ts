/**
 * nbqueue for JupyterLab: "Submit to GPU queue" and live outputs.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import type * as nbformat from '@jupyterlab/nbformat';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';

import { queueIcon } from './icons';
import { JobNotifier } from './jobs/notifier';
import { syncNotifications } from './jobs/serverNotifications';
import { LiveFollower } from './live/follower';
import { metricsPlugin } from './metrics/plugin';
import { jobsPanelPlugin } from './panel/plugin';
import { NbqueueService } from './service/client';
import { describe } from './service/errors';
import { submitNotebook } from './submit/submitNotebook';
import {
  CommandIDs,
  DEFAULT_SETTINGS,
  INbqueue,
  ISettings,
  PLUGIN_ID
} from './tokens';
import { nbqueueBundle } from './translation';

const plugin: JupyterFrontEndPlugin<INbqueue> = {
  id: PLUGIN_ID,
  description:
    'Submit the open notebook to the nbqueue GPU queue and stream its outputs back into it.',
  autoStart: true,
  requires: [INotebookTracker, ISettingRegistry],
  optional: [ICommandPalette, ITranslator],
  provides: INbqueue,
  activate: async (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): Promise<INbqueue> => {
    const trans = nbqueueBundle(translator);
    const settings: ISettings = { ...DEFAULT_SETTINGS };
    const service = new NbqueueService({
      serverSettings: app.serviceManager.serverSettings,
      sidecarUrl: () => settings.sidecarUrl,
      translator
    });
    const showError = (message: string) =>
      Notification.error(message, { autoClose: false });
    service.connectionFailed.connect((_, error) => showError(error.message));

    const follower = new LiveFollower({
      service,
      storage: window.sessionStorage,
      onError: showError,
      trans
    });
    const notifier = new JobNotifier({
      service,
      contents: app.serviceManager.contents,
      commands: app.commands,
      storage: window.sessionStorage,
      trans,
      desktop: {
        enabled: () => settings.desktopNotifications,
        storage: window.localStorage
      },
      openJobsPanel: () => {
        void app.commands.execute(CommandIDs.openJobsPanel);
      }
    });

    app.commands.addCommand(CommandIDs.submit, {
      label: args => (args.toolbar ? '' : trans.__('Submit to GPU queue')),
      caption: trans.__(
        'Submit to GPU queue: run this notebook as a job on nbqueue'
      ),
      icon: queueIcon,
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        const panel = tracker.currentWidget;
        if (!panel) {
          return;
        }
        try {
          await service.connection();
        } catch (error) {
          showError(trans.__('nbqueue is not available: %1', describe(error)));
          return;
        }
        try {
          await submitNotebook(panel, {
            service,
            settings,
            follow: (job, target) => follower.follow(job, target),
            watch: job => notifier.watch(job),
            readNotebook: async path =>
              (await app.serviceManager.contents.get(path, { content: true }))
                .content as nbformat.INotebookContent,
            trans
          });
        } catch (error) {
          showError(
            trans.__('Submitting to nbqueue failed: %1', describe(error))
          );
        }
      }
    });
    palette?.addItem({
      command: CommandIDs.submit,
      category: trans.__('nbqueue')
    });

    // After a page reload, follow again the jobs these notebooks were showing.
    const resume = (panel: NotebookPanel) => {
      panel.context.ready
        .then(() => follower.resume(panel))
        .catch(error =>
          showError(
            trans.__(
              'nbqueue could not resume live outputs: %1',
              describe(error)
            )
          )
        );
    };
    tracker.widgetAdded.connect((_, panel) => resume(panel));
    tracker.forEach(resume);

    try {
      const loaded = await settingRegistry.load(PLUGIN_ID);
      const read = () =>
        Object.assign(settings, DEFAULT_SETTINGS, loaded.composite);
      read();
      loaded.changed.connect(read);
      // Mail and webhook settings edited here go to the sidecar (not on load:
      // `nbqueue notify` may have set them since).
      syncNotifications(loaded, service, showError, trans);
    } catch (error) {
      console.error(`nbqueue: could not load settings for ${PLUGIN_ID}`, error);
    }

    notifier
      .restore()
      .catch(error =>
        showError(
          trans.__('nbqueue could not check earlier jobs: %1', describe(error))
        )
      );
    return { service, follower, notifier };
  }
};

export default [plugin, metricsPlugin, jobsPanelPlugin];
