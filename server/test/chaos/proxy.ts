/**
 * A TCP proxy between the runners and the sidecar (the runners get its URL as the sidecar's
 * public_url) that a test cuts: `blackhole` holds every byte in both directions, on open and
 * new connections, until it lets them through (a partition that heals: TCP delivers late);
 * `refuse` resets every open connection and every new one until it ends (a link that is down).
 */
import * as net from 'net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Bytes held while blackholed: [toUpstream, toClient]. */
  held: [Buffer[], Buffer[]];
}

export class CutProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();
  private mode: 'open' | 'blackhole' | 'refuse' = 'open';
  port = 0;
  /** Connections the proxy took (a measure of how much the runners retried). */
  connections = 0;

  constructor(private readonly target: number) {
    this.server = net.createServer(client => this.accept(client));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>(resolve =>
      this.server.listen(0, '127.0.0.1', () => resolve())
    );
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    this.connections += 1;
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, held: [[], []] };
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', close).on('close', close);
    client.on('data', chunk => this.send(pair, 0, chunk));
    if (this.mode === 'open') this.connect(pair);
  }

  private connect(pair: Pair): void {
    if (pair.upstream || pair.client.destroyed) return;
    const upstream = net.connect(this.target, '127.0.0.1');
    pair.upstream = upstream;
    const close = () => {
      this.pairs.delete(pair);
      pair.client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close).on('close', close);
    upstream.on('data', chunk => this.send(pair, 1, chunk));
    this.flush(pair);
  }

  private send(pair: Pair, direction: 0 | 1, chunk: Buffer): void {
    if (this.mode !== 'open' || !pair.upstream) {
      pair.held[direction].push(chunk);
      return;
    }
    (direction === 0 ? pair.upstream : pair.client).write(chunk);
  }

  private flush(pair: Pair): void {
    const [up, down] = pair.held;
    pair.held = [[], []];
    for (const c of up) pair.upstream?.write(c);
    for (const c of down) pair.client.write(c);
  }

  /** Holds all traffic from now until `heal`. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Resets every connection now and refuses new ones until `heal`. */
  refuse(): void {
    this.mode = 'refuse';
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
  }

  /** Lets traffic through again; what a blackhole held is delivered now. */
  heal(): void {
    this.mode = 'open';
    for (const pair of this.pairs) {
      this.connect(pair);
      this.flush(pair);
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}
