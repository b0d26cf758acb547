/**
 * Units of hub mode: scope matching, the settings read from the hub's environment, the
 * token cache (with a stand-in for the hub API; hub.integration.test.ts uses the real one),
 * and the deployment files, parsed by the sidecar's own validation.
 */
import * as fs from 'fs';
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
