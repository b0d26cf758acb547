/**
 * What the Jobs panel's buttons and menus do: one sidecar call each, the
 * answer shown at once, and the server's own sentence when it refuses.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  MainAreaWidget,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Menu } from '@lumino/widgets';

import { queueIcon } from '../icons';
import { saveJobFiles } from '../submit/files';
import { describe } from '../service/errors';
import { IJob, isFinal, ReorderTarget } from '../service/model';
import { CommandIDs, INbqueue } from '../tokens';
import { LogView } from './LogView';
import { MetricsView } from './MetricsView';
import type { JobsModel } from './model';

export class JobActions {
  constructor(app: JupyterFrontEnd, nbqueue: INbqueue, model: JobsModel) {
    this._app = app;
    this._nbqueue = nbqueue;
    this._model = model;
  }

  cancel(job: IJob): Promise<void> {
    const verb = job.state === 'queued' ? 'cancel' : 'abort';
    return this._call(`${verb} job ${job.name}`, () =>
      this._nbqueue.service.cancelJob(job.id)
    );
  }

  hold(job: IJob): Promise<void> {
    return this._call(`hold job ${job.name}`, () =>
      this._nbqueue.service.holdJob(job.id)
    );
  }

  release(job: IJob): Promise<void> {
    return this._call(`release job ${job.name}`, () =>
      this._nbqueue.service.releaseJob(job.id)
    );
  }

  reorder(job: IJob, target: ReorderTarget): Promise<void> {
    return this._call(`reorder job ${job.name}`, () =>
      this._nbqueue.service.reorderJob(job.id, target)
    );
  }

  rerun(job: IJob, profile?: string): Promise<void> {
    return this._call(`re-run job ${job.name}`, async () => {
      const fresh = await this._nbqueue.service.rerunJob(job.id, profile);
      this._nbqueue.notifier.watch(fresh);
      Notification.info(
        `Job ${fresh.name} queued on ${fresh.profile}` +
          (fresh.position ? ` (position ${fresh.position})` : ''),
        { autoClose: 5000 }
      );
      return fresh;
    });
  }

  setPriority(job: IJob, priority: string): Promise<void> {
    return this._call(`change the priority of job ${job.name}`, () =>
      this._nbqueue.service.setPriority(job.id, priority)
    );
  }

  move(job: IJob, queue: string): Promise<void> {
    return this._call(`move job ${job.name} to ${queue}`, () =>
      this._nbqueue.service.moveJob(job.id, queue)
    );
  }

  /** Open the job's notebook and stream the job's outputs into it. */
  async openLive(job: IJob): Promise<void> {
    if (!job.notebook_path) {
      this._error(
        `Job ${job.name} was submitted without a notebook path: there is no notebook to follow it in. Open its result when it ends.`
      );
      return;
    }
    try {
      const widget = await this._app.commands.execute('docmanager:open', {
        path: job.notebook_path
      });
      if (!(widget instanceof NotebookPanel)) {
        throw new Error(`${job.notebook_path} did not open as a notebook.`);
      }
      await widget.context.ready;
      if (!isFinal(job.state)) {
        await this._nbqueue.follower.follow(job, widget);
      }
    } catch (error) {
      this._error(
        `Could not open the live view of job ${job.name}: ${describe(error)}`
      );
    }
  }

  async openResult(job: IJob): Promise<void> {
    try {
      await this._nbqueue.notifier.openResult(job);
    } catch (error) {
      this._error(
        `Could not open the result of job ${job.name}: ${describe(error)}`
      );
    }
  }

  /** Save the files the job wrote next to its notebook (`<name>-<job id>-files/`). */
  async saveFiles(job: IJob): Promise<void> {
    if (!job.notebook_path) {
      this._error(
        `Job ${job.name} was submitted without a notebook path: save its files with \`nbqueue files ${job.id} -o DIR\`.`
      );
      return;
    }
    try {
      const saved = await saveJobFiles(
        this._nbqueue.service.serverSettings,
        job.id,
        job.notebook_path,
        this._nbqueue.service
      );
      Notification.success(
        `Saved ${saved.files.length} file(s) of job ${job.name} in ${saved.dir}`,
        { autoClose: 5000 }
      );
    } catch (error) {
      this._error(
        `Could not save the files of job ${job.name}: ${describe(error)}`
      );
    }
  }

  showError(job: IJob): void {
    void showDialog({
      title: `Job ${job.name} ${job.state}`,
      body: job.reason ?? `Job ${job.name} ended without a reason.`,
      buttons: [Dialog.okButton({ label: 'Close' })]
    });
  }

  showLog(job: IJob): void {
    this._open(
      new LogView(this._nbqueue.service, job),
      `Log: ${job.name}`,
      `nbq-log-${job.id}`
    );
  }

  showMetrics(jobs: IJob[]): void {
    if (!jobs.length) {
      return;
    }
    const content = new MetricsView({
      service: this._nbqueue.service,
      follower: this._nbqueue.follower,
      jobs
    });
    const title =
      jobs.length === 1
        ? `Metrics: ${jobs[0].name}`
        : `Compare metrics (${jobs.length} jobs)`;
    this._open(
      content,
      title,
      `nbq-metrics-${jobs.map(job => job.id).join('-')}`
    );
  }

  /** The menu of priorities, queues or profiles for a job, at a point. */
  openMenu(
    kind: 'priority' | 'move' | 'rerun',
    job: IJob,
    x: number,
    y: number
  ): void {
    const menu = new Menu({ commands: this._app.commands });
    menu.addClass('nbq-JobMenu');
    menu.node.dataset.menu = kind;
    if (kind === 'priority') {
      for (const priority of this._model.info?.priorities.allowed ?? []) {
        menu.addItem({
          command: CommandIDs.setJobPriority,
          args: { id: job.id, priority }
        });
      }
    } else if (kind === 'move') {
      for (const queue of this._model.queues) {
        menu.addItem({
          command: CommandIDs.moveJob,
          args: { id: job.id, queue: queue.name }
        });
      }
    } else {
      menu.addItem({
        command: CommandIDs.rerunJob,
        args: { id: job.id, profile: job.profile }
      });
      menu.addItem({ type: 'separator' });
      for (const profile of this._model.profiles) {
        if (profile.name !== job.profile) {
          menu.addItem({
            command: CommandIDs.rerunJob,
            args: { id: job.id, profile: profile.name }
          });
        }
      }
    }
    menu.aboutToClose.connect(() => {
      // Lumino runs the command after closing; dispose after that.
      requestAnimationFrame(() => menu.dispose());
    });
    menu.open(x, y);
  }

  private _open(content: LogView | MetricsView, label: string, id: string) {
    const existing = this._app.shell.widgets('main');
    for (const widget of existing) {
      if (widget.id === id) {
        this._app.shell.activateById(id);
        content.dispose();
        return;
      }
    }
    const widget = new MainAreaWidget({ content });
    widget.id = id;
    widget.title.label = label;
    widget.title.icon = queueIcon;
    widget.title.closable = true;
    this._app.shell.add(widget, 'main');
    this._app.shell.activateById(id);
  }

  private async _call(what: string, call: () => Promise<IJob>): Promise<void> {
    try {
      this._model.update(await call());
    } catch (error) {
      this._error(`Could not ${what}: ${describe(error)}`);
    }
  }

  private _error(message: string): void {
    Notification.error(message, { autoClose: 10000 });
  }

  private _app: JupyterFrontEnd;
  private _nbqueue: INbqueue;
  private _model: JobsModel;
}
