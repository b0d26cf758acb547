import { PageConfig } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { hubConnection, NbqueueService } from '../service/client';

/** A Jupyter server that answers GET nbqueue/connection with `answer`. */
function serverSettings(status: number, answer: unknown) {
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost/user/alice/',
    fetch: (async () =>
      new Response(JSON.stringify(answer), { status })) as typeof fetch
  });
  return settings;
}

describe('hub mode', () => {
  afterEach(() => {
    PageConfig.setOption('hubPrefix', '');
    PageConfig.setOption('token', '');
  });

  it('is off outside a hub page', () => {
    expect(hubConnection()).toBeNull();
  });

  it("takes the page's hub token and the service next to the hub", () => {
    PageConfig.setOption('hubPrefix', '/jh/hub/');
    PageConfig.setOption('token', 'page-token');
    expect(hubConnection()).toEqual({
      url: `${window.location.origin}/jh/services/nbqueue`,
      token: 'page-token'
    });
  });

  it('uses the service the server extension names in hub mode', async () => {
    PageConfig.setOption('hubPrefix', '/hub/');
    PageConfig.setOption('token', 'page-token');
    const service = new NbqueueService({
      serverSettings: serverSettings(200, {
        mode: 'hub',
        url: '/services/gpu-queue',
        token: null
      })
    });
    expect(await service.connection()).toEqual({
      url: `${window.location.origin}/services/gpu-queue`,
      token: 'page-token'
    });
  });

  it('says what is wrong when a hub-mode answer comes to a page without a token', async () => {
    const service = new NbqueueService({
      serverSettings: serverSettings(200, {
        mode: 'hub',
        url: '/services/nbqueue',
        token: null
      })
    });
    await expect(service.connection()).rejects.toThrow(/no hub token/);
  });

  it('opens socket.io below the service path', async () => {
    PageConfig.setOption('hubPrefix', '/hub/');
    PageConfig.setOption('token', 'page-token');
    const calls: Array<{ url: string; path?: string; token?: unknown }> = [];
    const service = new NbqueueService({
      serverSettings: serverSettings(200, {
        mode: 'hub',
        url: '/services/nbqueue',
        token: null
      }),
      socketFactory: (url, options) => {
        calls.push({
          url,
          path: options.path,
          token: (options.auth as { token?: string }).token
        });
        return { on: () => undefined } as never;
      }
    });
    await service.socket();
    expect(calls).toEqual([
      {
        url: window.location.origin,
        path: '/services/nbqueue/socket.io',
        token: 'page-token'
      }
    ]);
  });
});
