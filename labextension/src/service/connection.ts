/**
 * Where the sidecar is and how to authenticate to it: asked of the Jupyter
 * server extension, or, under JupyterHub, the hub service on the page's own
 * origin with JupyterLab's hub token.
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { TranslationBundle } from '../translation';
import { codeOf, describe, messageOf, NbqueueError } from './errors';
import type { IConnection } from './model';

/**
 * The sidecar's URL and token, from the Jupyter server extension
 * (`GET <jupyter base>/nbqueue/connection`), or, on a hub page without the
 * server extension, the hub's nbqueue service. `sidecarUrl` reads the
 * sidecar URL of the user settings (empty for none) once the answer is in.
 */
export async function fetchConnection(
  serverSettings: ServerConnection.ISettings,
  sidecarUrl: () => string,
  trans: TranslationBundle
): Promise<IConnection> {
  const endpoint = URLExt.join(serverSettings.baseUrl, 'nbqueue', 'connection');
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(endpoint, {}, serverSettings);
  } catch (error) {
    throw new NbqueueError(
      'jupyter_unreachable',
      trans.__(
        'Could not ask the Jupyter server for the nbqueue connection: %1',
        describe(error)
      )
    );
  }
  const body = await readJson(response);
  if (!response.ok && response.status === 404) {
    // No server extension, but a hub page: the hub's nbqueue service.
    const hub = hubConnection();
    if (hub) {
      return hub;
    }
  }
  if (!response.ok) {
    const message =
      messageOf(body) ??
      (response.status === 404
        ? trans.__(
            'The nbqueue Jupyter server extension is not enabled (GET nbqueue/connection answered 404). Install the nbqueue Python package in the environment that runs JupyterLab and restart it.'
          )
        : trans.__(
            'GET nbqueue/connection answered %1 %2.',
            response.status,
            response.statusText
          ));
    throw new NbqueueError(
      codeOf(body) ?? 'no_connection',
      message,
      response.status
    );
  }
  const connection = body as IConnection & { mode?: string };
  const override = sidecarUrl().trim();
  if (connection.mode === 'hub') {
    const hub = hubConnection(override || connection.url);
    if (!hub) {
      throw new NbqueueError(
        'no_hub_token',
        trans.__(
          'nbqueue runs as a JupyterHub service, but this JupyterLab page has no hub token. Open JupyterLab through the hub (…/user/<name>/lab).'
        )
      );
    }
    return hub;
  }
  return {
    url: (override || connection.url).replace(/\/+$/, ''),
    token: connection.token
  };
}

/**
 * Hub mode from the page config: JupyterLab spawned by JupyterHub has
 * `hubPrefix` (e.g. /hub/) and the user's hub `token`. `url` is the service's
 * path (default: /services/nbqueue next to the hub); null off the hub.
 */
export function hubConnection(url?: string): IConnection | null {
  const hubPrefix = PageConfig.getOption('hubPrefix');
  const token = PageConfig.getToken();
  if (!hubPrefix || !token) {
    return null;
  }
  const base = hubPrefix.replace(/hub\/?$/, '');
  const path = url || URLExt.join(base || '/', 'services', 'nbqueue');
  return {
    url: new URL(path, window.location.href).href.replace(/\/+$/, ''),
    token
  };
}

export async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) };
  }
}
