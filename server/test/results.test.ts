/**
 * The result notebook as an upload of its own (server/src/results): streamed to the job's
 * folder and back, refused over limits.result_bytes or when it is not a notebook, with a real
 * sidecar and store; and, with a real runner, a job whose result does not fit ends with a reason.
 */
import { createHash } from 'crypto';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { hashToken } from '../src/auth/token';
import { FileStore } from '../src/files/store';
import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  PYTHON,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const MB = 1024 * 1024;
const LIMIT = 80 * MB;

interface Answer {
  status: number;
  body: {
    bytes?: number;
    sha256?: string;
    error?: { code: string; message: string };
  };
}

/** PUT …/result from `body` (a file streamed, or bytes); chunked when `length` is null. */
function upload(
  url: string,
  job: string,
  token: string,
  body: fs.ReadStream | Buffer,
  length: number | null
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/api/runner/jobs/${job}/result`,
      {
        method: 'PUT',
        // A connection of its own: one test declares more than it sends.
        agent: false,
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/x-ipynb+json',
          ...(length === null ? {} : { 'Content-Length': String(length) })
        }
      },
      res => {
        let text = '';
        res.on('data', chunk => (text += chunk));
        res.on('end', () => {
          req.destroy();
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text || '{}')
          });
        });
      }
    );
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

const sha256 = (file: string) =>
  createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('result notebooks', () => {
  let s: TestSidecar;
  const token = 'runner-token-for-the-results-test';

  /** A job that runs (its "python" sleeps) with a token this test knows. */
  async function runningJob(): Promise<JobView> {
    const job = (
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
    return job;
  }

  beforeAll(async () => {
    const dir = tmpDir();
    const sleeper = path.join(dir, 'python');
    fs.writeFileSync(sleeper, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    s = await startTestSidecar(
      {
        profiles: [
          { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 8 }
        ],
        backend: { local: { python: sleeper } },
        limits: { result_bytes: LIMIT }
      },
      dir
    );
  });
  afterAll(() => s.close());

  test('a 60 MB result streams to disk and back intact, the sidecar never holding it', async () => {
    const job = await runningJob();
    const file = path.join(tmpDir(), 'big.ipynb');
    execFileSync(PYTHON, [
      path.join(__dirname, 'fixtures/results/big.py'),
      file,
      '60'
    ]);
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(60 * MB);

    // The sidecar runs in this process: its RSS is ours, sampled while the upload streams.
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const answer = await upload(
      s.url,
      job.id,
      token,
      fs.createReadStream(file),
      size
    );
    clearInterval(sampler);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ bytes: size, sha256: sha256(file) });
    // Holding the body whole would grow by its size at least (the sampler catches the peak).
    expect(peak - before).toBeLessThan(size);

    const finish = await s.api<{ ok: boolean }>(
      'POST',
      `/api/runner/jobs/${job.id}/finish`,
      { state: 'succeeded', result: answer.body },
      token
    );
    expect(finish.status).toBe(200);
    const ended = (await s.api<JobView>('GET', `/api/jobs/${job.id}`)).body;
    expect([ended.state, ended.has_result]).toEqual(['succeeded', true]);

    const saved = path.join(tmpDir(), 'back.ipynb');
    const got = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get(
          `${s.url}/api/jobs/${job.id}/result?download=1`,
          { headers: { Authorization: `Bearer ${s.token}` } },
          resolve
        )
        .on('error', reject)
    );
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-length']).toBe(String(size));
    expect(got.headers['content-disposition']).toBe(
      `attachment; filename="${job.id}.ipynb"`
    );
    await new Promise<void>(done =>
      got.pipe(fs.createWriteStream(saved)).on('finish', () => done())
    );
    expect(sha256(saved)).toBe(answer.body.sha256);

    // Once the job ended its token is gone: the result does not change.
    const late = await upload(s.url, job.id, token, Buffer.from('{}'), 2);
    expect([late.status, late.body.error?.code]).toEqual([401, 'unauthorized']);

    // Deleting the job's files (retention) takes the result with them.
    const files = new FileStore(s.dbPath, path.join(s.dir, 'files'));
    expect(fs.existsSync(files.resultPath(job.id))).toBe(true);
    files.deleteJob(job.id);
    files.close();
    expect(fs.existsSync(path.join(s.dir, 'files', 'jobs', job.id))).toBe(
      false
    );
    const gone = await s.api<Answer['body']>(
      'GET',
      `/api/jobs/${job.id}/result`
    );
    expect([gone.status, gone.body.error?.code]).toEqual([
      404,
      'result_not_ready'
    ]);
  }, 120000);

  test('over limits.result_bytes: 413 naming it, declared or while streaming; nothing kept', async () => {
    const job = await runningJob();
    const declared = await upload(
      s.url,
      job.id,
      token,
      Buffer.alloc(0),
      LIMIT + 1
    );
    expect(declared.status).toBe(413);
    expect(declared.body.error?.code).toBe('result_too_large');
    expect(declared.body.error?.message).toContain(
      `limits.result_bytes (${LIMIT} bytes, 80 MB)`
    );
    // Chunked, so only its bytes tell: a notebook prefix and one long string past the limit.
    const long = Buffer.concat([
      Buffer.from('{"cells": [{"cell_type": "code", "source": "'),
      Buffer.alloc(LIMIT, 0x61)
    ]);
    const streamed = await upload(s.url, job.id, token, long, null);
    expect([streamed.status, streamed.body.error?.code]).toEqual([
      413,
      'result_too_large'
    ]);
    expect(fs.readdirSync(path.join(s.dir, 'files', 'tmp'))).toEqual([]);
    const view = (await s.api<JobView>('GET', `/api/jobs/${job.id}`)).body;
    expect([view.state, view.has_result]).toEqual(['starting', false]);
  }, 60000);

  test('not a notebook: 400 invalid_result saying what is wrong; a finish naming it: 409', async () => {
    const job = await runningJob();
    const cases: Array<[string, string]> = [
      [
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1]}',
        'cells[0] must be an object'
      ],
      [
        '{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "cells": []}',
        '"nbformat" is 3, not 4'
      ],
      [
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [',
        'the file ends before the notebook does'
      ],
      ['[1, 2]', 'the notebook must be a JSON object']
    ];
    for (const [body, problem] of cases) {
      const answer = await upload(
        s.url,
        job.id,
        token,
        Buffer.from(body),
        body.length
      );
      expect([answer.status, answer.body.error?.code]).toEqual([
        400,
        'invalid_result'
      ]);
      expect(answer.body.error?.message).toContain(problem);
    }
    // Only the media types the document lists.
    const untyped = await fetch(`${s.url}/api/runner/jobs/${job.id}/result`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'text/plain'
      },
      body: '{}'
    });
    const refusal = (await untyped.json()) as Answer['body'];
    expect([untyped.status, refusal.error?.message]).toEqual([
      400,
      'Send the executed notebook as its .ipynb file with Content-Type application/x-ipynb+json, not text/plain.'
    ]);
    const finish = await s.api<Answer['body']>(
      'POST',
      `/api/runner/jobs/${job.id}/finish`,
      { state: 'succeeded', result: { bytes: 10, sha256: 'a'.repeat(64) } },
      token
    );
    expect([finish.status, finish.body.error?.code]).toEqual([
      409,
      'result_missing'
    ]);
    expect(
      (await s.api<JobView>('GET', `/api/jobs/${job.id}`)).body.state
    ).toBe('starting');

    // A result an older runner sent inline (the results table) is still served.
    const inline = notebook([code('print(1)')]);
    s.store.saveResult(job.id, inline as never);
    const old = await s.api<Record<string, unknown>>(
      'GET',
      `/api/jobs/${job.id}/result`
    );
    expect([old.status, old.body.cells]).toEqual([200, inline.cells]);
  });
});

describe('a result over the limit, with a real runner', () => {
  test('the job ends failed with a reason naming limits.result_bytes, its events kept', async () => {
    const s = await startTestSidecar({ limits: { result_bytes: 100_000 } });
    try {
      const job = (
        await s.api<JobView>('POST', '/api/jobs', {
          profile: 'cpu',
          notebook: notebook([code("print('x' * 300_000)")])
        })
      ).body;
      const ended = await waitFor(
        async () => {
          const view = (await s.api<JobView>('GET', `/api/jobs/${job.id}`))
            .body;
          return ['succeeded', 'failed', 'cancelled'].includes(view.state)
            ? view
            : null;
        },
        'the job to end',
        60000
      );
      expect(ended.state).toBe('failed');
      expect(ended.reason).toContain(
        "over the sidecar's limits.result_bytes (100000 bytes)"
      );
      expect(ended.has_result).toBe(false);
      const { body } = await s.api<{ events: Array<Record<string, unknown>> }>(
        'GET',
        `/api/jobs/${job.id}/events`
      );
      const printed = body.events
        .filter(e => e.type === 'output')
        .map(e => (e.output as { text?: string }).text ?? '')
        .join('');
      expect(printed.length).toBeGreaterThanOrEqual(300_000);
    } finally {
      await s.close();
    }
  }, 90000);
});
