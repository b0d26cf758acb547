import { startTestSidecar, TestSidecar } from './helpers';
import { printed, RUNNER_ENV } from './printed';

/**
 * A runner's environment is an allow-list of the sidecar's: never its token, the hub's API
 * token or anything else the sidecar holds, only PATH, HOME, LANG, LC_*, TZ, what installs need
 * (proxies, CA bundles, PIP_*, UV_*), the runner's own NBQUEUE_* variables and what the
 * operator names (backend.local.env_allow, backend.local.env).
 */
describe("runners do not get the sidecar's environment", () => {
  let s: TestSidecar;
  const saved = { ...process.env };
  beforeAll(async () => {
    Object.assign(process.env, {
      NBQUEUE_TOKEN: 'sidecar-token-never-for-jobs',
      JUPYTERHUB_API_TOKEN: 'hub-token-never-for-jobs',
      AWS_SECRET_ACCESS_KEY: 'cloud-secret-never-for-jobs',
      NBQUEUE_RETRY_SECONDS: '61',
      LC_TIME: 'C',
      NBQT_ALLOWED: 'yes',
      NBQT_PREFIX_ONE: 'one'
    });
    s = await startTestSidecar({
      backend: {
        local: {
          env_allow: ['NBQT_ALLOWED', 'NBQT_PREFIX_*'],
          env: { NBQT_SET: 'set-by-operator' }
        }
      }
    });
  });
  afterAll(async () => {
    process.env = saved;
    await s.close();
  });

  test('only the allowed variables reach the runner and its kernel', async () => {
    const out = await printed(
      s,
      `${RUNNER_ENV}\nprint(json.dumps(dict(os.environ)))`
    );
    const [runner, kernel] = out
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as Record<string, string>);
    for (const env of [runner, kernel]) {
      const text = JSON.stringify(env);
      expect(text).not.toContain('never-for-jobs');
      expect(env.NBQUEUE_TOKEN).toBeUndefined();
      expect(env.JUPYTERHUB_API_TOKEN).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
      expect(env.HOME).toBe(process.env.HOME);
      expect(env.LC_TIME).toBe('C');
      expect(env.NBQT_ALLOWED).toBe('yes');
      expect(env.NBQT_PREFIX_ONE).toBe('one');
      expect(env.NBQT_SET).toBe('set-by-operator');
      // What the test sidecar sets (helpers.ts runnerEnv) wins over the sidecar's own.
      expect(env.NBQUEUE_RETRY_SECONDS).toBe('60');
      expect(env.PYTHONPATH).toMatch(/runner-image$/);
    }
    expect(runner.NBQUEUE_JOB_TOKEN).toMatch(/^[0-9a-f]{48}$/);
    expect(runner.NBQUEUE_URL).toBe(s.url);
    expect(kernel.NBQUEUE_JOB_TOKEN).toBeUndefined();
    const names = Object.keys(runner).filter(
      n =>
        ![
          'PATH',
          'HOME',
          'USER',
          'LOGNAME',
          'TMPDIR',
          'LANG',
          'LANGUAGE',
          'TZ',
          'PYTHONPATH',
          'PYTHONUNBUFFERED',
          'NBQT_ALLOWED',
          'NBQT_PREFIX_ONE',
          'NBQT_SET',
          'SSL_CERT_FILE',
          'SSL_CERT_DIR',
          'REQUESTS_CA_BUNDLE'
        ].includes(n) &&
        !/^(LC|NBQUEUE|PIP|UV)_/.test(n) &&
        !/^(HTTP|HTTPS|NO|ALL)_PROXY$/i.test(n)
    );
    expect(names).toEqual([]);
  });
});
