import { createHash, randomBytes } from 'crypto';
import express, { Request, Response } from 'express';
import proxyaddr from 'proxy-addr';
import type { Fetch, HubSettings } from './hub';

/**
 * JupyterHub's OAuth flow for a person's browser navigating to the service (a result
 * download link, the service's page): no token header there, so the browser is sent to the
 * hub to log in, comes back to `<prefix>oauth_callback` with a code, and the token the code
 * buys is kept in an HttpOnly cookie scoped to the service's path. API calls from
 * JupyterLab keep sending `Authorization: token ...` and never need this.
 */
export interface BrowserLogin {
  /** The callback route (and nothing else), mounted at the app's root. */
  readonly router: express.Router;
  /** The hub token in the login cookie, if any. */
  tokenFromCookie(req: Request): string | undefined;
  /** Starts the OAuth flow: remembers where to come back to, redirects to the hub. */
  redirectToLogin(req: Request, res: Response): void;
}

export const TOKEN_COOKIE = 'nbqueue-hub-token';
const STATE_COOKIE = 'nbqueue-oauth-state';
const STATE_MAX_AGE_S = 600;

const base64url = (buf: Buffer) => buf.toString('base64url');

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    try {
      cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      /* a malformed cookie is no cookie */
    }
  }
  return cookies;
}

interface OAuthState {
  id: string;
  next: string;
  verifier: string;
}

export class HubOAuth implements BrowserLogin {
  readonly router = express.Router();
  private readonly callbackPath: string;
  private readonly trust: ReturnType<typeof proxyaddr.compile>;

  constructor(
    private readonly settings: HubSettings,
    private readonly fetchImpl: Fetch = fetch
  ) {
    // The callback URL the hub knows is a full path (/services/nbqueue/oauth_callback);
    // the app is mounted at the service prefix, so its route is the part after it.
    this.trust = proxyaddr.compile(settings.trustedProxies);
    const full = new URL(settings.oauthCallbackUrl, 'http://x').pathname;
    this.callbackPath = full.startsWith(settings.servicePrefix)
      ? `/${full.slice(settings.servicePrefix.length)}`
      : full;
    this.router.get(this.callbackPath, (req, res, next) => {
      this.callback(req, res).catch(next);
    });
  }

  tokenFromCookie(req: Request): string | undefined {
    return parseCookies(req.header('cookie')).get(TOKEN_COOKIE) || undefined;
  }

  redirectToLogin(req: Request, res: Response): void {
    const state: OAuthState = {
      id: base64url(randomBytes(16)),
      // Only a path on this service: never an open redirect.
      next: req.originalUrl.startsWith(this.settings.servicePrefix)
        ? req.originalUrl
        : this.settings.servicePrefix,
      verifier: base64url(randomBytes(32))
    };
    const challenge = base64url(
      createHash('sha256').update(state.verifier).digest()
    );
    this.setCookie(
      req,
      res,
      STATE_COOKIE,
      base64url(Buffer.from(JSON.stringify(state))),
      STATE_MAX_AGE_S
    );
    const query = new URLSearchParams({
      client_id: this.settings.clientId,
      redirect_uri: this.settings.oauthCallbackUrl,
      response_type: 'code',
      state: state.id,
      code_challenge: challenge,
      code_challenge_method: 'S256'
    });
    res.redirect(
      302,
      `${this.settings.publicHubUrl}${this.settings.hubPrefix}api/oauth2/authorize?${query.toString()}`
    );
  }

  private async callback(req: Request, res: Response): Promise<void> {
    const fail = (status: number, message: string) => {
      res.status(status).type('text/plain').send(message);
    };
    let state: OAuthState | null = null;
    try {
      const raw = parseCookies(req.header('cookie')).get(STATE_COOKIE);
      state = raw
        ? (JSON.parse(Buffer.from(raw, 'base64url').toString()) as OAuthState)
        : null;
    } catch {
      state = null;
    }
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    if (!state || !code || req.query.state !== state.id) {
      fail(
        400,
        'nbqueue: this login link is stale or was not started here (OAuth state mismatch). Open the nbqueue link again.'
      );
      return;
    }
    const body = new URLSearchParams({
      client_id: this.settings.clientId,
      client_secret: this.settings.apiToken,
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.settings.oauthCallbackUrl,
      code_verifier: state.verifier
    });
    const answer = await this.fetchImpl(
      `${this.settings.apiUrl}/oauth2/token`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: body.toString()
      }
    );
    const reply = (await answer.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
    };
    if (!answer.ok || !reply.access_token) {
      fail(
        403,
        `nbqueue: the hub refused the login (${answer.status}). Open the nbqueue link again.`
      );
      return;
    }
    this.setCookie(req, res, STATE_COOKIE, '', 0);
    this.setCookie(
      req,
      res,
      TOKEN_COOKIE,
      reply.access_token,
      reply.expires_in
    );
    res.redirect(302, state.next);
  }

  /**
   * Whether the browser reached the hub over https: the public URL says so, the connection
   * is TLS, or the hub's proxy (a trusted peer, auth.hub.trusted_proxies) forwarded https.
   */
  private overHttps(req: Request): boolean {
    if (this.settings.publicHubUrl.startsWith('https:')) return true;
    if ((req.socket as { encrypted?: boolean }).encrypted) return true;
    const peer = req.socket.remoteAddress;
    const proto = (req.header('x-forwarded-proto') ?? '')
      .split(',')[0]
      .trim()
      .toLowerCase();
    return proto === 'https' && !!peer && this.trust(peer, 0);
  }

  private setCookie(
    req: Request,
    res: Response,
    name: string,
    value: string,
    maxAgeSeconds?: number
  ): void {
    res.cookie(name, value, {
      httpOnly: true,
      sameSite: 'lax',
      path: this.settings.servicePrefix,
      secure: this.overHttps(req),
      ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds * 1000 } : {})
    });
  }
}
