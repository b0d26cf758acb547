import * as fs from 'fs';
import { io, Socket } from 'socket.io-client';
import { defaultStateFile, readState } from '../statefile';

export interface Connection {
  url: string;
  token: string;
}

export class CliError extends Error {}

/** NBQUEUE_URL + NBQUEUE_TOKEN, else the state file that `nbqueue serve` writes. */
export function resolveConnection(
  env: NodeJS.ProcessEnv = process.env
): Connection {
  if (env.NBQUEUE_URL && env.NBQUEUE_TOKEN)
    return {
      url: env.NBQUEUE_URL.replace(/\/$/, ''),
      token: env.NBQUEUE_TOKEN
    };
  const file = defaultStateFile();
  const state = readState(file);
  if (!state) {
    throw new CliError(
      `No nbqueue sidecar found: set NBQUEUE_URL and NBQUEUE_TOKEN, or start one with \`nbqueue serve\` (it writes ${file}).`
    );
  }
  return {
    url: env.NBQUEUE_URL?.replace(/\/$/, '') ?? state.url,
    token: env.NBQUEUE_TOKEN ?? state.token
  };
}

/** A thin REST client; non-2xx answers become CliError with the server's message. */
export class Client {
  constructor(readonly conn: Connection) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.send(method, path, body);
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      return text as T;
    }
  }

  /** A text answer (a runner log) as it is, never parsed as JSON. */
  async text(path: string): Promise<string> {
    return this.send('GET', path);
  }

  /** A binary answer (an archive) written to `file`. */
  async download(path: string, file: string): Promise<void> {
    const res = await this.fetchOk('GET', path);
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  }

  private async send(
    method: string,
    path: string,
    body?: unknown
  ): Promise<string> {
    return (await this.fetchOk(method, path, body)).text();
  }

  private async fetchOk(
    method: string,
    path: string,
    body?: unknown
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.conn.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.conn.token}`,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {})
        },
        body: body !== undefined ? JSON.stringify(body) : undefined
      });
    } catch (err) {
      throw new CliError(
        `Cannot reach the nbqueue sidecar at ${this.conn.url}: ${(err as Error).message}. Is \`nbqueue serve\` running?`
      );
    }
    if (!res.ok) {
      const text = await res.text();
      let message = `HTTP ${res.status}`;
      try {
        message =
          (JSON.parse(text) as { error?: { message?: string } }).error
            ?.message ?? message;
      } catch {
        // Not an nbqueue error body (a proxy's page): the status says enough.
      }
      throw new CliError(message);
    }
    return res;
  }

  socket(): Socket {
    // A sidecar under a path (a JupyterHub service: .../services/nbqueue) answers socket.io
    // below it; given to io() as is, the path would be taken for a namespace.
    const target = new URL(this.conn.url);
    return io(target.origin, {
      path: `${target.pathname.replace(/\/+$/, '')}/socket.io`,
      auth: { token: this.conn.token },
      transports: ['websocket']
    });
  }
}
