/**
 * Identifiers and settings shared by the plugins of this extension.
 */

/** The id of the settings plugin; matches `schema/plugin.json`. */
export const PLUGIN_ID = 'nbqueue-labextension:plugin';

export namespace CommandIDs {
  export const submit = 'nbqueue:submit';
}

export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export const PRIORITIES: readonly Priority[] = [
  'low',
  'normal',
  'high',
  'urgent'
];

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
