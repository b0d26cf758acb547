/**
 * Who is calling a user route: the `Authorization` header, or in hub mode the login cookie
 * of a person's browser opening a link (and nothing else).
 */
import type { Request, RequestHandler } from 'express';
import type { Authenticator, Identity } from '../auth/auth';
import { tokenFromHeader } from '../auth/auth';
import type { BrowserLogin } from '../auth/hubOAuth';
import { ApiError } from '../errors';
import { guard } from './routes/serve';

declare module 'express-serve-static-core' {
  interface Request {
    identity?: Identity;
  }
}

/**
 * A top-level navigation by the browser itself (Fetch Metadata, sent by every current
 * browser): a fetch() or an iframe from another page on the hub's origin is not one. Without
 * these headers the cookie is not taken: the API takes `Authorization` headers.
 */
const isCookieNavigation = (req: Request): boolean =>
  req.method === 'GET' &&
  req.header('sec-fetch-mode') === 'navigate' &&
  req.header('sec-fetch-dest') === 'document';

/** A person's browser opening a link (not a script calling the API). */
const isNavigation = (req: Request): boolean =>
  req.method === 'GET' &&
  !req.header('authorization') &&
  (req.header('sec-fetch-mode') === 'navigate' ||
    (req.header('accept') ?? '').includes('text/html'));

export function authenticate(
  auth: Authenticator,
  browserLogin?: BrowserLogin
): RequestHandler[] {
  const cookie: RequestHandler = async (req, res, next) => {
    // The login cookie authenticates a person's browser opening a link, and nothing else:
    // a script on the same origin (another user's server behind the same hub) cannot use it
    // (isCookieNavigation), and what it opens cannot be read from another page (sandboxed).
    if (!browserLogin || req.header('authorization') || req.method !== 'GET')
      return next();
    try {
      const token = isCookieNavigation(req)
        ? browserLogin.tokenFromCookie(req)
        : undefined;
      const identity = token ? await auth.authenticate(token, req) : null;
      if (identity) {
        req.identity = identity;
        res.setHeader(
          'Content-Security-Policy',
          "sandbox; frame-ancestors 'none'"
        );
        res.setHeader('X-Frame-Options', 'DENY');
      } else if (isNavigation(req))
        return browserLogin.redirectToLogin(req, res);
      next();
    } catch (err) {
      next(err);
    }
  };
  const header = guard(async req => {
    if (req.identity) return;
    const identity = await auth.authenticate(
      tokenFromHeader(req.header('authorization')),
      req
    );
    if (!identity) {
      throw new ApiError(
        401,
        'unauthorized',
        auth.mode === 'hub'
          ? 'Missing, invalid or expired JupyterHub token, or one without access to this service. Send "Authorization: token <token>" with a hub token that has the access:services scope for nbqueue.'
          : 'Missing or invalid token. Send "Authorization: Bearer <token>" with the sidecar token (see `nbqueue serve` output).'
      );
    }
    req.identity = identity;
  });
  return [cookie, header];
}
