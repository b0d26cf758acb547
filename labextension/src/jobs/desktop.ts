/**
 * The browser's own (desktop) notification when a job ends while this page is
 * hidden: the in-app one is not seen then. Permission is asked once, when the
 * user first submits (never on page load); clicking the notification brings
 * this tab forward and opens the job's result.
 */
import type { IJob } from '../service/model';
import type { TranslationBundle } from '../translation';

const ASKED_KEY = 'nbqueue:desktop-permission-asked';

export namespace DesktopNotices {
  export interface IOptions {
    /** The `desktopNotifications` setting. */
    enabled: () => boolean;
    /** Where "asked once" is remembered: localStorage in Lab. */
    storage: Storage;
    trans: TranslationBundle;
    /** The browser window (tests give their own). */
    window?: Window & typeof globalThis;
  }
}

export class DesktopNotices {
  constructor(options: DesktopNotices.IOptions) {
    this._options = options;
    this._window = options.window ?? window;
  }

  /**
   * On a submit: ask for permission the first time (the browser remembers
   * the answer; a "no" is not asked again).
   */
  askOnce(): void {
    const api = this._window.Notification;
    if (!this._options.enabled() || !api || api.permission !== 'default') {
      return;
    }
    if (this._options.storage.getItem(ASKED_KEY)) {
      return;
    }
    this._options.storage.setItem(ASKED_KEY, '1');
    void api.requestPermission().catch(() => undefined);
  }

  /** Shows `job`'s end when the page is hidden; `open` runs on a click. */
  jobEnded(job: IJob, open: () => void): boolean {
    const win = this._window;
    const api = win.Notification;
    if (
      !this._options.enabled() ||
      !api ||
      api.permission !== 'granted' ||
      win.document.visibilityState !== 'hidden'
    ) {
      return false;
    }
    const trans = this._options.trans;
    const title =
      job.state === 'succeeded'
        ? trans.__('Job %1 succeeded', job.name)
        : job.state === 'failed'
          ? trans.__('Job %1 failed', job.name)
          : trans.__('Job %1 cancelled', job.name);
    const notice = new api(title, {
      body:
        job.reason ??
        (job.has_result
          ? trans.__('Click to open the executed notebook.')
          : trans.__('Click to see the job.')),
      tag: `nbqueue-${job.id}`
    });
    notice.onclick = () => {
      win.focus();
      notice.close();
      open();
    };
    return true;
  }

  private _options: DesktopNotices.IOptions;
  private _window: Window & typeof globalThis;
}
