/**
 * Tells the user when a job submitted from this page ends, with actions to
 * open the executed notebook and, for a failure, to read why; while the page
 * is hidden, also with a desktop notification (desktop.ts).
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { Contents } from '@jupyterlab/services';
import type { CommandRegistry } from '@lumino/commands';

import { describe } from '../service/errors';
import { IJob, isFinal } from '../service/model';
import type { IJobNotifier, INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { DesktopNotices } from './desktop';
import { resultPath } from './result';

export namespace JobNotifier {
  export interface IOptions {
    service: INbqueueService;
    contents: Contents.IManager;
    commands: CommandRegistry;
    /** Where watched job ids survive a page reload; sessionStorage in Lab. */
    storage: Storage;
    /** The texts of the notifications. */
    trans?: TranslationBundle;
    /** Desktop notifications while the page is hidden; none without. */
    desktop?: Omit<DesktopNotices.IOptions, 'trans'>;
    /** Opens the Jobs panel (a job without a result, clicked on the desktop). */
    openJobsPanel?: () => void;
  }
}

const STORAGE_KEY = 'nbqueue:watched';

export class JobNotifier implements IJobNotifier {
  constructor(options: JobNotifier.IOptions) {
    this._service = options.service;
    this._trans = options.trans ?? nbqueueBundle();
    this._contents = options.contents;
    this._commands = options.commands;
    this._storage = options.storage;
    this._desktop = options.desktop
      ? new DesktopNotices({ ...options.desktop, trans: this._trans })
      : null;
    this._openJobsPanel = options.openJobsPanel ?? (() => undefined);
    this._service.jobChanged.connect((_, job) => this._onJob(job));
    // A job that ended while the socket was (re)connecting sent its `job`
    // message to no one: ask for it.
    this._service.connected.connect(() => {
      void this._check();
    });
  }

  /** Notify when this job ends. */
  watch(job: IJob): void {
    // The first submit is when desktop notifications start to matter.
    this._desktop?.askOnce();
    const ids = this._watched().filter(id => id !== job.id);
    this._save([...ids, job.id]);
    // `job` messages come over the socket.
    this._service
      .socket()
      .catch(error =>
        Notification.error(
          this._trans.__(
            'nbqueue cannot tell when job %1 ends: %2',
            job.name,
            describe(error)
          )
        )
      );
  }

  /**
   * After a page reload: notify jobs that ended meanwhile and keep watching
   * the others (which needs the socket open).
   */
  async restore(): Promise<void> {
    if (this._watched().length) {
      await this._service.socket();
    }
  }

  /** Notify the watched jobs that have ended. */
  private async _check(): Promise<void> {
    for (const id of this._watched()) {
      try {
        this._onJob(await this._service.getJob(id));
      } catch (error) {
        this._forget(id);
        Notification.error(
          this._trans.__(
            'Could not check nbqueue job %1: %2',
            id,
            describe(error)
          )
        );
      }
    }
  }

  async openResult(job: IJob): Promise<void> {
    const path = resultPath(job);
    const content = await this._service.getResult(job.id);
    await this._contents.save(path, {
      type: 'notebook',
      format: 'json',
      content
    });
    await this._commands.execute('docmanager:open', { path });
  }

  private _onJob(job: IJob): void {
    if (!isFinal(job.state) || !this._watched().includes(job.id)) {
      return;
    }
    this._forget(job.id);
    const trans = this._trans;
    const open = () => {
      this.openResult(job).catch(error =>
        Notification.error(
          trans.__(
            'Could not open the result of job %1: %2',
            job.name,
            describe(error)
          )
        )
      );
    };
    const actions: Notification.IAction[] = [
      {
        label: trans.__('Open result'),
        caption: trans.__(
          'Save the executed notebook as %1 and open it',
          resultPath(job)
        ),
        callback: open
      }
    ];
    if (job.state === 'failed') {
      actions.push({
        label: trans.__('Show error'),
        callback: () => {
          void showDialog({
            title: trans.__('Job %1 failed', job.name),
            body: job.reason ?? trans.__('The job failed without a reason.'),
            buttons: [Dialog.okButton({ label: trans.__('Close') })]
          });
        }
      });
    }
    const message =
      job.state === 'succeeded'
        ? trans.__('Job %1 succeeded', job.name)
        : job.state === 'failed'
          ? trans.__('Job %1 failed', job.name)
          : trans.__('Job %1 cancelled', job.name);
    this._desktop?.jobEnded(job, job.has_result ? open : this._openJobsPanel);
    const options = { autoClose: false as const, actions };
    if (job.state === 'succeeded') {
      Notification.success(message, options);
    } else if (job.state === 'failed') {
      Notification.error(message, options);
    } else {
      Notification.warning(message, options);
    }
  }

  private _watched(): string[] {
    try {
      const value = JSON.parse(this._storage.getItem(STORAGE_KEY) ?? '[]');
      return Array.isArray(value)
        ? value.filter(v => typeof v === 'string')
        : [];
    } catch {
      // A value we did not write: start over.
      return [];
    }
  }

  private _forget(id: string): void {
    this._save(this._watched().filter(other => other !== id));
  }

  private _save(ids: string[]): void {
    if (ids.length) {
      this._storage.setItem(STORAGE_KEY, JSON.stringify(ids));
    } else {
      this._storage.removeItem(STORAGE_KEY);
    }
  }

  private _service: INbqueueService;
  private _trans: TranslationBundle;
  private _contents: Contents.IManager;
  private _commands: CommandRegistry;
  private _storage: Storage;
  private _desktop: DesktopNotices | null;
  private _openJobsPanel: () => void;
}
