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

export interface TokenGrant extends Identity {
  token: string;
}

/**
 * Standalone mode: the sidecar token stands for one user (by default an admin); more tokens
 * may be configured, each for its own user.
 */
export class TokenAuthenticator implements Authenticator {
  readonly mode = 'token';
  /** Each grant with its token's digest, made once: a request hashes only what it presents. */
  private readonly grants: Array<TokenGrant & { digest: Buffer }>;

  constructor(
    token: string,
    user: string,
    admin = true,
    others: TokenGrant[] = []
  ) {
    this.grants = [{ token, user, admin }, ...others].map(g => ({
      ...g,
      digest: createHash('sha256').update(g.token).digest()
    }));
  }

  async authenticate(token: string | undefined): Promise<Identity | null> {
    if (!token) return null;
    // Compare with every grant, so the time taken says nothing about which matched; digests
    // of equal length compared in constant time, as sameSecret does.
    const digest = createHash('sha256').update(token).digest();
    let found: Identity | null = null;
    for (const grant of this.grants) {
      if (timingSafeEqual(digest, grant.digest) && !found)
        found = { user: grant.user, admin: grant.admin };
    }
    return found;
  }
}
