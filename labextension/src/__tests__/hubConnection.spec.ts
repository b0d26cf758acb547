import { PageConfig } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { NbqueueService } from '../service/client';
import { hubConnection } from '../service/connection';
import { saveJobFiles, uploadBundle } from '../submit/files';

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

  it('falls back to the hub service where the server extension is missing', async () => {
    PageConfig.setOption('hubPrefix', '/hub/');
    PageConfig.setOption('token', 'page-token');
    const service = new NbqueueService({
      serverSettings: serverSettings(404, {})
    });
    expect(await service.connection()).toEqual({
      url: `${window.location.origin}/services/nbqueue`,
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

describe('a refused hub token', () => {
  afterEach(() => {
    PageConfig.setOption('hubPrefix', '');
    PageConfig.setOption('token', '');
  });

  it('tells the person what the hub admin has to allow', async () => {
    PageConfig.setOption('hubPrefix', '/hub/');
    PageConfig.setOption('token', 'page-token');
    const handlers: Record<string, (arg: unknown) => void> = {};
    const service = new NbqueueService({
      serverSettings: serverSettings(200, {
        mode: 'hub',
        url: '/services/nbqueue',
        token: null
      }),
      socketFactory: () =>
        ({
          on: (event: string, handler: (arg: unknown) => void) => {
            handlers[event] = handler;
          }
        }) as never
    });
    const failures: string[] = [];
    service.connectionFailed.connect((_, error) =>
      failures.push(error.message)
    );
    await service.socket();
    handlers['connect_error'](new Error('unauthorized'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('oauth_client_allowed_scopes');
  });
});

describe('working files in hub mode', () => {
  /** A Jupyter server whose nbqueue files extension holds no sidecar token. */
  function hubJupyter(calls: string[]) {
    return ServerConnection.makeSettings({
      baseUrl: 'http://localhost/user/alice/',
      fetch: (async (input: RequestInfo, init?: RequestInit) => {
        const request = input instanceof Request ? input : null;
        // Without the cache-busting number ServerConnection adds.
        const url = (request ? request.url : String(input)).replace(
          /[?&]\d{10,}$/,
          ''
        );
        const method = request ? request.method : (init?.method ?? 'GET');
        calls.push(
          `${method} ${url.replace('http://localhost/user/alice/', '')}`
        );
        if (url.includes('files/bundle')) {
          return new Response('tar.gz bytes', { status: 200 });
        }
        if (url.includes('files/save?')) {
          return new Response(
            JSON.stringify({ dir: 'demo-j-1-files', files: [] }),
            {
              status: 200
            }
          );
        }
        return new Response(
          JSON.stringify({
            error: { code: 'no_sidecar_token', message: 'hub mode' }
          }),
          { status: 409 }
        );
      }) as typeof fetch
    });
  }

  it('uploads the bundle from the browser when the Jupyter server cannot', async () => {
    const calls: string[] = [];
    const uploaded: Blob[] = [];
    const bundle = await uploadBundle(hubJupyter(calls), 'demo.ipynb', {
      uploadInputBundle: async archive => {
        uploaded.push(archive);
        return { id: 'b-1', bytes: 12, total_bytes: 12, files: 1 };
      },
      getOutputFiles: async () => new Blob()
    });
    expect(bundle.id).toBe('b-1');
    expect(calls).toEqual([
      'POST nbqueue/files/upload',
      'GET nbqueue/files/bundle?path=demo.ipynb'
    ]);
    expect(await uploaded[0].text()).toBe('tar.gz bytes');
  });

  it('hands the output archive to the Jupyter server when it cannot fetch it', async () => {
    const calls: string[] = [];
    const saved = await saveJobFiles(hubJupyter(calls), 'j-1', 'demo.ipynb', {
      uploadInputBundle: async () => ({
        id: '',
        bytes: 0,
        total_bytes: 0,
        files: 0
      }),
      getOutputFiles: async () => new Blob(['outputs'])
    });
    expect(saved.dir).toBe('demo-j-1-files');
    expect(calls).toEqual([
      'POST nbqueue/files/save',
      'POST nbqueue/files/save?job_id=j-1&path=demo.ipynb'
    ]);
  });

  it('keeps other refusals as they are', async () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost/',
      fetch: (async () =>
        new Response(
          JSON.stringify({
            error: { code: 'files_too_large', message: 'big' }
          }),
          { status: 413 }
        )) as typeof fetch
    });
    await expect(
      uploadBundle(settings, 'demo.ipynb', {
        uploadInputBundle: async () => {
          throw new Error('not called');
        },
        getOutputFiles: async () => new Blob()
      })
    ).rejects.toThrow('big');
  });
});
