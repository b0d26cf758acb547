import { createHash } from 'crypto';
import type { IncomingMessage } from 'http';
import proxyaddr from 'proxy-addr';
import type { Config } from '../config/schema';
import { ApiError } from '../errors';
import type { Authenticator, Identity } from './auth';
import { ExpiringLru, SlidingWindowLimit } from './lookups';

/**
 * JupyterHub service mode: the sidecar runs as a hub service (`c.JupyterHub.services`), and
 * every token is a hub token, checked against the hub's `GET /hub/api/user`.
 */

/** What the sidecar needs to know about the hub, mostly from the JUPYTERHUB_* environment. */
export interface HubSettings {
  /** The hub's REST API, e.g. http://127.0.0.1:8081/hub/api (no trailing slash). */
  apiUrl: string;
  /** The service's own hub token: OAuth client secret and for reading user models. */
  apiToken: string;
  /** The service's name in `c.JupyterHub.services`. */
  serviceName: string;
  /** Path the proxy routes to the service, e.g. /services/nbqueue/ (trailing slash). */
  servicePrefix: string;
  /** Where the hub expects the service to listen, e.g. http://127.0.0.1:18010; may be absent. */
  serviceUrl?: string;
  /** The hub's own path, e.g. /hub/ (browser redirects for OAuth go there). */
  hubPrefix: string;
  /** The hub's public URL when it has one set (JUPYTERHUB_PUBLIC_HUB_URL); else same origin. */
  publicHubUrl: string;
  /** OAuth client id (`service-<name>`) and redirect URI (`<prefix>oauth_callback`). */
  clientId: string;
  oauthCallbackUrl: string;
  /** A token must hold one of these (e.g. access:services!service=nbqueue). */
  accessScopes: string[];
  /** Members of these hub groups are nbqueue admins, as hub admins are. */
  adminGroups: string[];
  /** How long an answer of the hub about a token is reused. */
  cacheSeconds: number;
  /** Most answers kept (least recently used first out). */
  cacheEntries: number;
  /** Tokens the hub did not know, per client address and minute, before the sidecar stops asking. */
  unknownTokensPerMinute: number;
  /** Peers whose X-Forwarded-For names the client (proxy-addr's trust list: the hub's proxy). */
  trustedProxies: string[];
}

const withSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

function jsonList(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every(s => typeof s === 'string'))
      return value as string[];
  } catch {
    /* fall through */
  }
  return undefined;
}

/**
 * Reads the environment JupyterHub gives a managed service (and that an admin sets for an
 * externally run one), with `auth.hub` of the configuration on top.
 */
export function hubSettings(
  config: Config,
  env: NodeJS.ProcessEnv = process.env
): HubSettings {
  const hub = config.auth.hub;
  const apiUrl = (hub.api_url ?? env.JUPYTERHUB_API_URL ?? '').replace(
    /\/+$/,
    ''
  );
  const apiToken = env.JUPYTERHUB_API_TOKEN ?? '';
  const missing = [
    apiUrl ? '' : 'JUPYTERHUB_API_URL (or auth.hub.api_url)',
    apiToken ? '' : 'JUPYTERHUB_API_TOKEN'
  ].filter(Boolean);
  if (missing.length) {
    throw new Error(
      `auth.mode is "hub" but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set. Run the sidecar as a JupyterHub service (c.JupyterHub.services with a command), which sets them, or set them yourself; see docs/jupyterhub.md.`
    );
  }
  const serviceName = env.JUPYTERHUB_SERVICE_NAME || 'nbqueue';
  const baseUrl = withSlash(env.JUPYTERHUB_BASE_URL || '/');
  const servicePrefix = withSlash(
    env.JUPYTERHUB_SERVICE_PREFIX || `${baseUrl}services/${serviceName}/`
  );
  return {
    apiUrl,
    apiToken,
    serviceName,
    servicePrefix,
    serviceUrl: env.JUPYTERHUB_SERVICE_URL || undefined,
    hubPrefix: `${baseUrl}hub/`,
    publicHubUrl: (env.JUPYTERHUB_PUBLIC_HUB_URL ?? '').replace(/\/+$/, ''),
    clientId: env.JUPYTERHUB_CLIENT_ID || `service-${serviceName}`,
    oauthCallbackUrl:
      env.JUPYTERHUB_OAUTH_CALLBACK_URL || `${servicePrefix}oauth_callback`,
    accessScopes: hub.access_scopes ??
      jsonList(env.JUPYTERHUB_OAUTH_ACCESS_SCOPES) ?? [
        `access:services!service=${serviceName}`
      ],
    adminGroups: hub.admin_groups,
    cacheSeconds: hub.cache_seconds,
    cacheEntries: hub.cache_entries,
    unknownTokensPerMinute: hub.unknown_tokens_per_minute,
    trustedProxies: hub.trusted_proxies
  };
}

/**
 * Whether `held` (a token's expanded scopes, as /hub/api/user lists them) grants any of
 * `required`. A scope without a filter grants every filtered form of it
 * (`access:services` grants `access:services!service=nbqueue`), as in JupyterHub.
 */
export function hasScope(required: string[], held: string[]): boolean {
  const have = new Set(held);
  return required.some(scope => {
    if (have.has(scope)) return true;
    const bang = scope.indexOf('!');
    return bang > 0 && have.has(scope.slice(0, bang));
  });
}

/** The parts of a hub user model the sidecar reads. */
interface HubUserModel {
  kind?: string;
  name?: string;
  admin?: boolean;
  groups?: string[];
  scopes?: string[];
}

export type Fetch = typeof fetch;

export class HubAuthenticator implements Authenticator {
  readonly mode = 'hub';
  private readonly cache: ExpiringLru<Identity | null>;
  private readonly unknown: SlidingWindowLimit;
  private readonly trust: ReturnType<typeof proxyaddr.compile>;

  constructor(
    readonly settings: HubSettings,
    private readonly fetchImpl: Fetch = fetch,
    now: () => number = Date.now
  ) {
    this.cache = new ExpiringLru(settings.cacheEntries, now);
    this.unknown = new SlidingWindowLimit(
      settings.unknownTokensPerMinute,
      60_000,
      settings.cacheEntries,
      now
    );
    this.trust = proxyaddr.compile(settings.trustedProxies);
  }

  async authenticate(
    token: string | undefined,
    request?: IncomingMessage
  ): Promise<Identity | null> {
    if (!token) return null;
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    // Guessing tokens costs the hub a lookup each: an address that keeps sending unknown ones
    // is answered without asking, until its minute has passed.
    const from = request ? proxyaddr(request, this.trust) : undefined;
    if (from !== undefined && this.unknown.exceeded(from)) {
      throw new ApiError(
        429,
        'too_many_attempts',
        `More than ${this.settings.unknownTokensPerMinute} unknown tokens came from your address in the last minute; wait a minute, then use a token from the hub (Token page, or the one JupyterLab sends).`
      );
    }
    const identity = await this.identify(token);
    if (identity === null && from !== undefined) this.unknown.record(from);
    this.remember(key, identity);
    return identity;
  }

  /** Asks the hub who owns `token`; null when the hub does not know it or it lacks the scope. */
  private async identify(token: string): Promise<Identity | null> {
    const model = await this.hubGet<HubUserModel>('/user', token);
    if (!model || model.kind === 'service' || !model.name) return null;
    if (!hasScope(this.settings.accessScopes, model.scopes ?? [])) return null;
    let { admin, groups } = model;
    // A token limited to this service can identify its owner but may not read the admin
    // flag; the service's own token (role scope read:users) can.
    if (admin === undefined || groups === undefined) {
      const full = await this.hubGet<HubUserModel>(
        `/users/${encodeURIComponent(model.name)}`,
        this.settings.apiToken
      );
      admin ??= full?.admin;
      groups ??= full?.groups;
    }
    const inAdminGroup = (groups ?? []).some(g =>
      this.settings.adminGroups.includes(g)
    );
    return { user: model.name, admin: admin === true || inAdminGroup };
  }

  /** GET on the hub API; null for 401/403/404, an ApiError when the hub cannot answer. */
  private async hubGet<T>(route: string, token: string): Promise<T | null> {
    const url = `${this.settings.apiUrl}${route}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        headers: { Authorization: `token ${token}`, Accept: 'application/json' }
      });
    } catch (err) {
      throw new ApiError(
        503,
        'hub_unreachable',
        `The sidecar cannot reach the JupyterHub API at ${this.settings.apiUrl} (${(err as Error).message}). Check that the hub is running.`
      );
    }
    if ([401, 403, 404].includes(res.status)) return null;
    if (!res.ok) {
      throw new ApiError(
        503,
        'hub_error',
        `The JupyterHub API answered ${res.status} to GET ${route}; try again.`
      );
    }
    return (await res.json()) as T;
  }

  private remember(key: string, identity: Identity | null): void {
    // Refusals are kept briefly, so a token the hub just issued works at once.
    const seconds = identity
      ? this.settings.cacheSeconds
      : Math.min(this.settings.cacheSeconds, 2);
    if (seconds <= 0) return;
    this.cache.set(key, identity, seconds * 1000);
  }
}
