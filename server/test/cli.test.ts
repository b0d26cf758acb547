import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir
} from './helpers';

const BIN = path.join(__dirname, '..', 'bin', 'nbqueue.js');

function cli(
  args: string[],
  env: Record<string, string>
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env }
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.on('close', code => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('nbqueue CLI against a real sidecar', () => {
  let s: TestSidecar;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    expect(
      fs.existsSync(path.join(__dirname, '..', 'dist', 'cli', 'main.js'))
    ).toBe(true);
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
    env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    dir = tmpDir();
  });
  afterAll(() => s.close());

  const write = (name: string, cells: Record<string, unknown>[]): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(notebook(cells)));
    return file;
  };

  test('submit --follow prints outputs as they arrive and exits 0 on success', async () => {
    const file = write('ok.ipynb', [
      code('steps = 1', { metadata: { tags: ['parameters'] } }),
      code('for i in range(steps): print("step", i)')
    ]);
    const r = await cli(
      ['submit', file, '--profile', 'cpu', '-p', 'steps=3', '--follow'],
      env
    );
    expect(r.stdout).toBe('step 0\nstep 1\nstep 2\n');
    expect(r.stderr).toMatch(/succeeded/);
    expect(r.code).toBe(0);
  });

  test('submit --follow exits non-zero with the reason when the job fails', async () => {
    const file = write('bad.ipynb', [
      code('raise ValueError("bad input data")')
    ]);
    const r = await cli(['submit', file, '--follow'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed: .*ValueError: bad input data/);
  });

  test('jobs --json, result -o and cancel', async () => {
    const list = await cli(['jobs', '--json'], env);
    expect(list.code).toBe(0);
    const jobs = JSON.parse(list.stdout) as JobView[];
    const ok = jobs.find(j => j.name.startsWith('ok.ipynb'));
    expect(ok?.state).toBe('succeeded');
    const out = path.join(dir, 'result.ipynb');
    const res = await cli(['result', ok?.id as string, '-o', out], env);
    expect(res.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain('step 2');
    const human = await cli(['jobs'], env);
    expect(human.stdout).toMatch(/^ID\s+NAME\s+PROFILE/);
    const cancel = await cli(['cancel', ok?.id as string], env);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/already ended succeeded/);
  });

  test('bad input is explained: unknown profile, missing file, bad parameter, no sidecar', async () => {
    const file = write('x.ipynb', [code('1')]);
    const profile = await cli(['submit', file, '--profile', 'gpu-3'], env);
    expect(profile.code).toBe(1);
    expect(profile.stderr).toMatch(
      /Profile 'gpu-3' does not exist; choose one of cpu/
    );
    const missing = await cli(['submit', path.join(dir, 'nope.ipynb')], env);
    expect(missing.stderr).toMatch(/Cannot read .*nope\.ipynb as a notebook/);
    const param = await cli(['submit', file, '-p', 'novalue'], env);
    expect(param.code).not.toBe(0);
    expect(param.stderr).toMatch(/"novalue" is not name=value/);
    const none = await cli(['jobs'], {
      NBQUEUE_URL: '',
      NBQUEUE_TOKEN: '',
      NBQUEUE_STATE_FILE: path.join(dir, 'absent.json')
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No nbqueue sidecar found/);
  });
});
