import type { Server as HttpServer } from 'http';
import { Server, Socket } from 'socket.io';
import type { Authenticator, Identity } from '../auth/auth';
import { tokenFromHeader } from '../auth/auth';
import { ApiError } from '../errors';
import type { JobListener, JobPublisher } from '../jobs/publisher';
import type { JobQueries } from '../jobs/queries';
import type { JobEvent, JobRecord, JobView } from '../jobs/types';
import type { PipelineView } from '../api/contract/pipelines';
import { BACKLOG_PAGE, replay } from './replay';

const jobRoom = (id: string) => `job:${id}`;
const userRoom = (user: string) => `user:${user}`;

interface SubscribeRequest {
  job_id?: unknown;
  after?: unknown;
  page_ack?: unknown;
}

/**
 * Live delivery over socket.io. A subscriber gets the stored backlog after its last seq in pages
 * with backpressure (live/replay.ts), then live events: it joins the job's room in the same
 * turn as the read that found the backlog exhausted, so nothing falls in between and no live
 * event overtakes the backlog (clients drop anything at or below the last seq they applied).
 */
export class LiveHub implements JobListener {
  readonly io: Server;
  private readonly unsubscribe: () => void;

  constructor(
    http: HttpServer,
    private readonly auth: Authenticator,
    /** What subscribers may read (backlog, views), and where changes come from. */
    private readonly jobs: { queries: JobQueries; publisher: JobPublisher },
    /** socket.io's path; a hub service answers under its prefix (/services/nbqueue/socket.io). */
    path = '/socket.io'
  ) {
    this.io = new Server(http, {
      path,
      cors: { origin: '*' },
      maxHttpBufferSize: 1e6
    });
    this.io.use((socket, next) => {
      const token =
        (socket.handshake.auth as { token?: string } | undefined)?.token ??
        tokenFromHeader(socket.handshake.headers.authorization);
      this.auth
        .authenticate(token, socket.request)
        .then(identity => {
          if (!identity) return next(new Error('unauthorized'));
          socket.data.identity = identity;
          next();
        })
        .catch(err => next(err as Error));
    });
    this.io.on('connection', socket => this.onConnection(socket));
    this.unsubscribe = jobs.publisher.subscribe(this);
  }

  private onConnection(socket: Socket): void {
    const identity = socket.data.identity as Identity;
    void socket.join(userRoom(identity.user));
    if (identity.admin) void socket.join('admins');
    // The replay in progress per job on this socket: a new subscribe or an unsubscribe ends it.
    const replays = new Map<string, object>();
    socket.on(
      'subscribe',
      (req: SubscribeRequest, ack?: (answer: unknown) => void) => {
        const reply = typeof ack === 'function' ? ack : () => undefined;
        const refused = (err: unknown) => {
          const e =
            err instanceof ApiError
              ? err
              : new ApiError(500, 'internal_error', String(err));
          reply({ ok: false, ...e.toJSON() });
        };
        try {
          const id = String(req?.job_id ?? '');
          const after = Number(req?.after ?? 0);
          if (!Number.isInteger(after) || after < 0)
            throw new ApiError(
              400,
              'invalid_request',
              '"after" must be a whole number ≥ 0.'
            );
          const job = this.jobs.queries.getRecord(identity, id);
          const mine = {};
          replays.set(id, mine);
          // Live events wait until the backlog is through (a re-subscribe is in the room).
          void socket.leave(jobRoom(id));
          replay(socket, {
            job_id: id,
            after,
            pageAck: req?.page_ack === true,
            page: cursor =>
              this.jobs.queries.events(identity, id, cursor, BACKLOG_PAGE)
                .events,
            caughtUp: () => void socket.join(jobRoom(id)),
            wanted: () => replays.get(id) === mine
          })
            .then(caughtUp => {
              if (replays.get(id) === mine) replays.delete(id);
              if (caughtUp)
                reply({
                  ok: true,
                  job: this.jobs.queries.get(identity, job.id)
                });
              else
                refused(
                  new ApiError(
                    409,
                    'subscribe_replaced',
                    `The replay of job '${id}' stopped: the client unsubscribed or subscribed again.`
                  )
                );
            })
            .catch(refused);
        } catch (err) {
          refused(err);
        }
      }
    );
    socket.on('unsubscribe', (req: SubscribeRequest) => {
      const id = String(req?.job_id ?? '');
      replays.delete(id);
      void socket.leave(jobRoom(id));
    });
  }

  pipelineChanged(pipeline: PipelineView): void {
    this.io
      .to(userRoom(pipeline.owner))
      .to('admins')
      .emit('pipeline', pipeline);
  }

  /** Queue moves are read and sent only while a client is connected. */
  queueMoves(): boolean {
    return this.io.engine.clientsCount > 0;
  }

  jobChanged(job: JobView): void {
    this.io.to(userRoom(job.owner)).to('admins').emit('job', job);
  }

  eventsAppended(job: JobRecord, events: JobEvent[]): void {
    this.io.to(jobRoom(job.id)).emit('events', { job_id: job.id, events });
  }

  close(): Promise<void> {
    this.unsubscribe();
    return new Promise(resolve => this.io.close(() => resolve()));
  }
}
