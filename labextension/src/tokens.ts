/**
 * Identifiers and settings shared by the plugins of this extension.
 */
import { Token } from '@lumino/coreutils';

import type { JobNotifier } from './jobs/notifier';
import type { LiveFollower } from './live/follower';
import type { NbqueueService } from './service/client';

/** The id of the settings plugin; matches `schema/plugin.json`. */
export const PLUGIN_ID = 'nbqueue-labextension:plugin';

export namespace CommandIDs {
  export const submit = 'nbqueue:submit';
  export const openJobsPanel = 'nbqueue:open-jobs-panel';
  export const rerunJob = 'nbqueue:job-rerun';
  export const setJobPriority = 'nbqueue:job-set-priority';
  export const moveJob = 'nbqueue:job-move';
}

/**
 * What the main plugin shares with the other plugins of this extension: one
 * sidecar client, and the live follower and end-of-job notifier built on it.
 */
export interface INbqueue {
  service: NbqueueService;
  follower: LiveFollower;
  notifier: JobNotifier;
}

export const INbqueue = new Token<INbqueue>(
  'nbqueue-labextension:INbqueue',
  'The nbqueue sidecar client, live follower and job notifier.'
);

/** A priority class of the sidecar's configuration (`GET /api/info`: `priorities`). */
export type Priority = string;

/** The user settings of `schema/plugin.json`. */
export interface ISettings {
  defaultProfile: string;
  defaultPriority: Priority;
  streamOutputs: boolean;
  /** Empty: ask the Jupyter server extension. */
  sidecarUrl: string;
}

export const DEFAULT_SETTINGS: ISettings = {
  defaultProfile: 'cpu',
  defaultPriority: 'normal',
  streamOutputs: true,
  sidecarUrl: ''
};
