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
import { nbqueueBundle, TranslationBundle } from '../translation';
import { LogView } from './LogView';
import { MetricsView } from './MetricsView';
import type { JobsModel } from './model';
import { stateLabels } from './rows';

export class JobActions {
  constructor(
    app: JupyterFrontEnd,
    nbqueue: INbqueue,
    model: JobsModel,
    trans: TranslationBundle = nbqueueBundle()
  ) {
    this._app = app;
    this._nbqueue = nbqueue;
    this._model = model;
    this._trans = trans;
  }

  cancel(job: IJob): Promise<void> {
    const trans = this._trans;
    return this._call(
      reason =>
        job.state === 'queued'
          ? trans.__('Could not cancel job %1: %2', job.name, reason)
          : trans.__('Could not abort job %1: %2', job.name, reason),
      () => this._nbqueue.service.cancelJob(job.id)
    );
  }

  hold(job: IJob): Promise<void> {
    return this._call(
      reason => this._trans.__('Could not hold job %1: %2', job.name, reason),
      () => this._nbqueue.service.holdJob(job.id)
    );
  }

  release(job: IJob): Promise<void> {
    return this._call(
      reason =>
        this._trans.__('Could not release job %1: %2', job.name, reason),
      () => this._nbqueue.service.releaseJob(job.id)
    );
  }

  reorder(job: IJob, target: ReorderTarget): Promise<void> {
    return this._call(
      reason =>
        this._trans.__('Could not reorder job %1: %2', job.name, reason),
      () => this._nbqueue.service.reorderJob(job.id, target)
    );
  }

  rerun(job: IJob, profile?: string): Promise<void> {
    const trans = this._trans;
    const fail = (reason: string) =>
      trans.__('Could not re-run job %1: %2', job.name, reason);
    return this._call(fail, async () => {
      const fresh = await this._nbqueue.service.rerunJob(job.id, profile);
      this._nbqueue.notifier.watch(fresh);
      Notification.info(
        fresh.position
          ? trans.__(
              'Job %1 queued on %2 (position %3)',
              fresh.name,
              fresh.profile,
              fresh.position
            )
          : trans.__('Job %1 queued on %2', fresh.name, fresh.profile),
        { autoClose: 5000 }
      );
      return fresh;
    });
  }

  setPriority(job: IJob, priority: string): Promise<void> {
    return this._call(
      reason =>
        this._trans.__(
          'Could not change the priority of job %1: %2',
          job.name,
          reason
        ),
      () => this._nbqueue.service.setPriority(job.id, priority)
    );
  }

  move(job: IJob, queue: string): Promise<void> {
    return this._call(
      reason =>
        this._trans.__(
          'Could not move job %1 to %2: %3',
          job.name,
          queue,
          reason
        ),
      () => this._nbqueue.service.moveJob(job.id, queue)
    );
  }

  /** Open the job's notebook and stream the job's outputs into it. */
  async openLive(job: IJob): Promise<void> {
    const trans = this._trans;
    if (!job.notebook_path) {
      this._error(
        trans.__(
          'Job %1 was submitted without a notebook path: there is no notebook to follow it in. Open its result when it ends.',
          job.name
        )
      );
      return;
    }
    try {
      const widget = await this._app.commands.execute('docmanager:open', {
        path: job.notebook_path
      });
      if (!(widget instanceof NotebookPanel)) {
        throw new Error(
          trans.__('%1 did not open as a notebook.', job.notebook_path)
        );
      }
      await widget.context.ready;
      if (!isFinal(job.state)) {
        await this._nbqueue.follower.follow(job, widget);
      }
    } catch (error) {
      this._error(
        trans.__(
          'Could not open the live view of job %1: %2',
          job.name,
          describe(error)
        )
      );
    }
  }

  async openResult(job: IJob): Promise<void> {
    try {
      await this._nbqueue.notifier.openResult(job);
    } catch (error) {
      this._error(
        this._trans.__(
          'Could not open the result of job %1: %2',
          job.name,
          describe(error)
        )
      );
    }
  }

  /** Save the files the job wrote next to its notebook (`<name>-<job id>-files/`). */
  async saveFiles(job: IJob): Promise<void> {
    const trans = this._trans;
    if (!job.notebook_path) {
      this._error(
        trans.__(
          'Job %1 was submitted without a notebook path: save its files with `nbqueue files %2 -o DIR`.',
          job.name,
          job.id
        )
      );
      return;
    }
    try {
      const saved = await saveJobFiles(
        this._nbqueue.service.serverSettings,
        job.id,
        job.notebook_path,
        this._nbqueue.service,
        trans
      );
      Notification.success(
        trans._n(
          'Saved %1 file of job %2 in %3',
          'Saved %1 files of job %2 in %3',
          saved.files.length,
          job.name,
          saved.dir
        ),
        { autoClose: 5000 }
      );
    } catch (error) {
      this._error(
        trans.__(
          'Could not save the files of job %1: %2',
          job.name,
          describe(error)
        )
      );
    }
  }

  showError(job: IJob): void {
    const trans = this._trans;
    void showDialog({
      title: trans.__('Job %1 %2', job.name, stateLabels(trans)[job.state]),
      body: job.reason ?? trans.__('Job %1 ended without a reason.', job.name),
      buttons: [Dialog.okButton({ label: trans.__('Close') })]
    });
  }

  showLog(job: IJob): void {
    this._open(
      new LogView(this._nbqueue.service, job, this._trans),
      this._trans.__('Log: %1', job.name),
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
      jobs,
      trans: this._trans
    });
    const title =
      jobs.length === 1
        ? this._trans.__('Metrics: %1', jobs[0].name)
        : this._trans.__('Compare metrics (%1 jobs)', jobs.length);
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

  /** One sidecar call; `fail` words its refusal, given the reason. */
  private async _call(
    fail: (reason: string) => string,
    call: () => Promise<IJob>
  ): Promise<void> {
    try {
      this._model.update(await call());
    } catch (error) {
      this._error(fail(describe(error)));
    }
  }

  private _error(message: string): void {
    Notification.error(message, { autoClose: 10000 });
  }

  private _app: JupyterFrontEnd;
  private _nbqueue: INbqueue;
  private _model: JobsModel;
  private _trans: TranslationBundle;
}
