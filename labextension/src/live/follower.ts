/**
 * Follows jobs into open notebooks: subscribes to their event streams,
 * hands the events to a `LiveWriter` per job, re-subscribes after socket
 * reconnects, fills gaps from the REST API, and resumes after a page reload.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';

import { describe } from '../service/errors';
import type { IEventsMessage, JobEvent } from '../service/events';
import { IJob, isFinal } from '../service/model';
import type { ILiveFollower, INbqueueService } from '../tokens';
import { nbqueueBundle, TranslationBundle } from '../translation';
import { NotebookPanelAdapter } from './panelAdapter';
import { LiveWriter } from './writer';

export namespace LiveFollower {
  export interface IOptions {
    service: INbqueueService;
    /** Where followed job ids survive a page reload; sessionStorage in Lab. */
    storage: Storage;
    /** Shows a failure to the user. */
    onError: (message: string) => void;
    /** The texts of those failures and of the cells' badge. */
    trans?: TranslationBundle;
  }
}

interface IFollowed {
  jobId: string;
  path: string;
  panel: NotebookPanel;
  writer: LiveWriter;
  /** A REST fetch of missing events is under way. */
  fetching: boolean;
  /** The job ended; its last events are being applied. */
  finishing: boolean;
}

export class LiveFollower implements ILiveFollower, IDisposable {
  constructor(options: LiveFollower.IOptions) {
    this._service = options.service;
    this._trans = options.trans ?? nbqueueBundle();
    this._storage = options.storage;
    this._onError = options.onError;
    this._service.connected.connect(this._onConnected, this);
    this._service.eventsReceived.connect(this._onEvents, this);
    this._service.jobChanged.connect(this._onJob, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The seq last applied for a followed job, or null if not followed. */
  lastSeq(jobId: string): number | null {
    return this._followed.get(jobId)?.writer.lastSeq ?? null;
  }

  /**
   * Stream a job's outputs into this panel's cells.
   *
   * A fresh view always starts from seq 0: what an earlier view applied is
   * not known to be in this model (it may never have been saved), and
   * re-applying from scratch is idempotent because `cell_started` clears the
   * cell's outputs.
   */
  async follow(job: IJob, panel: NotebookPanel): Promise<void> {
    if (this._followed.has(job.id) || panel.isDisposed) {
      return;
    }
    const followed: IFollowed = {
      jobId: job.id,
      path: panel.context.path,
      panel,
      writer: new LiveWriter(new NotebookPanelAdapter(panel, this._trans)),
      fetching: false,
      finishing: false
    };
    this._followed.set(job.id, followed);
    this._remember(followed.path, job.id, true);
    panel.disposed.connect(() => this._stop(job.id, false));

    const socket = await this._service.socket();
    // Before the first connection, `_onConnected` subscribes everyone.
    if (socket.connected) {
      await this._subscribe(followed);
    }
  }

  /** Follow again the active jobs this notebook was following before a reload. */
  async resume(panel: NotebookPanel): Promise<void> {
    const path = panel.context.path;
    for (const jobId of this._remembered(path)) {
      let job: IJob;
      try {
        job = await this._service.getJob(jobId);
      } catch (error) {
        this._remember(path, jobId, false);
        this._onError(
          this._trans.__(
            'Could not resume the live outputs of job %1: %2',
            jobId,
            describe(error)
          )
        );
        continue;
      }
      if (isFinal(job.state)) {
        this._remember(path, jobId, false);
      } else {
        await this.follow(job, panel);
      }
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const jobId of [...this._followed.keys()]) {
      this._stop(jobId, false);
    }
    this._service.connected.disconnect(this._onConnected, this);
    this._service.eventsReceived.disconnect(this._onEvents, this);
    this._service.jobChanged.disconnect(this._onJob, this);
  }

  private async _subscribe(followed: IFollowed): Promise<void> {
    try {
      const ack = await this._service.subscribe(
        followed.jobId,
        followed.writer.lastSeq
      );
      // The job may have ended while the socket was down or before it opened,
      // when no `job` message could reach us.
      if (ack.job && isFinal(ack.job.state)) {
        await this._finish(followed, ack.job);
      }
    } catch (error) {
      this._onError(
        this._trans.__(
          'Could not follow job %1 live: %2',
          followed.jobId,
          describe(error)
        )
      );
    }
  }

  private _onConnected(): void {
    // Also runs on reconnects: ask for what happened since the last applied seq.
    for (const followed of this._followed.values()) {
      void this._subscribe(followed);
    }
  }

  private _onEvents(_: INbqueueService, message: IEventsMessage): void {
    const followed = this._followed.get(message.job_id);
    if (followed) {
      this._apply(followed, message.events);
    }
  }

  private _apply(followed: IFollowed, events: JobEvent[]): void {
    const { missingAfter } = followed.writer.apply(events);
    if (missingAfter !== null && !followed.fetching) {
      void this._fillGap(followed, missingAfter);
    }
  }

  private async _fillGap(followed: IFollowed, after: number): Promise<void> {
    followed.fetching = true;
    try {
      const { events } = await this._service.getEvents(followed.jobId, after);
      followed.writer.apply(events);
    } catch (error) {
      this._onError(
        this._trans.__(
          'Missing live outputs of job %1 after event %2: %3',
          followed.jobId,
          after,
          describe(error)
        )
      );
    } finally {
      followed.fetching = false;
    }
  }

  private _onJob(_: INbqueueService, job: IJob): void {
    const followed = this._followed.get(job.id);
    if (followed && isFinal(job.state)) {
      void this._finish(followed, job);
    }
  }

  /** Apply whatever the socket has not delivered yet, then stop following. */
  private async _finish(followed: IFollowed, job: IJob): Promise<void> {
    if (followed.finishing) {
      return;
    }
    followed.finishing = true;
    if (job.last_seq > followed.writer.lastSeq) {
      try {
        const { events } = await this._service.getEvents(
          job.id,
          followed.writer.lastSeq
        );
        followed.writer.apply(events);
      } catch (error) {
        this._onError(
          this._trans.__(
            'Could not fetch the last outputs of job %1: %2',
            job.name,
            describe(error)
          )
        );
      }
    }
    this._stop(job.id, true);
  }

  private _stop(jobId: string, ended: boolean): void {
    const followed = this._followed.get(jobId);
    if (!followed) {
      return;
    }
    this._followed.delete(jobId);
    this._service.unsubscribe(jobId);
    if (!followed.panel.isDisposed) {
      followed.writer.unmarkAll();
    }
    // A closed view of a running job resumes when the notebook is reopened.
    if (ended) {
      this._remember(followed.path, jobId, false);
    }
  }

  private _remembered(path: string): string[] {
    try {
      const value = JSON.parse(this._storage.getItem(storageKey(path)) ?? '[]');
      return Array.isArray(value)
        ? value.filter(v => typeof v === 'string')
        : [];
    } catch {
      // A value we did not write: start over.
      return [];
    }
  }

  private _remember(path: string, jobId: string, keep: boolean): void {
    const ids = this._remembered(path).filter(id => id !== jobId);
    if (keep) {
      ids.push(jobId);
    }
    if (ids.length) {
      this._storage.setItem(storageKey(path), JSON.stringify(ids));
    } else {
      this._storage.removeItem(storageKey(path));
    }
  }

  private _service: INbqueueService;
  private _trans: TranslationBundle;
  private _storage: Storage;
  private _onError: (message: string) => void;
  private _followed = new Map<string, IFollowed>();
  private _isDisposed = false;
}

function storageKey(path: string): string {
  return `nbqueue:follow:${path}`;
}
