import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import type { Authenticator, Identity } from './auth';

export const newToken = (): string => randomBytes(24).toString('hex');

export const hashToken = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Standalone mode: one sidecar token, one user, who is also the admin. */
export class TokenAuthenticator implements Authenticator {
  readonly mode = 'token';

  constructor(
    private readonly token: string,
    private readonly user: string
  ) {}

  async authenticate(token: string | undefined): Promise<Identity | null> {
    if (!token || !sameSecret(token, this.token)) return null;
    return { user: this.user, admin: true };
  }
}
