/**
 * The hub login cookie (hub mode's browser login, server/src/auth/hubOAuth.ts): it stands for
 * a person's browser opening a link, never for a script. Another user's server behind the same
 * hub is on the same origin, so its pages could fetch() the sidecar with the cookie attached;
 * they get 401. The real hub flow is in test/hub/hub.integration.test.ts.
 */
import { PipelineRoom } from '../src/pipelines/room';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { createApp } from '../src/api/app';
import { ScheduleService } from '../src/schedules/service';
import type { Authenticator } from '../src/auth/auth';
import type { HubSettings } from '../src/auth/hub';
import { HubOAuth, TOKEN_COOKIE } from '../src/auth/hubOAuth';
import { parseConfig } from '../src/config/load';
import { JobService } from '../src/jobs/service';
import { Store } from '../src/store/store';
import { localBackend } from './helpers';

const HUB_TOKEN = 'alice-hub-token-0123456789';

const settings = (publicHubUrl = ''): HubSettings => ({
  apiUrl: 'http://127.0.0.1:1/hub/api',
  apiToken: 'service-token',
  serviceName: 'nbqueue',
  servicePrefix: '/services/nbqueue/',
  hubPrefix: '/hub/',
  publicHubUrl,
  clientId: 'service-nbqueue',
  oauthCallbackUrl: '/services/nbqueue/oauth_callback',
  accessScopes: ['access:services'],
  adminGroups: [],
  cacheSeconds: 30,
  cacheEntries: 100,
  unknownTokensPerMinute: 30,
  trustedProxies: ['loopback']
});

describe('the hub login cookie', () => {
  const store = new Store(':memory:');
  const config = parseConfig({});
  const jobs = new JobService({
    config,
    store,
    sidecarUrl: () => '',
    backend: localBackend
  });
  const pipelines = PipelineRoom.forJobs(config, store, jobs);
  const auth: Authenticator = {
    mode: 'hub',
    authenticate: async token =>
      token === HUB_TOKEN ? { user: 'alice', admin: false } : null
  };
  let url = '';
  let close: () => void = () => undefined;
  beforeAll(async () => {
    const app = createApp({
      config,
      jobs,
      pipelines,
      auth,
      backendName: 'local',
      schedules: new ScheduleService({
        store,
        jobs,
        pipelines: pipelines.forSchedules()
      }),
      browserLogin: new HubOAuth(settings())
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise(resolve => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => {
    close();
    store.close();
  });

  // node's fetch() sets Sec-Fetch-Mode itself, as browsers do: plain http sends what we say.
  const get = (
    headers: Record<string, string>,
    method = 'GET'
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${url}/api/jobs`,
        {
          method,
          headers: { Cookie: `${TOKEN_COOKIE}=${HUB_TOKEN}`, ...headers }
        },
        res => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers })
          );
        }
      );
      req.on('error', reject);
      req.end(method === 'POST' ? '{}' : undefined);
    });

  test("a top-level navigation is the person's: it reads, sandboxed and unframeable", async () => {
    const res = await get({
      'Sec-Fetch-Mode': 'navigate',
      'Sec-Fetch-Dest': 'document'
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/sandbox/);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  test('a fetch() from a page on the same origin gets 401, cookie or not', async () => {
    for (const mode of ['cors', 'same-origin', 'no-cors']) {
      const res = await get({
        'Sec-Fetch-Mode': mode,
        'Sec-Fetch-Dest': 'empty'
      });
      expect([mode, res.status]).toEqual([mode, 401]);
    }
    // An iframe is a navigation too, but its page could be read by its parent.
    const framed = await get({
      'Sec-Fetch-Mode': 'navigate',
      'Sec-Fetch-Dest': 'iframe'
    });
    expect(framed.status).not.toBe(200);
    // Without Fetch Metadata (an old client, a script outside a browser): the cookie is not taken.
    expect((await get({ Accept: 'application/json' })).status).toBe(401);
  });

  test('the cookie never acts: a POST with it is 401', async () => {
    const res = await get(
      {
        'Sec-Fetch-Mode': 'navigate',
        'Sec-Fetch-Dest': 'document',
        'Content-Type': 'application/json'
      },
      'POST'
    );
    expect(res.status).toBe(401);
  });
});

describe('the login cookies are Secure whenever the hub is reached over https', () => {
  const cookiesOf = async (
    publicHubUrl: string,
    headers: Record<string, string>
  ): Promise<string> => {
    const login = new HubOAuth(settings(publicHubUrl));
    const express = (await import('express')).default;
    const app = express();
    app.get('/services/nbqueue/x', (req, res) =>
      login.redirectToLogin(req, res)
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise(resolve => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/services/nbqueue/x`, {
      headers,
      redirect: 'manual'
    });
    server.close();
    return res.headers.get('set-cookie') ?? '';
  };

  test('the public URL says https', async () => {
    expect(await cookiesOf('https://hub.example.org', {})).toMatch(/; Secure/);
  });

  test('the hub proxy (a trusted peer) forwarded https', async () => {
    expect(await cookiesOf('', { 'X-Forwarded-Proto': 'https' })).toMatch(
      /; Secure/
    );
  });

  test('plain http stays without Secure (it would never come back)', async () => {
    expect(await cookiesOf('', {})).not.toMatch(/; Secure/);
    expect(await cookiesOf('', { 'X-Forwarded-Proto': 'http' })).not.toMatch(
      /; Secure/
    );
  });
});
