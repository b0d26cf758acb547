/**
 * The notebook's working files: what of its folder goes with the job (the
 * manifest the Jupyter server extension computes, since the browser cannot
 * read the disk), the upload of that bundle, and saving a job's output files
 * next to the notebook.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { humanBytes } from '@nbqueue/common';

import { describe, NbqueueError } from '../service/errors';
import type { IBundleUpload } from '../service/model';
import { nbqueueBundle, TranslationBundle } from '../translation';

/** The texts' default: English. */
const ENGLISH = nbqueueBundle();

export interface IFileEntry {
  path: string;
  size: number;
}

export interface ILeftOut {
  path: string;
  reason: string;
  size: number | null;
}

/** `GET nbqueue/files/manifest?path=`: see runner-image/nbqueue/files/manifest.py. */
export interface IManifest {
  /** The notebook's folder, relative to the Jupyter root. */
  root: string;
  files: IFileEntry[];
  left_out: ILeftOut[];
  total_bytes: number;
  max_bytes: number;
  over_cap: boolean;
  largest: IFileEntry[];
  /** What to do when over the cap; null otherwise. */
  problem: string | null;
  /** False when the sidecar takes no files (jobs see shared storage). */
  bundle: boolean;
}

export interface IUploadedBundle {
  id: string;
  bytes: number;
  total_bytes: number;
  files: number;
  left_out: number;
}

export interface ISavedFiles {
  /** Folder the files went to, relative to the Jupyter root. */
  dir: string;
  files: IFileEntry[];
}

/** "12 files · 3.4 MB go with the job · 3 left out" */
export function manifestSummary(
  manifest: IManifest,
  trans: TranslationBundle = ENGLISH
): string {
  if (!manifest.bundle) {
    return trans.__('The job uses the shared storage: no files are copied.');
  }
  const parts = [
    trans._n(
      '%1 file · %2 go with the job',
      '%1 files · %2 go with the job',
      manifest.files.length,
      humanBytes(manifest.total_bytes)
    )
  ];
  if (manifest.left_out.length) {
    parts.push(trans.__('%1 left out', manifest.left_out.length));
  }
  return parts.join(' · ');
}

/** Calls the nbqueue Jupyter server extension; its error sentence when it refuses. */
async function jupyterRequest<T>(
  settings: ServerConnection.ISettings,
  path: string,
  init: RequestInit = {},
  trans: TranslationBundle = ENGLISH
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'nbqueue', 'files', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new NbqueueError(
      'jupyter_unreachable',
      trans.__('Could not reach the Jupyter server: %1', describe(error))
    );
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } })
      ?.error;
    throw new NbqueueError(
      error?.code ?? 'http_error',
      error?.message ??
        (response.status === 404
          ? trans.__(
              'The nbqueue Jupyter server extension does not serve working files: update the nbqueue Python package where JupyterLab runs and restart it.'
            )
          : trans.__('nbqueue/files/%1 answered %2.', path, response.status)),
      response.status
    );
  }
  return body as T;
}

export function fetchManifest(
  settings: ServerConnection.ISettings,
  notebookPath: string,
  trans: TranslationBundle = ENGLISH
): Promise<IManifest> {
  return jupyterRequest<IManifest>(
    settings,
    `manifest?path=${encodeURIComponent(notebookPath)}`,
    {},
    trans
  );
}

/** The parts of NbqueueService that carry files between browser and sidecar. */
export interface IFilesCarrier {
  uploadInputBundle(archive: Blob): Promise<IBundleUpload>;
  getOutputFiles(jobId: string): Promise<Blob>;
}

/** Whether the Jupyter server said it holds no sidecar token (hub mode). */
const noSidecarToken = (error: unknown): boolean =>
  error instanceof NbqueueError && error.code === 'no_sidecar_token';

/**
 * Bundles the notebook's folder and uploads it to the sidecar: by the Jupyter
 * server, or, where it holds no sidecar token (JupyterHub), by the browser.
 */
export async function uploadBundle(
  settings: ServerConnection.ISettings,
  notebookPath: string,
  carrier?: IFilesCarrier,
  trans: TranslationBundle = ENGLISH
): Promise<IUploadedBundle> {
  try {
    return await jupyterRequest<IUploadedBundle>(
      settings,
      'upload',
      { method: 'POST', body: JSON.stringify({ path: notebookPath }) },
      trans
    );
  } catch (error) {
    if (!carrier || !noSidecarToken(error)) {
      throw error;
    }
  }
  const url = URLExt.join(
    settings.baseUrl,
    'nbqueue',
    'files',
    `bundle?path=${encodeURIComponent(notebookPath)}`
  );
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (!response.ok) {
    // Its JSON error (too large, invalid bundle) says what to do.
    await jupyterRequest(
      settings,
      `bundle?path=${encodeURIComponent(notebookPath)}`,
      {},
      trans
    );
  }
  const uploaded = await carrier.uploadInputBundle(await response.blob());
  // What was left out the dialog showed already, from the manifest.
  return { ...uploaded, left_out: 0 };
}

/** Saves a job's output files in `<notebook>-<job id>-files/` next to the notebook. */
export async function saveJobFiles(
  settings: ServerConnection.ISettings,
  jobId: string,
  notebookPath: string,
  carrier?: IFilesCarrier,
  trans: TranslationBundle = ENGLISH
): Promise<ISavedFiles> {
  try {
    return await jupyterRequest<ISavedFiles>(
      settings,
      'save',
      {
        method: 'POST',
        body: JSON.stringify({ job_id: jobId, path: notebookPath })
      },
      trans
    );
  } catch (error) {
    if (!carrier || !noSidecarToken(error)) {
      throw error;
    }
  }
  // Hub mode: the browser fetches the archive and hands it to the Jupyter server.
  const archive = await carrier.getOutputFiles(jobId);
  const query = `job_id=${encodeURIComponent(jobId)}&path=${encodeURIComponent(notebookPath)}`;
  return jupyterRequest<ISavedFiles>(
    settings,
    `save?${query}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/gzip' },
      body: archive
    },
    trans
  );
}

export type FilesState =
  | { status: 'loading' }
  | { status: 'ready'; manifest: IManifest }
  | { status: 'failed'; error: string };

/** Loads the manifest when the dialog opens; the dialog re-renders on `changed`. */
export class FilesProbe {
  constructor(private readonly _load: () => Promise<IManifest>) {}

  get state(): FilesState {
    return this._state;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Why the job cannot be submitted with these files, or null. */
  get problem(): string | null {
    return this._state.status === 'ready' && this._state.manifest.bundle
      ? this._state.manifest.problem
      : null;
  }

  /** Whether the job takes the folder along: bundling is on and something is in it. */
  get bundles(): boolean {
    return (
      this._state.status === 'ready' &&
      this._state.manifest.bundle &&
      this._state.manifest.files.length > 0
    );
  }

  load(): Promise<FilesState> {
    this._set({ status: 'loading' });
    this._pending = this._load().then(
      manifest => this._set({ status: 'ready', manifest }),
      error => this._set({ status: 'failed', error: describe(error) })
    );
    return this._pending;
  }

  async settled(): Promise<FilesState> {
    if (this._pending) {
      await this._pending;
    }
    return this._state;
  }

  private _set(state: FilesState): FilesState {
    this._state = state;
    this._changed.emit();
    return state;
  }

  private _state: FilesState = { status: 'loading' };
  private _pending: Promise<FilesState> | null = null;
  private _changed = new Signal<this, void>(this);
}
