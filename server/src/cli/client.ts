import * as fs from 'fs';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import type { ReadableStream as NodeWebStream } from 'stream/web';
import { io, Socket } from 'socket.io-client';
import { defaultStateFile, readState } from '../statefile';
import type { api } from '@nbqueue/common';

type paths = api.paths;

type Method = 'get' | 'post' | 'put' | 'delete';
/** The operation at `P` with `M`, as the generated types say. */
type Op<P extends keyof paths, M extends Method> = paths[P][M];
type Json<A> = A extends { content: { 'application/json': infer T } }
  ? T
  : never;
/** The JSON body of the operation's success answer (200 or 201). */
export type Answer<O> = O extends { responses: infer R }
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer A }
      ? Json<A>
      : never
  : never;
type Body<O> = O extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;
type Query<O> = O extends { parameters: { query?: infer Q } } ? Q : never;

/** What one call sends: the path's {id}, the query, the JSON body. */
export interface CallArgs<O> {
  id?: string;
  query?: Query<O>;
  body?: Body<O>;
}

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

  /**
   * One operation of the REST contract, typed by the generated types: `call('post',
   * '/api/jobs/{id}/move', { id, body: { queue } })` answers a Job.
   */
  async call<P extends keyof paths, M extends Method & keyof paths[P]>(
    method: M,
    template: P,
    args: CallArgs<Op<P, M & Method>> = {}
  ): Promise<Answer<Op<P, M & Method>>> {
    let url = String(template).replace(
      '{id}',
      encodeURIComponent(args.id ?? '')
    );
    const query = Object.entries(
      (args.query ?? {}) as Record<string, unknown>
    ).filter(([, v]) => v !== undefined && v !== null);
    if (query.length)
      url += `?${new URLSearchParams(query.map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]))}`;
    const text = await this.send(
      method.toUpperCase(),
      url,
      method === 'post' || method === 'put' ? (args.body ?? {}) : undefined
    );
    // 204 (a delete) has no body.
    return (text ? JSON.parse(text) : undefined) as Answer<Op<P, M & Method>>;
  }

  /** A text answer (a runner log) as it is, never parsed as JSON. */
  async text(path: string): Promise<string> {
    return this.send('GET', path);
  }

  /** A binary answer (an archive, a result notebook) streamed to `file` as it arrives. */
  async download(path: string, file: string): Promise<void> {
    const res = await this.fetchOk('GET', path);
    if (!res.body) throw new CliError(`The sidecar sent no body for ${path}.`);
    await pipeline(
      Readable.fromWeb(res.body as NodeWebStream),
      fs.createWriteStream(file)
    );
  }

  /**
   * A binary answer streamed to `file`: written to `file.partial` and renamed once whole, so
   * `file` is never a half-written copy (a large store backup).
   */
  async saveAs(path: string, file: string): Promise<number> {
    const res = await this.fetchOk('GET', path);
    const partial = `${file}.partial`;
    try {
      await pipeline(
        Readable.fromWeb(res.body as NodeWebStream),
        fs.createWriteStream(partial, { mode: 0o600 })
      );
      fs.renameSync(partial, file);
    } catch (err) {
      fs.rmSync(partial, { force: true });
      throw new CliError(`Could not write ${file}: ${(err as Error).message}`);
    }
    return fs.statSync(file).size;
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
