/**
 * A subscriber's backlog, sent a page at a time with backpressure: the next page goes only once
 * the socket's engine.io write buffer is empty and its transport has written the last one out
 * (and, when the client asked for page acks, once it acknowledged), with a turn of the event
 * loop between pages. A million stored events then reach even a slow client without the
 * sidecar's memory growing by them or its event loop stalling.
 */
import type { Socket } from 'socket.io';
import { setImmediate as nextTurn } from 'timers/promises';
import type { JobEvent } from '../jobs/types';

/** Events one backlog page carries. */
export const BACKLOG_PAGE = 250;
/** How long a client that asked for page acks may take to acknowledge one. */
export const PAGE_ACK_MS = 60_000;

/** The engine.io connection's send state (engine.io Socket; not in its public types). */
interface EngineState {
  readyState: string;
  writeBuffer: unknown[];
  transport: { writable: boolean } & NodeJS.EventEmitter;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** Resolves once everything emitted on `socket` so far was handed to the OS (or it closed). */
export function flushed(socket: Socket): Promise<void> {
  const conn = socket.conn as unknown as EngineState;
  const idle = () =>
    conn.readyState !== 'open' ||
    (conn.writeBuffer.length === 0 && conn.transport.writable);
  if (idle()) return Promise.resolve();
  return new Promise(resolve => {
    let transport = conn.transport;
    const check = () => {
      if (!idle()) {
        // The transport may have been swapped (upgrade): listen on the current one.
        if (transport !== conn.transport) {
          transport.off('drain', later);
          transport = conn.transport;
          transport.on('drain', later);
        }
        return;
      }
      clearInterval(poll);
      transport.off('drain', later);
      conn.off('close', check);
      resolve();
    };
    // 'drain' comes just before the transport marks itself writable again.
    const later = () => setImmediate(check);
    transport.on('drain', later);
    conn.on('close', check);
    const poll = setInterval(check, 50);
  });
}

export interface ReplayRequest {
  job_id: string;
  after: number;
  /** Each page is emitted with an ack; the next waits for it (a client that applies slowly). */
  pageAck: boolean;
  /** Read the next page after `cursor` (throws when the caller may no longer read the job). */
  page: (cursor: number) => JobEvent[];
  /** Called in the same turn as the read that found nothing more: joins the live room. */
  caughtUp: () => void;
  /** False once this replay was replaced or the client unsubscribed. */
  wanted: () => boolean;
}

/**
 * Sends the backlog after `after`; resolves true once caught up (the live room joined in the
 * turn of the last read, so no event falls between), false when it was no longer wanted.
 */
export async function replay(
  socket: Socket,
  req: ReplayRequest
): Promise<boolean> {
  let cursor = req.after;
  for (;;) {
    if (!socket.connected || !req.wanted()) return false;
    const events = req.page(cursor);
    if (!events.length) {
      req.caughtUp();
      return true;
    }
    cursor = events[events.length - 1].seq;
    const message = { job_id: req.job_id, events };
    if (req.pageAck)
      await socket.timeout(PAGE_ACK_MS).emitWithAck('events', message);
    else socket.emit('events', message);
    await flushed(socket);
    await nextTurn();
  }
}
