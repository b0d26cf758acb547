import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import type { Kernel, KernelMessage } from '@jupyterlab/services';

import { CAPTURE_EXPRESSION, CAPTURE_SOURCE } from '../submit/captureSource';
import {
  checkEnvironment,
  ICapturedEnvironment,
  IKernelEnvironment,
  parseUserExpression
} from '../submit/environment';
import { EnvironmentProbe } from '../submit/EnvironmentSection';
import {
  environmentDetails,
  environmentSummary,
  isLocal,
  packageLabel
} from '../submit/envSummary';

/** The repository's dev Python when there is one (make install), else python3. */
function python(): string {
  const venv = path.resolve(__dirname, '../../../.venv/bin/python');
  return fs.existsSync(venv) ? venv : 'python3';
}

function reply(text: string): KernelMessage.IExecuteReplyMsg['content'] {
  return {
    status: 'ok',
    execution_count: 1,
    user_expressions: {
      nbqueue_env: { status: 'ok', data: { 'text/plain': text }, metadata: {} }
    }
  } as KernelMessage.IExecuteReplyMsg['content'];
}

function environment(
  change: Partial<ICapturedEnvironment> = {}
): ICapturedEnvironment {
  return {
    kernel: 'python3',
    python: {
      version: '3.11.9',
      implementation: 'CPython',
      executable: '/opt/conda/envs/ml/bin/python',
      platform: 'linux',
      machine: 'x86_64'
    },
    packages: Array.from({ length: 142 }, (_, i) => ({
      name: `pkg${i}`,
      version: '1.0'
    })),
    conda_env: null,
    cwd: '/home/ada/project',
    git: {
      root: '/home/ada/project',
      remote: 'https://example.com/team/project.git',
      commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      branch: 'main',
      dirty: true
    },
    ...change
  };
}

describe('capture expression', () => {
  it('runs in Python and parses back into the environment', () => {
    // What the kernel does with a user_expressions entry: eval, then repr.
    const text = execFileSync(
      python(),
      ['-c', 'import sys; print(repr(eval(sys.stdin.read())))'],
      { input: CAPTURE_EXPRESSION, encoding: 'utf8' }
    ).trim();
    const env = parseUserExpression(reply(text), 'python3');
    expect(env.kernel).toBe('python3');
    expect(env.python.version).toMatch(/^3\.\d+\.\d+/);
    expect(env.packages.length).toBeGreaterThan(0);
    for (const p of env.packages) {
      expect(typeof p.name).toBe('string');
      expect(typeof p.version).toBe('string');
    }
    expect(env.cwd).toBe(process.cwd());
  });

  it('keeps its code in a namespace of its own', () => {
    expect(CAPTURE_EXPRESSION.startsWith('__import__("json").dumps(')).toBe(
      true
    );
    expect(CAPTURE_EXPRESSION).toContain(
      `(lambda ns: (exec(${JSON.stringify(CAPTURE_SOURCE)}, ns), ns["result"])[1])({})`
    );
  });
});

describe('parsing the reply', () => {
  it('reads a repr with quotes and backslashes and adds the kernel name', () => {
    // Python's repr of json.dumps({...}) where a path has ' and \
    const repr = String.raw`'{"python": {"version": "3.12.1", "executable": "C:\\\\Python\\\\python.exe"}, "packages": [{"name": "mylib", "version": "0.1", "editable": true, "url": "file:///home/o\'brien/mylib"}], "conda_env": "ml", "cwd": "/home/o\'brien", "git": null}'`;
    const env = parseUserExpression(reply(repr), 'py312');
    expect(env).toEqual({
      kernel: 'py312',
      python: { version: '3.12.1', executable: 'C:\\Python\\python.exe' },
      packages: [
        {
          name: 'mylib',
          version: '0.1',
          editable: true,
          url: "file:///home/o'brien/mylib"
        }
      ],
      conda_env: 'ml',
      cwd: "/home/o'brien",
      git: null
    });
  });

  it.each([
    [{}, 'no python version'],
    [{ python: { version: '3.11', executable: 'p' } }, 'no working directory'],
    [
      { python: { version: '3.11', executable: 'p' }, cwd: '/' },
      'no package list'
    ],
    [
      {
        python: { version: '3.11', executable: 'p' },
        cwd: '/',
        packages: [{ name: 'six' }]
      },
      'a package without name or version'
    ]
  ])('refuses %j: %s', (value, what) => {
    expect(() => checkEnvironment(value, 'python3')).toThrow(
      `the kernel reported an unexpected environment (${what})`
    );
  });

  it('says when the kernel answered with an error', () => {
    expect(() =>
      parseUserExpression(
        {
          status: 'error',
          execution_count: 1
        } as unknown as KernelMessage.IExecuteReplyMsg['content'],
        'python3'
      )
    ).toThrow('the kernel answered error');
  });
});

describe('summary', () => {
  it('is one line: Python, packages, git', () => {
    expect(environmentSummary(environment())).toBe(
      'Python 3.11 · 142 packages · git a1b2c3d, uncommitted changes'
    );
  });

  it('counts one package, names conda and local installs, clean git', () => {
    const env = environment({
      packages: [
        {
          name: 'mylib',
          version: '0.1',
          editable: true,
          url: 'file:///home/ada/mylib'
        }
      ],
      conda_env: 'ml',
      git: { ...environment().git!, dirty: false }
    });
    expect(environmentSummary(env)).toBe(
      'Python 3.11 · 1 package · conda ml · 1 local · git a1b2c3d'
    );
    expect(environmentSummary({ ...env, git: null })).toBe(
      'Python 3.11 · 1 package · conda ml · 1 local'
    );
  });

  it('labels packages by where they came from', () => {
    expect(packageLabel({ name: 'six', version: '1.16.0' })).toBe('six 1.16.0');
    expect(
      packageLabel({
        name: 'mylib',
        version: '0.1',
        editable: true,
        url: 'file:///home/ada/my%20lib'
      })
    ).toBe('mylib 0.1 (editable, /home/ada/my lib)');
    expect(
      packageLabel({
        name: 'vcslib',
        version: '1.0',
        url: 'https://github.com/o/vcslib',
        vcs: 'git',
        commit: 'abc1234567'
      })
    ).toBe('vcslib 1.0 (git https://github.com/o/vcslib@abc1234)');
    expect(
      packageLabel({ name: 'w', version: '2', url: 'file:///tmp/w.whl' })
    ).toBe('w 2 (local: /tmp/w.whl)');
    expect(isLocal({ name: 'w', version: '2', url: 'file:///tmp/w.whl' })).toBe(
      true
    );
    expect(
      isLocal({
        name: 'v',
        version: '1',
        url: 'file:///src/v',
        vcs: 'git',
        commit: 'a'
      })
    ).toBe(false);
  });

  it('details the kernel, interpreter, git and sorted packages', () => {
    const env = environment({
      packages: [
        { name: 'Zeta', version: '1' },
        { name: 'alpha', version: '2' }
      ]
    });
    const { rows, packages } = environmentDetails(env);
    expect(rows).toEqual([
      ['Kernel', 'python3'],
      ['Python', '3.11.9 (CPython) /opt/conda/envs/ml/bin/python'],
      ['Platform', 'linux x86_64'],
      ['Working directory', '/home/ada/project'],
      ['Git', 'a1b2c3d4e5f6, on main, uncommitted changes'],
      ['Repository', '/home/ada/project (https://example.com/team/project.git)']
    ]);
    expect(packages).toEqual(['alpha 2', 'Zeta 1']);
  });
});

describe('EnvironmentProbe', () => {
  const kernel = {} as Kernel.IKernelConnection;
  const captured: IKernelEnvironment = {
    name: 'python3',
    python: '/usr/bin/python3',
    cwd: '/tmp',
    environment: environment()
  };

  it('says there is no kernel, and captures once one is started', async () => {
    const session: {
      session: { kernel: Kernel.IKernelConnection | null } | null;
      startKernel: () => Promise<boolean>;
    } = {
      session: null,
      startKernel: async () => {
        session.session = { kernel };
        return false;
      }
    };
    const seen: string[] = [];
    const probe = new EnvironmentProbe(session as never, async k => {
      expect(k).toBe(kernel);
      return captured;
    });
    probe.changed.connect(() => seen.push(probe.state.status));
    expect((await probe.capture()).status).toBe('no-kernel');
    const state = await probe.startKernel();
    expect(state).toEqual({ status: 'captured', env: captured });
    expect(seen).toEqual(['no-kernel', 'starting', 'capturing', 'captured']);
  });

  it('reports a failed capture and waits for one in progress', async () => {
    let fail: (error: Error) => void = () => undefined;
    const probe = new EnvironmentProbe(
      { session: { kernel }, startKernel: async () => false } as never,
      () =>
        new Promise((_, reject) => {
          fail = reject;
        })
    );
    void probe.capture();
    expect(probe.state.status).toBe('capturing');
    const settled = probe.settled();
    fail(new Error('the kernel did not answer within 10 s (is it busy?)'));
    expect(await settled).toEqual({
      status: 'failed',
      error: 'the kernel did not answer within 10 s (is it busy?)'
    });
  });

  it('asks the user to choose a kernel when none is preferred', async () => {
    const probe = new EnvironmentProbe(
      { session: null, startKernel: async () => true } as never,
      async () => captured
    );
    const state = await probe.startKernel();
    expect(state.status).toBe('failed');
    expect(state.status === 'failed' && state.error).toMatch(/choose a kernel/);
  });
});
