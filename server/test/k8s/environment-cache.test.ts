/**
 * The shared environment cache (backend.kubernetes.environment_cache) on real mounts: each job
 * pod's init container restores the job's environment into the cache as uid 1001; the runner
 * and the job's kernel, uid 1000, have it read-only. A job that tries to change the environment
 * it runs in cannot change what the next job, another user's, imports.
 */
import * as fs from 'fs';
import * as path from 'path';
import { code, notebook, waitFor } from '../helpers';
import {
  Cluster,
  ENVIRONMENTS_CLAIM,
  Obj,
  RunnerHarness,
  SidecarProcess,
  freePort
} from './harness';

const cluster = new Cluster();
const BOB_TOKEN = 'k8s-test-token-bob-0123456789abcdef';
const CACHE = '/var/cache/nbqueue/environments';
/** What the kernel captured: the image's own Python and nothing more to install. */
const CAPTURED = { python: { version: '3.11.2' }, packages: [] };

describe('the environment cache', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    await cluster.clean();
    sidecar = new SidecarProcess(
      await freePort(),
      { environment_cache: { claim_name: ENVIRONMENTS_CLAIM } },
      undefined,
      { users: [{ user: 'bob', token: BOB_TOKEN }] }
    );
    await sidecar.start();
    harness = new RunnerHarness(cluster);
    harness.start();
  });

  afterAll(async () => {
    await harness?.stop();
    await sidecar?.stop();
    await cluster.clean();
  });

  async function run(nb: Obj, token?: string): Promise<{ job: Obj; nb: Obj }> {
    const res = await sidecar.api(
      'POST',
      '/api/jobs',
      {
        profile: 'cpu',
        notebook: nb,
        name: 'env.ipynb',
        environment: CAPTURED
      },
      token
    );
    expect(res.status).toBe(201);
    const job = await waitFor(
      async () => {
        const j = await sidecar.api(
          'GET',
          `/api/jobs/${res.body.id}`,
          undefined,
          token
        );
        return ['succeeded', 'failed', 'cancelled'].includes(j.body.state)
          ? j.body
          : null;
      },
      `job ${res.body.id} to end`,
      180000,
      250
    );
    const result = await sidecar.api(
      'GET',
      `/api/jobs/${job.id}/result`,
      undefined,
      token
    );
    return {
      job,
      nb:
        typeof result.body === 'string' ? JSON.parse(result.body) : result.body
    };
  }

  const text = (nb: Obj): string =>
    nb.cells
      .flatMap((c: Obj) => c.outputs ?? [])
      .map((o: Obj) => [].concat(o.text ?? '').join(''))
      .join('');

  test("a job cannot change a cached environment that another user's job imports", async () => {
    const tamper = notebook([
      code(
        [
          'import glob, os, sys',
          `root = ${JSON.stringify(CACHE)}`,
          "sites = glob.glob(root + '/*/lib/python*/site-packages')",
          "print('environments', len(sites))",
          "print('in use', any(s in p for s in sites for p in sys.path))",
          'refused = 0',
          'for site in sites:',
          '    try:',
          "        with open(os.path.join(site, 'zz_tamper.pth'), 'w') as f:",
          `            f.write("import os; os.environ['TAMPERED'] = 'yes'\\n")`,
          '    except OSError:',
          '        refused += 1',
          'for path in (root + "/planted", root + "/x.lock"):',
          '    try:',
          '        open(path, "w")',
          '    except OSError:',
          '        refused += 1',
          "print('refused', refused, 'of', len(sites) + 2)"
        ].join('\n')
      )
    ]);
    const first = await run(tamper);
    expect(first.job.state).toBe('succeeded');
    // The init container built it; the runner found it in the cache.
    expect(first.nb.metadata.nbqueue.environment.cache_hit).toBe(true);
    expect(text(first.nb)).toContain(
      'environments 1\nin use True\nrefused 3 of 3'
    );

    const check = notebook([
      code("import os\nprint('tampered', os.environ.get('TAMPERED'))")
    ]);
    const second = await run(check, BOB_TOKEN);
    expect(second.job.state).toBe('succeeded');
    expect(second.job.owner).toBe('bob');
    expect(second.nb.metadata.nbqueue.environment.hash).toBe(
      first.nb.metadata.nbqueue.environment.hash
    );
    expect(text(second.nb)).toContain('tampered None');

    // On the volume: one environment, owned by the init container's user, nothing planted.
    const dir = path.join(cluster.dir, 'environments');
    const key = first.nb.metadata.nbqueue.environment.hash as string;
    expect(fs.statSync(path.join(dir, key)).uid).toBe(1001);
    expect(fs.existsSync(path.join(dir, 'planted'))).toBe(false);
    const site = fs
      .readdirSync(path.join(dir, key, 'lib'))
      .map(p => path.join(dir, key, 'lib', p, 'site-packages'));
    expect(site.some(s => fs.existsSync(path.join(s, 'zz_tamper.pth')))).toBe(
      false
    );
    // The pod: the init container writes the cache, the runner only reads it.
    const pods = harness.runnerLog(
      [...harness.startedAt.keys()].find(n =>
        n.includes(first.job.id.slice(2))
      ) ?? ''
    );
    expect(pods).toMatch(
      new RegExp(
        `--user 1001:1001 .*-v \\S+:${CACHE}:rw .*nbqueue\\.environment\\.prepare`
      )
    );
    expect(pods).toMatch(new RegExp(`--user 1000:1000 .*-v \\S+:${CACHE}:ro`));
  });
});
