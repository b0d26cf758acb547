/**
 * Request bodies: read only after the caller is authenticated, each route with its own limit
 * (control routes 4 KB, a runner's events 1 MB, submits and finishes limits.max_request_bytes),
 * refused from Content-Length before they are read, and never inflated from gzip.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { CONTROL_BODY_BYTES } from '../src/api/app';
import { hashToken } from '../src/auth/token';
import { EVENTS_BODY_BYTES, MAX_EVENT_BYTES } from '../src/jobs/runnerIntake';
import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
  /** Bytes of the body written before the answer came. */
  sent: number;
}

/**
 * Sends the headers (Content-Length: `length`), then the body only if no answer came within
 * 300 ms: an answer before that was given without reading the body.
 */
function rawPost(
  url: string,
  path: string,
  headers: Record<string, string>,
  length: number,
  body?: Buffer
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = http.request(
      `${url}${path}`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': String(length),
          ...headers
        }
      },
      res => {
        let text = '';
        res.on('data', chunk => (text += chunk));
        res.on('end', () => {
          req.destroy();
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text || '{}'),
            sent
          });
        });
      }
    );
    req.on('error', err => {
      if (!(err as { code?: string }).code?.startsWith('ECONNRESET'))
        reject(err);
    });
    req.flushHeaders();
    setTimeout(() => {
      if (req.destroyed) return;
      const data = body ?? Buffer.alloc(length, 0x20);
      sent = data.length;
      req.end(data);
    }, 300);
  });
}

describe('request bodies', () => {
  let s: TestSidecar;
  let job: JobView;
  const runnerToken = 'runner-token-for-the-bodies-test';

  beforeAll(async () => {
    // A "Python" that sleeps: the job starts (it gets a token) and stays running.
    const dir = tmpDir();
    const sleeper = path.join(dir, 'python');
    fs.writeFileSync(sleeper, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    s = await startTestSidecar(
      {
        profiles: [
          { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }
        ],
        backend: { local: { python: sleeper } }
      },
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
    s.store.updateJob(job.id, { token_hash: hashToken(runnerToken) });
  });
  afterAll(async () => {
    await s.api('POST', `/api/jobs/${job.id}/cancel`);
    await s.close();
  });

  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

  test('no token: 401 before the body is read, however large or broken it is', async () => {
    const large = await rawPost(
      s.url,
      '/api/jobs',
      {},
      1024 * 1024 * 1024,
      Buffer.alloc(0)
    );
    expect([large.status, large.body.error?.code, large.sent]).toEqual([
      401,
      'unauthorized',
      0
    ]);
    const broken = await s.api<Answer['body']>(
      'POST',
      `/api/jobs/${job.id}/cancel`,
      '{"not json',
      null
    );
    expect([broken.status, broken.body.error?.code]).toEqual([
      401,
      'unauthorized'
    ]);
    const runner = await rawPost(
      s.url,
      `/api/runner/jobs/${job.id}/events`,
      auth('not-the-job-token'),
      EVENTS_BODY_BYTES * 10,
      Buffer.alloc(0)
    );
    expect([runner.status, runner.sent]).toEqual([401, 0]);
  });

  test('control routes take 4 KB: larger is 413 from Content-Length, unread', async () => {
    for (const route of [
      'cancel',
      'hold',
      'release',
      'priority',
      'reorder',
      'move',
      'rerun'
    ]) {
      const res = await rawPost(
        s.url,
        `/api/jobs/${job.id}/${route}`,
        auth(s.token),
        CONTROL_BODY_BYTES + 1,
        Buffer.alloc(0)
      );
      expect([route, res.status, res.body.error?.code, res.sent]).toEqual([
        route,
        413,
        'request_too_large',
        0
      ]);
      expect(res.body.error?.message).toMatch(/4 KB this route takes/);
    }
    // Within the limit the route answers as it always did.
    const small = await s.api<JobView>(
      'POST',
      `/api/jobs/${job.id}/priority`,
      JSON.stringify({ priority: 'high', pad: 'x'.repeat(3000) })
    );
    expect(small.status).toBe(409); // the job is no longer queued
  });

  test('a body that says less than it sends is cut at the limit', async () => {
    const res = await s.api<Answer['body']>(
      'POST',
      `/api/jobs/${job.id}/move`,
      { queue: 'cpu', pad: 'x'.repeat(CONTROL_BODY_BYTES) }
    );
    expect([res.status, res.body.error?.code]).toEqual([
      413,
      'request_too_large'
    ]);
  });

  test('gzip bodies are refused, not inflated', async () => {
    const packed = gzipSync(Buffer.from(JSON.stringify({ priority: 'low' })));
    for (const route of [`/api/jobs/${job.id}/priority`, '/api/jobs']) {
      const res = await rawPost(
        s.url,
        route,
        { ...auth(s.token), 'Content-Encoding': 'gzip' },
        packed.length,
        packed
      );
      expect([route, res.status, res.body.error?.code]).toEqual([
        route,
        415,
        'unsupported_encoding'
      ]);
    }
  });

  test("a runner's events: 1 MB a POST; one event may be nearly all of it", async () => {
    const fetched = await s.api<{ max_event_bytes: number }>(
      'GET',
      `/api/runner/jobs/${job.id}`,
      undefined,
      runnerToken
    );
    expect(fetched.body.max_event_bytes).toBe(MAX_EVENT_BYTES);
    expect(MAX_EVENT_BYTES).toBeLessThan(EVENTS_BODY_BYTES);
    const event = (seq: number, text: string) => ({
      seq,
      time: Date.now(),
      type: 'output',
      cell_id: 'c1',
      output: { output_type: 'stream', name: 'stdout', text }
    });
    const padding = MAX_EVENT_BYTES - JSON.stringify(event(1, '')).length;
    const largest = JSON.stringify({ events: [event(1, 'x'.repeat(padding))] });
    expect(Buffer.byteLength(largest)).toBeLessThanOrEqual(EVENTS_BODY_BYTES);
    const taken = await s.api<{ accepted: number }>(
      'POST',
      `/api/runner/jobs/${job.id}/events`,
      largest,
      runnerToken
    );
    expect([taken.status, taken.body.accepted]).toEqual([200, 1]);
    const over = await rawPost(
      s.url,
      `/api/runner/jobs/${job.id}/events`,
      auth(runnerToken),
      EVENTS_BODY_BYTES + 1,
      Buffer.alloc(0)
    );
    expect([over.status, over.body.error?.code, over.sent]).toEqual([
      413,
      'request_too_large',
      0
    ]);
  });
});
