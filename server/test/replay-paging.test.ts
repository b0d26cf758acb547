/**
 * A subscriber's backlog goes in pages with backpressure (server/src/live/replay.ts), and
 * metrics.csv is written a page at a time (metrics/csv.ts): a real sidecar and store, with
 * events put in the store directly.
 */
import * as fs from 'fs';
import * as path from 'path';
import { io } from 'socket.io-client';
import { hashToken } from '../src/auth/token';
import type { JobEvent, JobView } from '../src/jobs/types';
import { BACKLOG_PAGE } from '../src/live/replay';
import { toCsv } from '../src/metrics/csv';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const EVENTS = 40_000;
const METRICS = 12_000;
const token = 'runner-token-for-the-replay-test';

describe('replay in pages and metrics.csv streamed', () => {
  let s: TestSidecar;
  let job: JobView;

  beforeAll(async () => {
    const dir = tmpDir();
    const sleeper = path.join(dir, 'python');
    fs.writeFileSync(sleeper, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    s = await startTestSidecar(
      { backend: { local: { python: sleeper } } },
      dir
    );
    job = (
      await s.api<JobView>('POST', '/api/jobs', {
        profile: 'cpu',
        notebook: notebook([code('1')])
      })
    ).body;
    await waitFor(
      async () =>
        (await s.api<JobView>('GET', `/api/jobs/${job.id}`)).body.state !==
        'queued',
      'the job to start'
    );
    s.store.updateJob(job.id, { token_hash: hashToken(token) });
    const batch: JobEvent[] = [];
    for (let seq = 1; seq <= EVENTS + METRICS; seq++) {
      batch.push(
        seq <= EVENTS
          ? ({
              seq,
              time: 1_700_000_000_000 + seq,
              type: 'output',
              cell_id: 'c1',
              output: {
                output_type: 'stream',
                name: 'stdout',
                text: `line ${seq}\n`
              }
            } as JobEvent)
          : ({
              seq,
              type: 'metric',
              name: seq % 2 ? 'loss' : 'system/cpu',
              value: seq % 7 === 0 ? null : seq / 3,
              step: seq,
              time: 1_700_000_000_000 + seq,
              kind: seq % 2 ? 'user' : 'system'
            } as unknown as JobEvent)
      );
      if (batch.length === 5000) s.store.appendEvents(job.id, batch.splice(0));
    }
    s.store.appendEvents(job.id, batch);
  }, 120000);
  afterAll(() => s.close());

  test('a client that acks each page slowly gets every event in order; HTTP is answered meanwhile', async () => {
    const socket = io(s.url, {
      auth: { token: s.token },
      transports: ['websocket']
    });
    const seqs: number[] = [];
    let pages = 0;
    // The client takes a while with each page before it acks: the server waits for it.
    socket.on('events', (msg: { events: JobEvent[] }, ack?: () => void) => {
      pages += 1;
      for (const ev of msg.events) seqs.push(ev.seq);
      if (ack) setTimeout(ack, 5);
    });
    const subscribed = new Promise<{ ok: boolean }>(resolve =>
      socket.on('connect', () =>
        socket.emit(
          'subscribe',
          { job_id: job.id, after: 0, page_ack: true },
          resolve
        )
      )
    );
    await waitFor(() => pages >= 3, 'the first pages');
    const started = performance.now();
    const answer = await s.api<JobView>('GET', `/api/jobs/${job.id}`);
    const latency = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(latency).toBeLessThan(1000);
    // Answered while the replay was still going: the pages wait for the client's acks.
    expect(seqs.length).toBeLessThan(EVENTS + METRICS);

    expect((await subscribed).ok).toBe(true);
    expect(seqs.length).toBe(EVENTS + METRICS);
    expect(seqs.every((seq, i) => seq === i + 1)).toBe(true);
    expect(pages).toBe(Math.ceil((EVENTS + METRICS) / BACKLOG_PAGE));

    // Caught up, the client is in the live room: the next event comes live, once.
    const next = EVENTS + METRICS + 1;
    const posted = await s.api(
      'POST',
      `/api/runner/jobs/${job.id}/events`,
      {
        events: [
          {
            seq: next,
            time: Date.now(),
            type: 'log',
            level: 'info',
            message: 'live'
          }
        ]
      },
      token
    );
    expect(posted.status).toBe(200);
    await waitFor(() => seqs[seqs.length - 1] === next, 'the live event');
    expect(seqs.length).toBe(next);
    socket.close();
  }, 120000);

  test('metrics.csv streamed over several pages equals the rows', async () => {
    const res = await fetch(`${s.url}/api/jobs/${job.id}/metrics.csv`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await res.text();
    expect(text).toBe(toCsv(job.id, s.store.metrics.list(job.id)));
    expect(text.split('\r\n').length).toBe(METRICS + 2);

    const since = EVENTS + 5001;
    const user = await fetch(
      `${s.url}/api/jobs/${job.id}/metrics.csv?since=${since}&kind=user`,
      { headers: { Authorization: `Bearer ${s.token}` } }
    );
    expect(await user.text()).toBe(
      toCsv(job.id, s.store.metrics.list(job.id, { since, kind: 'user' }))
    );
    const unknown = await fetch(`${s.url}/api/jobs/j-nope/metrics.csv`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(unknown.status).toBe(404);
  });
});
