import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { JobView } from '../src/jobs/types';
import {
  cli,
  makeNotebooks,
  PYTHON,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const CLI_BIN = path.join(__dirname, '..', 'bin', 'nbqueue.js');
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('nbqueue submit: a notebook as it is on disk', () => {
  let s: TestSidecar;
  let dir: string;
  beforeAll(async () => {
    expect(
      fs.existsSync(path.join(__dirname, '..', 'dist', 'cli', 'main.js'))
    ).toBe(true);
    dir = makeNotebooks('--big', 'big.ipynb', '200');
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
  }, 120000);
  afterAll(() => s.close());

  test('200 MB of outputs: the CLI leaves them out, the job is accepted and runs', async () => {
    const file = path.join(dir, 'big.ipynb');
    expect(fs.statSync(file).size).toBeGreaterThan(200 * 1024 * 1024);
    const started = Date.now();
    const r = await cli(['submit', file, '--json'], {
      NBQUEUE_URL: s.url,
      NBQUEUE_TOKEN: s.token
    });
    const seconds = (Date.now() - started) / 1000;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as JobView;
    process.stdout.write(`nbqueue submit of a 200 MB notebook: ${seconds} s\n`);
    const stored = s.store.getNotebook(job.id) as Json;
    expect(stored.cells[0].outputs).toEqual([]);
    const end = await waitFor(
      async () => {
        const j = (await s.api<JobView>('GET', `/api/jobs/${job.id}`)).body;
        return j.state === 'succeeded' || j.state === 'failed' ? j : null;
      },
      'the job to end',
      120000,
      200
    );
    expect(end.state).toBe('succeeded');
    const result = (await s.api<Json>('GET', `/api/jobs/${job.id}/result`))
      .body;
    expect(result.cells[0].outputs[0].text).toBe('product 42\nsecond line\n');
  }, 180000);
});

/** Starts `nbqueue serve`; resolves when it serves or exits, with what it said. */
function serve(
  config: Json,
  dir: string
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = path.join(dir, `config-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(config));
  const env = { ...process.env };
  delete env.PYTHONPATH;
  delete env.NBQUEUE_CONFIG;
  const child = spawn(
    process.execPath,
    [
      CLI_BIN,
      'serve',
      '--config',
      file,
      '--port',
      '0',
      '--db',
      path.join(dir, 'nbqueue.db'),
      '--state-file',
      path.join(dir, 'server.json')
    ],
    { env }
  );
  let stdout = '';
  let stderr = '';
  return new Promise(resolve => {
    child.stdout.on('data', d => {
      stdout += d;
      if (stdout.includes('serving at')) child.kill('SIGTERM');
    });
    child.stderr.on('data', d => (stderr += d));
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
}

describe('nbqueue serve: preflight of the local backend Python', () => {
  let dir: string;
  let bare: string;
  beforeAll(() => {
    dir = tmpDir();
    // A Python without nbqueue: a fresh venv of the system interpreter.
    execFileSync('python3', [
      '-m',
      'venv',
      '--without-pip',
      path.join(dir, 'bare')
    ]);
    bare = path.join(dir, 'bare', 'bin', 'python');
  }, 60000);

  const local = (python: string, environment: string) => ({
    backend: { type: 'local', local: { python, environment } },
    auth: { token: 'test-token-0123456789abcdef' }
  });

  test('kernel mode: a loud warning naming the interpreter and the fix, and it serves', async () => {
    const r = await serve(local(bare, 'kernel'), dir);
    expect(r.stdout).toMatch(/serving at/);
    expect(r.stderr).toContain(
      `nbqueue: WARNING: backend.local.python '${bare}' (${bare}) cannot import nbqueue.runner`
    );
    expect(r.stderr).toContain(`${bare} -m pip install nbqueue`);
    expect(r.stderr).toMatch(/or set backend.local.python/);
  }, 60000);

  test('restore mode: it refuses to start, saying why', async () => {
    const r = await serve(local(bare, 'restore'), dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^nbqueue: not starting: backend.local.python .* cannot import nbqueue.runner .* In restore mode every job's runner starts on it\./
    );
  }, 60000);

  test('an interpreter that does not exist is named', async () => {
    const r = await serve(
      local(path.join(dir, 'no-such-python'), 'restore'),
      dir
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /no-such-python' cannot be started \(spawn .* ENOENT\)/
    );
  }, 60000);

  test('a Python with nbqueue: no warning', async () => {
    const r = await serve(local(PYTHON, 'kernel'), dir);
    expect(r.stdout).toMatch(/serving at/);
    expect(r.stderr).toBe('');
  }, 60000);
});
