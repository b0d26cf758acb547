import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tar from 'tar';
import type { JobView } from '../src/jobs/types';
import {
  PYTHON,
  REPO,
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor,
  cli
} from './helpers';

const BOB = 'bob-token-0123456789abcdef';

/** The notebook's directory as a bundle, built by the runner package's own code. */
function bundle(dir: string, maxBytes = 100 * 1024 * 1024): Buffer {
  const out = path.join(tmpDir('nbq-bundle-'), 'b.tar.gz');
  execFileSync(
    PYTHON,
    [
      '-c',
      `import sys
from nbqueue.files import build_manifest, write_bundle
m = build_manifest(sys.argv[1], int(sys.argv[3]))
assert not m.over_cap, m.problem()
with open(sys.argv[2], "wb") as f:
    write_bundle(m.root, [p for p, _ in m.files], f)`,
      dir,
      out,
      String(maxBytes)
    ],
    { env: { ...process.env, PYTHONPATH: path.join(REPO, 'runner-image') } }
  );
  return fs.readFileSync(out);
}

async function upload(
  s: TestSidecar,
  body: Buffer,
  token: string = s.token,
  route = '/api/files/bundles',
  method = 'POST'
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/gzip'
    },
    body: new Uint8Array(body)
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>
  };
}

async function finished(s: TestSidecar, id: string): Promise<JobView> {
  return waitFor(
    async () => {
      const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
      return ['succeeded', 'failed', 'cancelled'].includes(job.state)
        ? job
        : null;
    },
    `job ${id} to end`,
    90000
  );
}

async function outputText(s: TestSidecar, id: string): Promise<string> {
  const { body } = await s.api<{ events: Record<string, unknown>[] }>(
    'GET',
    `/api/jobs/${id}/events`
  );
  // Log lines carry `message`; outputs carry nbformat outputs (stream text).
  return body.events
    .map(e => {
      const output = (e.output ?? {}) as { text?: unknown };
      return `${String(e.message ?? '')}${String(output.text ?? '')}\n`;
    })
    .join('');
}

describe('working files travel with the job (real sidecar, real runner)', () => {
  let s: TestSidecar;
  let project: string;
  beforeAll(async () => {
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }],
      auth: { users: [{ token: BOB, user: 'bob' }] },
      files: { max_output_bytes: 64 * 1024 }
    });
    project = tmpDir('nbq-project-');
    fs.writeFileSync(path.join(project, 'data.csv'), 'x,y\n1,2\n3,4\n');
    fs.mkdirSync(path.join(project, 'raw'));
    fs.writeFileSync(path.join(project, 'raw', 'huge.bin'), 'not sent');
    fs.mkdirSync(path.join(project, '__pycache__'));
    fs.writeFileSync(path.join(project, '__pycache__', 'x.pyc'), 'cache');
    fs.writeFileSync(path.join(project, '.nbqueueignore'), 'raw/\n');
    fs.writeFileSync(path.join(project, 'train.ipynb'), '{}');
  }, 60000);
  afterAll(() => s.close());

  let jobId = '';

  test('the input file is there, the outputs come back, the CLI saves them', async () => {
    const up = await upload(s, bundle(project));
    expect(up.status).toBe(201);
    expect(up.body.files).toBe(3); // .nbqueueignore, data.csv, train.ipynb
    const submitted = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook_path: 'proj/train.ipynb',
      input_bundle: up.body.id,
      notebook: notebook([
        code(
          [
            'import os, csv',
            'rows = list(csv.reader(open("data.csv")))',
            'print("rows", len(rows), "raw there:", os.path.exists("raw"), "cache there:", os.path.exists("__pycache__"))',
            'os.makedirs("out", exist_ok=True)',
            'with open("out/result.csv", "w") as f: f.write("total\\n%d\\n" % sum(int(r[0]) for r in rows[1:]))',
            'with open("model.ckpt", "wb") as f: f.write(os.urandom(2048))',
            'with open("too-big.bin", "wb") as f: f.write(os.urandom(100 * 1024))',
            'with open("train.ipynb", "w") as f: f.write("changed")'
          ].join('\n')
        )
      ])
    });
    expect(submitted.status).toBe(201);
    jobId = submitted.body.id;
    const job = await finished(s, jobId);
    const text = await outputText(s, jobId);
    expect(job.state).toBe('succeeded');
    expect(text).toContain('rows 3 raw there: False cache there: False');
    expect(text).toMatch(/Unpacked 3 file\(s\)/);

    const listing = (
      await s.api<{
        input: { files: { path: string }[] };
        output: {
          files: { path: string; size: number }[];
          left_out: { path: string; size: number; reason: string }[];
        };
      }>('GET', `/api/jobs/${jobId}/files`)
    ).body;
    expect(listing.input.files.map(f => f.path)).toEqual([
      '.nbqueueignore',
      'data.csv',
      'train.ipynb'
    ]);
    // Only what the run wrote; never the job's own notebook; the cap leaves out the big one.
    expect(listing.output.files).toEqual([
      { path: 'model.ckpt', size: 2048 },
      { path: 'out/result.csv', size: 8 }
    ]);
    expect(listing.output.left_out).toEqual([
      {
        path: 'too-big.bin',
        size: 100 * 1024,
        reason: "over the 64.0 KB limit for a job's output files"
      }
    ]);
    expect(text).toContain('left out: too-big.bin');

    const dest = tmpDir('nbq-saved-');
    const env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    const saved = await cli(['files', jobId, '-o', dest], env);
    expect(saved.stderr).toBe('');
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(`wrote ${path.join(dest, 'model.ckpt')}`);
    expect(saved.stdout).toContain('left out too-big.bin');
    expect(fs.readFileSync(path.join(dest, 'out', 'result.csv'), 'utf8')).toBe(
      'total\n4\n'
    );
    expect(fs.statSync(path.join(dest, 'model.ckpt')).size).toBe(2048);
    expect(fs.existsSync(path.join(dest, 'train.ipynb'))).toBe(false);

    const listed = await cli(['files', jobId, '--json'], env);
    expect(listed.code).toBe(0);
    const json = JSON.parse(listed.stdout) as {
      output: { files: { path: string }[] };
    };
    expect(json.output.files.map(f => f.path)).toEqual([
      'model.ckpt',
      'out/result.csv'
    ]);
    const human = await cli(['files', jobId], env);
    expect(human.stdout).toMatch(/model\.ckpt\s+2\.0 KB/);
  }, 120000);

  test("another user's files answer 404, their bundle cannot be used", async () => {
    expect(jobId).not.toBe('');
    const other = await s.api(
      'GET',
      `/api/jobs/${jobId}/files`,
      undefined,
      BOB
    );
    expect(other.status).toBe(404);
    const archive = await s.api(
      'GET',
      `/api/jobs/${jobId}/files/output`,
      undefined,
      BOB
    );
    expect(archive.status).toBe(404);
    expect((archive.body as { error: { code: string } }).error.code).toBe(
      'unknown_job'
    );
    const mine = await fetch(`${s.url}/api/jobs/${jobId}/files/output`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('application/gzip');

    const up = await upload(s, bundle(project));
    const stolen = await s.api(
      'POST',
      '/api/jobs',
      {
        profile: 'cpu',
        input_bundle: up.body.id,
        notebook: notebook([code('pass')])
      },
      BOB
    );
    expect(stolen.status).toBe(400);
    expect((stolen.body as { error: { code: string } }).error.code).toBe(
      'unknown_bundle'
    );
  }, 60000);

  test('the runner routes need the job token', async () => {
    const res = await fetch(`${s.url}/api/runner/jobs/${jobId}/files/input`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(res.status).toBe(401);
    const put = await upload(
      s,
      Buffer.from('x'),
      'wrong',
      `/api/runner/jobs/${jobId}/files/output`,
      'PUT'
    );
    expect(put.status).toBe(401);
  });

  test('a rerun gets the same input files', async () => {
    const rerun = await s.api<JobView>('POST', `/api/jobs/${jobId}/rerun`, {});
    expect(rerun.status).toBe(201);
    await finished(s, rerun.body.id);
    expect(await outputText(s, rerun.body.id)).toContain('rows 3');
  }, 90000);
});

describe('working-file limits', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({ files: { max_input_bytes: 4000 } });
  });
  afterAll(() => s.close());

  test('an upload over the cap is refused with 413 and what to do', async () => {
    const dir = tmpDir('nbq-big-');
    fs.writeFileSync(path.join(dir, 'weights.bin'), randomBytes(50 * 1024));
    const res = await upload(s, bundle(dir));
    expect(res.status).toBe(413);
    const error = (res.body as { error: { code: string; message: string } })
      .error;
    expect(error.code).toBe('files_too_large');
    expect(error.message).toContain('.nbqueueignore');
  });

  test('a declared Content-Length over the cap is refused before reading', async () => {
    const res = await upload(s, randomBytes(1024 * 1024 + 8000));
    expect(res.status).toBe(413);
  });

  test('files that unpack past the cap are refused (a small archive, big files)', async () => {
    const dir = tmpDir('nbq-zeros-');
    fs.writeFileSync(path.join(dir, 'zeros.bin'), Buffer.alloc(200 * 1024));
    const body = bundle(dir);
    expect(body.length).toBeLessThan(4000);
    const res = await upload(s, body);
    expect(res.status).toBe(413);
  });

  test('not an archive, or an archive with a link: 400 invalid_bundle', async () => {
    const garbage = await upload(s, Buffer.from('not a tar file at all'));
    expect(garbage.status).toBe(400);
    expect((garbage.body as { error: { code: string } }).error.code).toBe(
      'invalid_bundle'
    );
    const dir = tmpDir('nbq-evil-');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'link'));
    const file = path.join(tmpDir('nbq-evil-out-'), 'evil.tgz');
    await tar.c({ gzip: true, file, cwd: dir }, ['a.txt', 'link']);
    const link = await upload(s, fs.readFileSync(file));
    expect(link.status).toBe(400);
    expect(
      (link.body as { error: { message: string } }).error.message
    ).toContain('SymbolicLink');
  });

  test('an unknown bundle id is refused at submit', async () => {
    const res = await s.api('POST', '/api/jobs', {
      profile: 'cpu',
      input_bundle: 'b-0000000000000000',
      notebook: notebook([code('pass')])
    });
    expect(res.status).toBe(400);
  });
});
