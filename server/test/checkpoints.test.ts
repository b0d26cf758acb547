/**
 * Checkpoints on the real sidecar (real SQLite, files on disk): the runner's routes behind the
 * job token, the size limit, keeping the newest N, the owner's listing and download, and what
 * another job or user gets. The runner and kernel side: checkpoints-e2e.test.ts and
 * runner-image/tests/test_checkpoints.py.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as tar from 'tar';
import { hashToken } from '../src/auth/token';
import { FileStore } from '../src/files/store';
import type { JobView } from '../src/jobs/types';
import {
  cli,
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const BOB = 'bob-token-0123456789abcdef';
const LIMIT = 64 * 1024;

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** A raw upload with node's http (fetch gives no answer once the server closes mid-body). */
function send(
  url: string,
  route: string,
  token: string,
  type: string,
  body: Buffer,
  chunked = false
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${route}`,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': type,
          ...(chunked ? {} : { 'Content-Length': String(body.length) })
        }
      },
      res => {
        let text = '';
        res.on('data', chunk => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text || '{}')
          })
        );
      }
    );
    req.on('error', err => {
      const code = (err as { code?: string }).code ?? '';
      if (!['ECONNRESET', 'EPIPE'].includes(code)) reject(err);
    });
    if (!chunked) return void req.end(body);
    // Chunked: 16 KB at a time, as a stream of unknown length arrives.
    let at = 0;
    const next = () => {
      if (req.destroyed) return;
      if (at >= body.length) return void req.end();
      req.write(body.subarray(at, at + 16 * 1024), next);
      at += 16 * 1024;
    };
    next();
  });
}

describe('checkpoints on the sidecar', () => {
  let s: TestSidecar;
  let a: JobView;
  let b: JobView;
  const tokenA = 'runner-token-of-job-a-0123456789';
  const tokenB = 'runner-token-of-job-b-0123456789';
  const save = (
    token: string,
    job: string,
    name: string,
    kind: string,
    body: Buffer,
    chunked = false
  ) =>
    send(
      s.url,
      `/api/runner/jobs/${job}/checkpoints?name=${encodeURIComponent(name)}&kind=${kind}`,
      token,
      kind === 'folder' ? 'application/x-tar' : 'application/octet-stream',
      body,
      chunked
    );
  const listed = async (job: string, token = s.token) =>
    (
      await s.api<{ checkpoints: Array<Record<string, unknown>> }>(
        'GET',
        `/api/jobs/${job}/files`,
        undefined,
        token
      )
    ).body.checkpoints;

  beforeAll(async () => {
    // A "Python" that sleeps: the jobs start (they get tokens) and stay running.
    const dir = tmpDir();
    const sleeper = path.join(dir, 'python');
    fs.writeFileSync(sleeper, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    s = await startTestSidecar(
      {
        profiles: [
          { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }
        ],
        backend: { local: { python: sleeper } },
        auth: { users: [{ token: BOB, user: 'bob' }] },
        limits: { checkpoint_bytes: LIMIT },
        checkpoints: { keep: 2 }
      },
      dir
    );
    const submit = async () =>
      (
        await s.api<JobView>('POST', '/api/jobs', {
          profile: 'cpu',
          notebook: notebook([code('1')])
        })
      ).body;
    a = await submit();
    b = await submit();
    for (const job of [a, b])
      await waitFor(
        async () =>
          (await s.api<JobView>('GET', `/api/jobs/${job.id}`)).body.state !==
          'queued',
        'the job to start'
      );
    s.store.updateJob(a.id, { token_hash: hashToken(tokenA) });
    s.store.updateJob(b.id, { token_hash: hashToken(tokenB) });
  }, 60000);
  afterAll(async () => {
    for (const job of [a, b]) await s.api('POST', `/api/jobs/${job.id}/cancel`);
    await s.close();
  });

  test('a runner stores files and folders; the newest checkpoints.keep are kept', async () => {
    const plan = await fetch(`${s.url}/api/runner/jobs/${a.id}/checkpoints`, {
      headers: { Authorization: `Bearer ${tokenA}` }
    });
    expect(await plan.json()).toEqual({
      latest: null,
      max_bytes: LIMIT,
      preempt_seconds: 30
    });
    const first = await save(
      tokenA,
      a.id,
      'model.pt',
      'file',
      Buffer.from('one')
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      seq: 1,
      name: 'model.pt',
      kind: 'file',
      bytes: 3
    });

    const folder = tmpDir('nbq-ckpt-');
    fs.mkdirSync(path.join(folder, 'sub'));
    fs.writeFileSync(path.join(folder, 'step.txt'), '3');
    fs.writeFileSync(path.join(folder, 'sub', 'w.bin'), Buffer.alloc(5000, 7));
    const archive = path.join(tmpDir(), 'c.tar');
    await tar.c({ cwd: folder, file: archive }, ['step.txt', 'sub']);
    const second = await save(
      tokenA,
      a.id,
      'state',
      'folder',
      fs.readFileSync(archive),
      true
    );
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ seq: 2, kind: 'folder', files: 2 });

    const third = await save(
      tokenA,
      a.id,
      'model.pt',
      'file',
      Buffer.from('three')
    );
    expect(third.body.seq).toBe(3);
    expect((await listed(a.id)).map(c => c.seq)).toEqual([3, 2]);
    const onDisk = path.join(s.dir, 'files', 'checkpoints', a.id);
    expect(fs.readdirSync(onDisk).sort()).toEqual(['2.tar', '3.bin']);

    // The runner's restore: the plan names the latest, which it fetches.
    const again = await (
      await fetch(`${s.url}/api/runner/jobs/${a.id}/checkpoints`, {
        headers: { Authorization: `Bearer ${tokenA}` }
      })
    ).json();
    expect(again.latest).toMatchObject({ seq: 3, name: 'model.pt' });
    const bytes = await fetch(
      `${s.url}/api/runner/jobs/${a.id}/checkpoints/3`,
      {
        headers: { Authorization: `Bearer ${tokenA}` }
      }
    );
    expect(await bytes.text()).toBe('three');
  });

  test('over limits.checkpoint_bytes: 413 saying what to do, declared or streamed; nothing kept', async () => {
    const before = await listed(a.id);
    const big = Buffer.alloc(LIMIT + 1, 1);
    for (const chunked of [false, true]) {
      const res = await save(tokenA, a.id, 'big.bin', 'file', big, chunked);
      expect([res.status, res.body.error?.code]).toEqual([
        413,
        'checkpoint_too_large'
      ]);
      expect(res.body.error?.message).toMatch(
        /limits\.checkpoint_bytes = 65536 bytes/
      );
      expect(res.body.error?.message).toMatch(/state_dict/);
    }
    expect(await listed(a.id)).toEqual(before);
    expect(fs.readdirSync(path.join(s.dir, 'files', 'tmp'))).toEqual([]);
  });

  test('bad uploads are refused with what is wrong', async () => {
    const wrongType = await send(
      s.url,
      `/api/runner/jobs/${a.id}/checkpoints?name=m.pt&kind=file`,
      tokenA,
      'application/x-tar',
      Buffer.from('x')
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error?.message).toMatch(/application\/octet-stream/);
    const badName = await save(tokenA, a.id, '../x', 'file', Buffer.from('x'));
    expect([badName.status, badName.body.error?.code]).toEqual([
      400,
      'invalid_request'
    ]);
    const notTar = await save(
      tokenA,
      a.id,
      'state',
      'folder',
      Buffer.alloc(2048, 65)
    );
    expect([notTar.status, notTar.body.error?.code]).toEqual([
      400,
      'invalid_checkpoint'
    ]);
  });

  test("another job's token is refused on every checkpoint route of this job", async () => {
    const routes = [
      ['GET', `/api/runner/jobs/${a.id}/checkpoints`],
      ['GET', `/api/runner/jobs/${a.id}/checkpoints/3`]
    ];
    for (const [method, route] of routes) {
      const res = await fetch(`${s.url}${route}`, {
        method,
        headers: { Authorization: `Bearer ${tokenB}` }
      });
      expect([route, res.status]).toEqual([route, 401]);
    }
    const put = await save(tokenB, a.id, 'evil.pt', 'file', Buffer.from('x'));
    expect(put.status).toBe(401);
    // A user token is not a job token either.
    expect(
      (await save(s.token, a.id, 'x.pt', 'file', Buffer.from('x'))).status
    ).toBe(401);
    expect((await listed(a.id)).map(c => c.seq)).toEqual([3, 2]);
    expect(await listed(b.id)).toEqual([]);
  });

  test('the owner lists and downloads them, also with the CLI; another user gets 404', async () => {
    const file = await fetch(`${s.url}/api/jobs/${a.id}/checkpoints/3`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(await file.text()).toBe('three');
    const folder = await fetch(`${s.url}/api/jobs/${a.id}/checkpoints/2`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(folder.headers.get('content-type')).toBe('application/x-tar');
    const gone = await s.api<Answer['body']>(
      'GET',
      `/api/jobs/${a.id}/checkpoints/1`
    );
    expect([gone.status, gone.body.error?.code]).toEqual([
      404,
      'unknown_checkpoint'
    ]);

    for (const route of [
      `/api/jobs/${a.id}/checkpoints/3`,
      `/api/jobs/${a.id}/files`
    ]) {
      const bob = await s.api<Answer['body']>('GET', route, undefined, BOB);
      expect([route, bob.status, bob.body.error?.code]).toEqual([
        route,
        404,
        'unknown_job'
      ]);
    }

    const env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    const human = await cli(['files', a.id], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/checkpoint\s+3\s+model\.pt\s/);
    expect(human.stdout).toMatch(/checkpoint\s+2\s+state\/\s/);
    const dest = tmpDir('nbq-ckpt-saved-');
    const saved = await cli(
      ['files', a.id, '--checkpoint', '2', '-o', dest],
      env
    );
    expect(saved.stderr).toBe('');
    expect(fs.readFileSync(path.join(dest, 'state', 'step.txt'), 'utf8')).toBe(
      '3'
    );
    expect(fs.statSync(path.join(dest, 'state', 'sub', 'w.bin')).size).toBe(
      5000
    );
    const latest = await cli(
      ['files', a.id, '--checkpoint', 'latest', '-o', dest],
      env
    );
    expect(latest.code).toBe(0);
    expect(fs.readFileSync(path.join(dest, 'model.pt'), 'utf8')).toBe('three');
    const bobs = await cli(['files', a.id], {
      NBQUEUE_URL: s.url,
      NBQUEUE_TOKEN: BOB
    });
    expect(bobs.code).not.toBe(0);
  }, 60000);
});

test("a job's checkpoints are deleted with its files", () => {
  const dir = tmpDir('nbq-files-');
  const files = new FileStore(path.join(dir, 'db.sqlite'), dir);
  for (const text of ['a', 'b']) {
    const tmp = files.tempPath();
    fs.writeFileSync(tmp, text);
    files.checkpoints.add(
      'j-1',
      tmp,
      { name: 'm.pt', kind: 'file', bytes: 1, files: 1 },
      2
    );
  }
  expect(files.checkpoints.list('j-1').map(c => c.seq)).toEqual([2, 1]);
  files.deleteJob('j-1');
  expect(files.checkpoints.list('j-1')).toEqual([]);
  expect(fs.existsSync(path.join(dir, 'checkpoints', 'j-1'))).toBe(false);
  files.close();
});
