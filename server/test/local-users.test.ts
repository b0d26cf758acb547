import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { parseConfig } from '../src/config/load';
import {
  checkLocalAccounts,
  lookupAccount,
  OsAccount,
  systemUsername
} from '../src/backends/osAccount';
import type { JobView } from '../src/jobs/types';
import { startSidecar } from '../src/server';
import {
  REPO,
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';
import { printed, RUNNER_ENV } from './printed';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';
const CAROL = 'carol-token-0123456789abcdef';
/** The OS accounts of the test users: nbqt-alice, nbqt-bob (carol has none). */
const TEMPLATE = 'nbqt-{username}';
const USERS = { alice: ALICE, bob: BOB, carol: CAROL };

describe('several users on the local backend need their own OS accounts', () => {
  const users = {
    users: Object.entries(USERS).map(([user, token]) => ({ token, user }))
  };

  test('the sidecar refuses to start without backend.local.os_user, saying why and what to set', async () => {
    const dir = tmpDir();
    const tried = startTestSidecar(
      { auth: users, backend: { local: { single_os_user: false } } },
      dir
    );
    await expect(tried).rejects.toThrow(
      /auth\.users names 3 more user\(s\).*any job can read the store.*Set backend\.local\.os_user .*"jupyter-\{username\}".*backend\.local\.single_os_user: true/s
    );
    const hub = startSidecar({
      config: parseConfig({ auth: { mode: 'hub' } }),
      dbPath: path.join(dir, 'hub.db')
    });
    await expect(hub).rejects.toThrow(
      /auth\.mode is hub.*backend\.local\.os_user/s
    );
    // Refused before anything was created.
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('os_user needs a root sidecar; both settings at once are refused', () => {
    const config = parseConfig({
      auth: users,
      backend: { local: { os_user: 'jupyter-{username}' } }
    });
    expect(() => checkLocalAccounts(config, 1000)).toThrow(
      /needs the sidecar to run as root.*uid 1000/
    );
    expect(() => checkLocalAccounts(config, 0)).not.toThrow();
    expect(() =>
      checkLocalAccounts(
        parseConfig({
          backend: {
            local: { os_user: 'jupyter-{username}', single_os_user: true }
          }
        }),
        0
      )
    ).toThrow(/choose one/);
    // The example hub deployment sets it.
    const example = parseConfig(
      YAML.parse(
        fs.readFileSync(
          path.join(REPO, 'deploy', 'jupyterhub', 'nbqueue.yaml'),
          'utf8'
        )
      )
    );
    expect(() => checkLocalAccounts(example, 0)).not.toThrow();
    expect(() => checkLocalAccounts(example, 1000)).toThrow(/root/);
    expect(() =>
      parseConfig({ backend: { local: { os_user: 'jupyter-' } } })
    ).toThrow(/backend\.local\.os_user: must contain \{username\}/);
  });

  test("system user names as The Littlest JupyterHub makes them (tljh/normalize.py's cases)", () => {
    const t = 'jupyter-{username}';
    expect(systemUsername(t, 'test')).toBe('jupyter-test');
    expect(systemUsername(t, 'a b')).toBe('jupyter-a-b');
    expect(systemUsername(t, 'abcdefghijklmnopq')).toBe(
      'jupyter-abcdefghijklmnopq'
    );
    expect(systemUsername(t, 'abcdefghijklmnopqr')).toBe(
      'jupyter-abcdefghijklmnopqr-e375e'
    );
    expect(
      systemUsername(
        t,
        'aelie9sohjeequ9iemeipuimuoshahz4aitugiuteeg4ohioh5yuiha6aei7te5z'
      )
    ).toBe('jupyter-aelie9sohjeequ9iem-4b726');
    expect(systemUsername('{username}', 'alice')).toBe('alice');
  });
});

/**
 * The dev virtualenv's interpreter lives in root's home (pyenv), which other accounts cannot
 * enter: the jobs of the test accounts run on the system Python of the same version, reading
 * the virtualenv's packages (ipykernel, nbclient) and the runner from the checkout.
 */
function sharedPython(): { python: string; pythonPath: string } {
  const cfg = fs.readFileSync(path.join(REPO, '.venv', 'pyvenv.cfg'), 'utf8');
  const [major, minor] = (/^version\s*=\s*(\d+)\.(\d+)/m.exec(cfg) ?? []).slice(
    1
  );
  const version = `${major}.${minor}`;
  const python = [
    `/usr/bin/python${version}`,
    `/usr/local/bin/python${version}`
  ].find(p => fs.existsSync(p));
  if (!python)
    throw new Error(
      `No system Python ${version} (the dev virtualenv's version) for the test accounts: apt-get install python${version}`
    );
  return {
    python,
    pythonPath: [
      path.join(REPO, 'runner-image'),
      path.join(REPO, '.venv', 'lib', `python${version}`, 'site-packages')
    ].join(':')
  };
}

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env, stdio: 'pipe' });
}

/**
 * With several users, each job runs as its owner's OS account (backend.local.os_user), as
 * JupyterHub's LocalProcessSpawner runs their servers: here alice and bob, real accounts made
 * with useradd, real runners. Bob's job cannot read the store, alice's files, her job's log or
 * her runner's environment (its job token); cwd and kernel.python are confined to the owner's
 * home. Needs root, as the sidecar does for this.
 */
const asRoot = process.getuid?.() === 0;
(asRoot ? describe : describe.skip)(
  "each job as its owner's OS account (root)",
  () => {
    let s: TestSidecar;
    let alice: OsAccount;
    let bob: OsAccount;
    const accounts = ['alice', 'bob'].map(u => systemUsername(TEMPLATE, u));

    beforeAll(async () => {
      for (const name of accounts) {
        try {
          sh('userdel', ['-r', '-f', name]);
        } catch {
          /* not there */
        }
        sh('useradd', ['-m', '-s', '/bin/sh', name]);
      }
      [alice, bob] = accounts.map(a => lookupAccount(a) as OsAccount);
      // As many systems make homes: others may enter; what protects files is the umask.
      fs.chmodSync(alice.home, 0o755);
      fs.mkdirSync(path.join(alice.home, 'work'));
      fs.chownSync(path.join(alice.home, 'work'), alice.uid, alice.gid);
      fs.symlinkSync('/tmp', path.join(alice.home, 'elsewhere'));

      const { python, pythonPath } = sharedPython();
      try {
        sh(
          'runuser',
          [
            '-u',
            bob.name,
            '--',
            python,
            '-c',
            'import nbclient, ipykernel, nbqueue.runner'
          ],
          { PATH: process.env.PATH, PYTHONPATH: pythonPath }
        );
      } catch (e) {
        throw new Error(
          `The test account ${bob.name} cannot run the runner (${python}, PYTHONPATH ${pythonPath}): the checkout and its .venv must be readable by other accounts.\n${(e as { stderr?: string }).stderr ?? e}`
        );
      }
      // A parent others may enter: what keeps the data dir's contents private is its own mode.
      const parent = tmpDir('nbq-users-');
      fs.chmodSync(parent, 0o755);
      s = await startTestSidecar(
        {
          auth: {
            users: Object.entries(USERS).map(([user, token]) => ({
              token,
              user
            }))
          },
          backend: {
            local: {
              python,
              os_user: TEMPLATE,
              env: { PYTHONPATH: pythonPath }
            }
          }
        },
        path.join(parent, 'data')
      );
    }, 60000);

    afterAll(async () => {
      await s?.close();
      for (const name of accounts) {
        try {
          sh('userdel', ['-r', '-f', name]);
        } catch {
          /* already gone */
        }
      }
    });

    test("a job runs as its owner's account: uid, gid, HOME, cwd, umask 077, no sidecar secrets", async () => {
      const out = await printed(
        s,
        `import os, pwd, json\nopen('made.txt', 'w').close()\n` +
          `mask = os.umask(0); os.umask(mask)\n` +
          `print(json.dumps([pwd.getpwuid(os.getuid()).pw_name, os.getgid(), os.getgroups(), os.environ['HOME'], os.getcwd(), mask, os.stat('made.txt').st_mode & 0o777]))\n` +
          RUNNER_ENV,
        ALICE,
        { cwd: path.join(alice.home, 'work') }
      );
      const [who, runnerEnv] = out
        .trim()
        .split('\n')
        .map(l => JSON.parse(l));
      expect(who).toEqual([
        alice.name,
        alice.gid,
        expect.not.arrayContaining([0]),
        alice.home,
        path.join(alice.home, 'work'),
        0o077,
        0o600
      ]);
      expect(runnerEnv).toMatchObject({
        HOME: alice.home,
        USER: alice.name,
        LOGNAME: alice.name
      });
      expect(runnerEnv.NBQUEUE_TOKEN).toBeUndefined();
      expect(runnerEnv.JUPYTERHUB_API_TOKEN).toBeUndefined();
      expect(runnerEnv.TMPDIR).toBeUndefined();
    }, 90000);

    test("bob's job cannot read the store, alice's files, her job's log or her runner's environment", async () => {
      const sub = await s.api<JobView>(
        'POST',
        '/api/jobs',
        {
          notebook: notebook([
            code(
              "import os, time\nopen('secret.txt', 'w').write('alice-secret')\nprint('ready', flush=True)\ntime.sleep(120)"
            )
          ]),
          profile: 'cpu'
        },
        ALICE
      );
      expect(sub.status).toBe(201);
      const id = sub.body.id;
      const pid = await waitFor(
        async () => {
          const { body } = await s.api<{
            events: { output?: { text?: string } }[];
          }>('GET', `/api/jobs/${id}/events`, undefined, ALICE);
          const ready = body.events?.some(e =>
            e.output?.text?.includes('ready')
          );
          return ready
            ? (s.store.getJob(id)?.backend_ref?.pid as number)
            : null;
        },
        "alice's job to be ready",
        60000
      );
      // Alice's runner holds her job's token; the sidecar (root) can read it, bob cannot.
      expect(fs.readFileSync(`/proc/${pid}/environ`, 'utf8')).toContain(
        'NBQUEUE_JOB_TOKEN='
      );

      const targets = [
        s.dbPath,
        `${s.dbPath}-wal`,
        `${s.dbPath}.token`,
        path.join(s.dir, 'logs', `${id}.log`),
        path.join(alice.home, 'secret.txt'),
        `/proc/${pid}/environ`
      ];
      const out = await printed(
        s,
        `import json\nseen = {}\nfor p in ${JSON.stringify(targets)}:\n` +
          `    try:\n        seen[p] = open(p, 'rb').read()[:40].decode('latin-1')\n` +
          `    except OSError as e:\n        seen[p] = type(e).__name__\n` +
          `print(json.dumps(seen))`,
        BOB
      );
      const seen = JSON.parse(out.trim()) as Record<string, string>;
      expect(seen).toEqual(
        Object.fromEntries(targets.map(t => [t, 'PermissionError']))
      );
      expect(fs.readFileSync(path.join(alice.home, 'secret.txt'), 'utf8')).toBe(
        'alice-secret'
      );

      expect(
        (await s.api('POST', `/api/jobs/${id}/cancel`, undefined, ALICE)).status
      ).toBe(200);
      const ended = await waitFor(
        async () => {
          const job = (
            await s.api<JobView>('GET', `/api/jobs/${id}`, undefined, ALICE)
          ).body;
          return job.state === 'cancelled' ? job : null;
        },
        "alice's job to stop",
        60000
      );
      expect(ended.state).toBe('cancelled');
    }, 150000);

    test("cwd and kernel.python outside the owner's home are 400; an owner without an account too", async () => {
      const submit = (body: Record<string, unknown>, token = ALICE) =>
        s.api<{ error: { code: string; message: string } }>(
          'POST',
          '/api/jobs',
          { notebook: notebook([code('1')]), profile: 'cpu', ...body },
          token
        );
      for (const cwd of [
        '/tmp',
        bob.home,
        path.join(alice.home, '..', path.basename(bob.home)),
        path.join(alice.home, 'elsewhere'),
        'work'
      ]) {
        const res = await submit({ cwd });
        expect([cwd, res.status, res.body.error?.code]).toEqual([
          cwd,
          400,
          'outside_home'
        ]);
        expect(res.body.error.message).toContain(
          `not inside your home (${alice.home})`
        );
      }
      const python = await submit({ kernel: { python: '/bin/sh' } });
      expect(python.status).toBe(400);
      expect(python.body.error.message).toMatch(
        /"kernel\.python" "\/bin\/sh" is not inside your home .*backend\.local\.allowed_pythons/
      );
      const carol = await submit({}, CAROL);
      expect(carol.status).toBe(400);
      expect(carol.body.error).toEqual({
        code: 'no_os_account',
        message: expect.stringContaining(
          'User carol has no OS account nbqt-carol'
        )
      });
    });
  }
);
