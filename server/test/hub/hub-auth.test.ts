/**
 * Units of hub mode: scope matching, the settings read from the hub's environment, the
 * token cache (with a stand-in for the hub API; hub.integration.test.ts uses the real one),
 * and the deployment files, parsed by the sidecar's own validation.
 */
import * as fs from 'fs';
import type { IncomingMessage } from 'http';
import * as path from 'path';
import YAML from 'yaml';
import { HubAuthenticator, hasScope, hubSettings } from '../../src/auth/hub';
import { parseConfig } from '../../src/config/load';
import { REPO } from '../helpers';

const hubConfig = parseConfig({ auth: { mode: 'hub' } });
const ENV = {
  JUPYTERHUB_API_URL: 'http://127.0.0.1:8081/hub/api/',
  JUPYTERHUB_API_TOKEN: 'service-token',
  JUPYTERHUB_SERVICE_NAME: 'nbqueue',
  JUPYTERHUB_SERVICE_PREFIX: '/services/nbqueue/',
  JUPYTERHUB_OAUTH_ACCESS_SCOPES:
    '["access:services", "access:services!service=nbqueue"]'
};

describe('hasScope', () => {
  const need = ['access:services!service=nbqueue'];
  it('accepts the exact scope and its unfiltered form', () => {
    expect(hasScope(need, ['access:services!service=nbqueue'])).toBe(true);
    expect(hasScope(need, ['access:services'])).toBe(true);
  });
  it("refuses another service's scope and unrelated scopes", () => {
    expect(hasScope(need, ['access:services!service=other'])).toBe(false);
    expect(hasScope(need, ['read:users:name!user=alice'])).toBe(false);
    expect(hasScope(need, [])).toBe(false);
  });
});

describe('hubSettings', () => {
  it('reads the environment the hub gives a service', () => {
    const s = hubSettings(hubConfig, ENV);
    expect(s).toMatchObject({
      apiUrl: 'http://127.0.0.1:8081/hub/api',
      servicePrefix: '/services/nbqueue/',
      hubPrefix: '/hub/',
      clientId: 'service-nbqueue',
      oauthCallbackUrl: '/services/nbqueue/oauth_callback',
      accessScopes: ['access:services', 'access:services!service=nbqueue']
    });
  });
  it('names what is missing when not run by a hub', () => {
    expect(() => hubSettings(hubConfig, {})).toThrow(
      /JUPYTERHUB_API_URL \(or auth.hub.api_url\) and JUPYTERHUB_API_TOKEN are not set/
    );
  });
  it('refuses an unknown auth.hub field, naming it', () => {
    expect(() =>
      parseConfig({ auth: { mode: 'hub', hub: { admin_group: ['x'] } } })
    ).toThrow(/auth\.hub/);
  });
});

describe('HubAuthenticator cache', () => {
  it('asks the hub once per token within cache_seconds, again after', async () => {
    let now = 1000;
    const asked: string[] = [];
    const fakeHub = (async (url: string, init?: RequestInit) => {
      asked.push(String(url));
      const auth = (init?.headers as Record<string, string>).Authorization;
      if (auth !== 'token good') return new Response('{}', { status: 403 });
      return new Response(
        JSON.stringify({
          kind: 'user',
          name: 'alice',
          admin: false,
          groups: ['nbqueue-admins'],
          scopes: ['access:services!service=nbqueue']
        }),
        { status: 200 }
      );
    }) as typeof fetch;
    const settings = hubSettings(
      parseConfig({
        auth: { mode: 'hub', hub: { admin_groups: ['nbqueue-admins'] } }
      }),
      ENV
    );
    const auth = new HubAuthenticator(settings, fakeHub, () => now);
    expect(await auth.authenticate('good')).toEqual({
      user: 'alice',
      admin: true
    });
    expect(await auth.authenticate('good')).not.toBeNull();
    expect(asked).toHaveLength(1);
    now += 31000;
    await auth.authenticate('good');
    expect(asked).toHaveLength(2);
    expect(await auth.authenticate('bad')).toBeNull();
    expect(await auth.authenticate(undefined)).toBeNull();
    expect(asked).toEqual([
      'http://127.0.0.1:8081/hub/api/user',
      'http://127.0.0.1:8081/hub/api/user',
      'http://127.0.0.1:8081/hub/api/user'
    ]);
  });
});

/** A request as the sidecar sees it: from `peer`, with an X-Forwarded-For if a proxy set one. */
function fromPeer(peer: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}
  } as unknown as IncomingMessage;
}

describe('HubAuthenticator bounds', () => {
  const known = (async (_url: string, init?: RequestInit) => {
    const token = (init?.headers as Record<string, string>).Authorization;
    if (!token.startsWith('token user-'))
      return new Response('{}', { status: 403 });
    return new Response(
      JSON.stringify({
        kind: 'user',
        name: token.slice('token user-'.length),
        admin: false,
        groups: [],
        scopes: ['access:services!service=nbqueue']
      }),
      { status: 200 }
    );
  }) as typeof fetch;

  function counting(): { fetch: typeof fetch; asked: () => number } {
    let n = 0;
    return {
      fetch: ((url: string, init?: RequestInit) => {
        n += 1;
        return known(url, init);
      }) as typeof fetch,
      asked: () => n
    };
  }

  const settings = (hub: Record<string, unknown>) =>
    hubSettings(parseConfig({ auth: { mode: 'hub', hub } }), ENV);

  it('keeps the most recently used answers, never clearing them all', async () => {
    const hub = counting();
    const auth = new HubAuthenticator(
      settings({ cache_entries: 3 }),
      hub.fetch
    );
    for (const u of ['a', 'b', 'c']) await auth.authenticate(`user-${u}`);
    await auth.authenticate('user-a'); // a is now the most recent
    await auth.authenticate('user-d'); // b, the least recent, goes
    expect(hub.asked()).toBe(4);
    for (const u of ['a', 'c', 'd']) await auth.authenticate(`user-${u}`);
    expect(hub.asked()).toBe(4);
    await auth.authenticate('user-b');
    expect(hub.asked()).toBe(5);
  });

  it('an address guessing tokens is refused for a minute; others and known tokens are not', async () => {
    let now = 0;
    const hub = counting();
    const auth = new HubAuthenticator(
      settings({ unknown_tokens_per_minute: 3 }),
      hub.fetch,
      () => now
    );
    const mallory = fromPeer('10.0.0.66');
    await auth.authenticate('user-alice', mallory); // known: does not count
    for (let i = 0; i < 3; i++)
      expect(await auth.authenticate(`guess-${i}`, mallory)).toBeNull();
    const asked = hub.asked();
    await expect(auth.authenticate('guess-3', mallory)).rejects.toMatchObject({
      status: 429,
      code: 'too_many_attempts'
    });
    expect(hub.asked()).toBe(asked); // the hub was not asked again
    // A token already known still works; another address is not affected.
    expect(await auth.authenticate('user-alice', mallory)).toEqual({
      user: 'alice',
      admin: false
    });
    expect(await auth.authenticate('user-bob', fromPeer('10.0.0.7'))).toEqual({
      user: 'bob',
      admin: false
    });
    now += 61_000;
    expect(await auth.authenticate('guess-4', mallory)).toBeNull();
  });

  it("behind the hub's proxy, the client named by X-Forwarded-For is limited, not the proxy", async () => {
    const hub = counting();
    const auth = new HubAuthenticator(
      settings({ unknown_tokens_per_minute: 2 }),
      hub.fetch
    );
    const viaProxy = (client: string) => fromPeer('127.0.0.1', client);
    await auth.authenticate('guess-a', viaProxy('192.0.2.1'));
    await auth.authenticate('guess-b', viaProxy('192.0.2.1'));
    await expect(
      auth.authenticate('guess-c', viaProxy('192.0.2.1'))
    ).rejects.toMatchObject({ status: 429 });
    expect(
      await auth.authenticate('user-carol', viaProxy('192.0.2.2'))
    ).toEqual({ user: 'carol', admin: false });
    // A client that is not a trusted proxy cannot pick its address by the header.
    const direct = (claimed: string) => fromPeer('198.51.100.9', claimed);
    await auth.authenticate('guess-d', direct('203.0.113.1'));
    await auth.authenticate('guess-e', direct('203.0.113.2'));
    await expect(
      auth.authenticate('guess-f', direct('203.0.113.3'))
    ).rejects.toMatchObject({ status: 429 });
  });
});

describe('deployment files', () => {
  const deploy = path.join(REPO, 'deploy', 'jupyterhub');

  it('nbqueue.yaml is a valid hub-mode configuration', () => {
    const config = parseConfig(
      YAML.parse(fs.readFileSync(path.join(deploy, 'nbqueue.yaml'), 'utf8')),
      'nbqueue.yaml'
    );
    expect(config.auth.mode).toBe('hub');
  });

  it("the z2jh ConfigMap's nbqueue.yaml is valid, hub mode, kubernetes backend", () => {
    const map = YAML.parse(
      fs.readFileSync(path.join(deploy, 'z2jh-nbqueue-config.yaml'), 'utf8')
    ) as { data: Record<string, string> };
    const config = parseConfig(YAML.parse(map.data['nbqueue.yaml']));
    expect(config.auth.mode).toBe('hub');
    expect(config.backend.type).toBe('kubernetes');
  });

  it('the z2jh values grant what jupyterhub_config.py grants', () => {
    const values = YAML.parse(
      fs.readFileSync(path.join(deploy, 'z2jh-values.yaml'), 'utf8')
    );
    const py = fs.readFileSync(
      path.join(deploy, 'jupyterhub_config.py'),
      'utf8'
    );
    expect(values.hub.services.nbqueue.url).toBeTruthy();
    expect(values.hub.loadRoles.user.scopes).toContain(
      'access:services!service=nbqueue'
    );
    for (const scope of values.hub.loadRoles['nbqueue-service'].scopes)
      expect(py).toContain(`"${scope}"`);
    expect(values.hub.config.Spawner.oauth_client_allowed_scopes).toEqual([
      'access:services!service=nbqueue'
    ]);
    expect(values.singleuser.extraEnv.NBQUEUE_HUB_SERVICE).toBe('nbqueue');
  });
});
