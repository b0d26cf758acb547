import type { IncomingMessage } from 'http';

/** Who a request (or socket) is. */
export interface Identity {
  user: string;
  admin: boolean;
}

/**
 * The auth seam: standalone token mode implements it now; JupyterHub service mode later.
 * `authenticate` gets the bearer token (already taken out of the header or handshake) and
 * answers who it is, or null for an unknown token.
 */
export interface Authenticator {
  readonly mode: string;
  /** `request` (the HTTP request, or a socket's handshake) says where the token came from. */
  authenticate(
    token: string | undefined,
    request?: IncomingMessage
  ): Promise<Identity | null>;
}

/** Takes the token out of `Authorization: Bearer X` or `Authorization: token X`. */
export function tokenFromHeader(
  header: string | undefined
): string | undefined {
  if (!header) return undefined;
  const match = /^(?:Bearer|token)\s+(\S+)$/i.exec(header.trim());
  return match ? match[1] : undefined;
}
