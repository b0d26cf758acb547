import { execFileSync } from 'child_process';
import * as path from 'path';

import { parseConfig } from '../src/config/load';
import { environmentWithin } from '../src/api/contract/schemas';
import { parse } from '../src/api/validate';
import { ApiError } from '../src/errors';
import { runnerEnvironment } from '../src/jobs/environment';
import type { JobEvent, JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  PYTHON,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

const profiles = [
  { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }
];

/** A submitted environment as the contract checks it (limits.max_environment_bytes: `maxBytes`). */
const checked = (value: unknown, maxBytes: number) =>
  parse(environmentWithin(maxBytes), value);

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('the captured environment in a submit', () => {
  const valid = {
    kernel: 'python3',
    python: { version: '3.11.9', executable: '/usr/bin/python3', extra: 'x' },
    packages: [
      { name: 'six', version: '1.16.0' },
      {
        name: 'mylib',
        version: '0.1',
        editable: true,
        url: 'file:///home/a/mylib'
      }
    ],
    conda_env: null,
    cwd: '/home/a',
    git: { root: '/home/a', commit: 'abc', branch: null, dirty: true },
    unknown: 'dropped'
  };

  test('keeps the documented fields only', () => {
    expect(checked(valid, 1 << 20)).toEqual({
      kernel: 'python3',
      python: { version: '3.11.9', executable: '/usr/bin/python3' },
      packages: valid.packages,
      conda_env: null,
      cwd: '/home/a',
      git: {
        root: '/home/a',
        remote: null,
        commit: 'abc',
        branch: null,
        dirty: true
      }
    });
    expect(checked(undefined, 1)).toBeNull();
    expect(checked(null, 1)).toBeNull();
  });

  test.each([
    [[], '"environment" must be an object'],
    [{ packages: [] }, '"python" must be an object'],
    [{ python: { version: 'latest' }, packages: [] }, 'is not a version'],
    [{ python: { version: '3.11' }, packages: 'six' }, 'must be a list'],
    [
      { python: { version: '3.11' }, packages: [{ name: 'six' }] },
      'packages[0].version is missing'
    ],
    [
      {
        python: { version: '3.11' },
        packages: [],
        git: { root: '/', dirty: 'y' }
      },
      'git.dirty must be true or false'
    ]
  ])('refuses %j', (value, what) => {
    const err = refusal(() => checked(value, 1 << 20));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_environment');
    expect(err.message).toContain(what);
    expect(err.message).toMatch(
      /^The captured environment is not valid: .+\. Submit again from JupyterLab, or leave "environment" out\.$/
    );
  });

  test('refuses one over limits.max_environment_bytes, naming the setting', () => {
    const err = refusal(() => checked(valid, 100));
    expect(err.code).toBe('invalid_environment');
    expect(err.message).toMatch(
      /^The captured environment is \d+ bytes; at most 100 are accepted \(limits\.max_environment_bytes\)\.$/
    );
  });

  test('the runner is told the mode of the configured backend and the restore settings', () => {
    const local = parseConfig({ profiles });
    expect(runnerEnvironment(local, null)).toEqual({
      mode: 'kernel',
      captured: null,
      restore: {
        installer: 'auto',
        on_unavailable: 'fail',
        extra_index_urls: [],
        exclude: [],
        lock_timeout_seconds: 3600
      }
    });
    const restoring = parseConfig({
      profiles,
      backend: { local: { environment: 'restore' } },
      restore: { cache_dir: '/cache', on_unavailable: 'skip' }
    });
    const told = runnerEnvironment(restoring, checked(valid, 1 << 20));
    expect(told.mode).toBe('restore');
    expect(told.captured?.packages).toHaveLength(2);
    expect(told.restore.cache_dir).toBe('/cache');
    expect(told.restore.on_unavailable).toBe('skip');
  });

  test('a wrong setting stops the configuration, naming the field', () => {
    expect(() =>
      parseConfig({ profiles, backend: { local: { environment: 'conda' } } })
    ).toThrow(/backend\.local\.environment/);
    expect(() =>
      parseConfig({ profiles, restore: { installer: 'poetry' } })
    ).toThrow(/restore\.installer/);
  });
});

/** Real sidecar, real runner in restore mode, real PyPI, real kernel in the restored venv. */
describe('a job in restore mode', () => {
  let s: TestSidecar;
  const cache = path.join(tmpDir('nbq-envs-'), 'envs');
  const version = execFileSync(
    PYTHON,
    ['-c', 'import platform; print(platform.python_version())'],
    {
      encoding: 'utf8'
    }
  ).trim();

  beforeAll(async () => {
    s = await startTestSidecar({
      profiles,
      backend: { local: { environment: 'restore' } },
      restore: { cache_dir: cache }
    } as never);
  });
  afterAll(() => s.close());

  test('runs its kernel in the restored virtualenv', async () => {
    const submitted = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook([
        code(
          'import six, sys\nprint(six.__version__)\nprint(sys.executable)\nprint(six.__file__)'
        )
      ]),
      // In restore mode the kernel's own interpreter is not used, even if it exists.
      kernel: { name: 'python3', python: '/nonexistent/bin/python' },
      environment: {
        kernel: 'python3',
        python: { version, executable: '/nonexistent/bin/python' },
        packages: [
          { name: 'six', version: '1.16.0' },
          { name: 'nbqueue', version: '0.1.0' }
        ],
        conda_env: null,
        cwd: null,
        git: null
      }
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    const job = await waitFor(
      async () => {
        const view = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(view.state)
          ? view
          : undefined;
      },
      'the job to end',
      240000
    );
    expect(job.state).toBe('succeeded');

    const result = (
      await s.api<{
        cells: Array<{ outputs: Array<{ text?: string }> }>;
        metadata: { nbqueue: { environment: { installed: string[] } } };
      }>('GET', `/api/jobs/${id}/result`)
    ).body;
    const [six, python, module] = result.cells[0].outputs
      .map(o => o.text ?? '')
      .join('')
      .split('\n');
    expect(six).toBe('1.16.0');
    // The job's own venv over the cached one, which the module comes from.
    expect(python).toMatch(/nbqueue-job-env-.*\/bin\/python$/);
    expect(module.startsWith(cache)).toBe(true);
    expect(result.metadata.nbqueue.environment.installed).toEqual([
      'six==1.16.0'
    ]);

    const events = (
      await s.api<{ events: JobEvent[] }>('GET', `/api/jobs/${id}/events`)
    ).body.events;
    const logs = events
      .filter(e => e.type === 'log')
      .map(e => String(e.message));
    expect(
      logs.some(m =>
        m.startsWith('Restoring environment: installing 1 package')
      )
    ).toBe(true);
  }, 300000);
});
