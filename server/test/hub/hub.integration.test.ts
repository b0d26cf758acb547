/**
 * nbqueue as a JupyterHub service, against a real hub (deploy/jupyterhub/jupyterhub_config.py):
 * per-user isolation over REST and socket.io, admins (hub admin and the admin group), hub
 * tokens that are forged, expired or lack the scope, and a job that outlives its owner's
 * single-user server.
 */
import * as http from 'http';
import { io, Socket } from 'socket.io-client';
import type { JobView } from '../../src/jobs/types';
import * as fs from 'fs';
import * as path from 'path';
import { cli, code, notebook, tmpDir, waitFor } from '../helpers';
import { Hub, startHub } from './hubHarness';

jest.setTimeout(180000);

const HUB_PORT = 18010;
const LAB_PORT = 18110;
const ACCESS = ['access:services!service=nbqueue'];

let hub: Hub;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  hub = await startHub(HUB_PORT, LAB_PORT);
  // Tokens limited to the service, as JupyterLab's page token is.
  for (const user of ['alice', 'bob', 'carol', 'admin'])
    tokens[user] = await hub.token(user, { scopes: ACCESS });
}, 150000);

afterAll(async () => {
  await hub?.stop();
});

const api = <T = unknown>(
  method: string,
  route: string,
  token: string | null,
  body?: unknown
) => hub.call<T>(method, `/services/nbqueue${route}`, token, body);

async function submit(
  token: string,
  cells: Record<string, unknown>[]
): Promise<JobView> {
  const { status, body } = await api<JobView>('POST', '/api/jobs', token, {
    profile: 'cpu',
    notebook: notebook(cells)
  });
  expect(status).toBe(201);
  return body;
}

async function finished(token: string, id: string): Promise<JobView> {
  return waitFor(
    async () => {
      const { body } = await api<JobView>('GET', `/api/jobs/${id}`, token);
      return ['succeeded', 'failed', 'cancelled'].includes(body.state)
        ? body
        : null;
    },
    `job ${id} to end`,
    120000,
    250
  );
}

function connect(token: string): Socket {
  return io(`http://127.0.0.1:${HUB_PORT}`, {
    path: '/services/nbqueue/socket.io',
    auth: { token },
    transports: ['websocket'],
    reconnection: false
  });
}

/** Resolves with the socket once connected, or with the refusal's message. */
function connected(socket: Socket): Promise<string> {
  return new Promise(resolve => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', err => resolve(err.message));
  });
}

describe('identity from the hub', () => {
  it('answers each user as themselves, with hub admins and the admin group as admins', async () => {
    const who = async (user: string) =>
      (
        await api<{ user: string; admin: boolean }>(
          'GET',
          '/api/info',
          tokens[user]
        )
      ).body;
    expect(await who('alice')).toMatchObject({ user: 'alice', admin: false });
    expect(await who('bob')).toMatchObject({ user: 'bob', admin: false });
    expect(await who('admin')).toMatchObject({ user: 'admin', admin: true });
    // carol is in nbqueue-admins (auth.hub.admin_groups of deploy/jupyterhub/nbqueue.yaml).
    expect(await who('carol')).toMatchObject({ user: 'carol', admin: true });
  });

  it('refuses no token, a forged one, an expired one and one without the service scope with 401', async () => {
    expect((await api('GET', '/api/jobs', null)).status).toBe(401);
    const forged = await api<{ error: { code: string } }>(
      'GET',
      '/api/jobs',
      'f0rged0123456789abcdef0123456789'
    );
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('unauthorized');

    const expiring = await hub.token('alice', { scopes: ACCESS, expiresIn: 1 });
    // Expired for the hub first, then asked of the sidecar (which has never seen it).
    await waitFor(
      async () =>
        (await hub.hubApi('GET', '/user', expiring)).status === 403 ||
        (await hub.hubApi('GET', '/user', expiring)).status === 401,
      'the hub to expire the token',
      20000,
      200
    );
    expect((await api('GET', '/api/jobs', expiring)).status).toBe(401);

    const noAccess = await hub.token('alice', {
      scopes: ['read:users:name!user=alice']
    });
    expect((await hub.hubApi('GET', '/user', noAccess)).status).toBe(200);
    expect((await api('GET', '/api/jobs', noAccess)).status).toBe(401);

    for (const bad of [
      'f0rged0123456789abcdef0123456789',
      expiring,
      noAccess
    ]) {
      const socket = connect(bad);
      expect(await connected(socket)).toBe('unauthorized');
      socket.close();
    }
  });
});

describe('browser navigation (OAuth login for links)', () => {
  const service = () => `http://127.0.0.1:${HUB_PORT}/services/nbqueue`;

  it('sends a browser without a token to the hub, and a script gets 401', async () => {
    const link = await fetch(`${service()}/api/jobs/j-0000000000/result`, {
      redirect: 'manual',
      headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' }
    });
    expect(link.status).toBe(302);
    const to = new URL(link.headers.get('location') ?? '', 'http://x');
    expect(to.pathname).toBe('/hub/api/oauth2/authorize');
    expect(to.searchParams.get('client_id')).toBe('service-nbqueue');
    expect(to.searchParams.get('redirect_uri')).toBe(
      '/services/nbqueue/oauth_callback'
    );
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(link.headers.get('set-cookie')).toMatch(
      /nbqueue-oauth-state=.*Path=\/services\/nbqueue\/.*HttpOnly/
    );
    const script = await fetch(`${service()}/api/jobs`);
    expect(script.status).toBe(401);
  });

  it('refuses a callback that was not started here', async () => {
    const res = await fetch(
      `${service()}/oauth_callback?code=abc&state=forged`,
      { redirect: 'manual' }
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/state mismatch/);
  });

  it('takes the login cookie for browser navigations only: no script, no writes', async () => {
    const cookie = { Cookie: `nbqueue-hub-token=${tokens.alice}` };
    // A person's browser opening the link (Fetch Metadata as browsers send it).
    const navigation = await new Promise<number>((resolve, reject) =>
      http
        .get(
          `${service()}/api/jobs`,
          {
            headers: {
              ...cookie,
              'Sec-Fetch-Mode': 'navigate',
              'Sec-Fetch-Dest': 'document'
            }
          },
          res => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }
        )
        .on('error', reject)
    );
    expect(navigation).toBe(200);
    // fetch() from a page on the hub's origin (another user's server): the cookie is not taken.
    const read = await fetch(`${service()}/api/jobs`, { headers: cookie });
    expect(read.status).toBe(401);
    const write = await fetch(`${service()}/api/jobs`, {
      method: 'POST',
      headers: { ...cookie, 'Content-Type': 'application/json' },
      body: JSON.stringify({ profile: 'cpu', notebook: notebook([]) })
    });
    expect(write.status).toBe(401);
  });
});

describe('the nbqueue CLI through the hub', () => {
  it('submits and follows a job with a hub token, and is refused without one', async () => {
    const file = path.join(tmpDir(), 'cli.ipynb');
    fs.writeFileSync(
      file,
      JSON.stringify(notebook([code('print("from the cli")')]))
    );
    const env = {
      NBQUEUE_URL: `http://127.0.0.1:${HUB_PORT}/services/nbqueue`,
      NBQUEUE_TOKEN: tokens.alice
    };
    const run = await cli(
      ['submit', file, '--profile', 'cpu', '--follow'],
      env
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/succeeded/);
    expect(run.stdout).toContain('from the cli');
    const refused = await cli(['jobs'], {
      ...env,
      NBQUEUE_TOKEN: 'forged-0123456789abcdef'
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/JupyterHub token/);
  });
});

describe('per-user isolation', () => {
  let job: JobView;

  beforeAll(async () => {
    // Long enough to still be running while bob tries to act on it.
    job = await submit(tokens.alice, [
      code(
        'import time\nfor i in range(600):\n    print(i, flush=True)\n    time.sleep(0.5)'
      )
    ]);
    expect(job.owner).toBe('alice');
  });

  afterAll(async () => {
    await api('POST', `/api/jobs/${job.id}/cancel`, tokens.admin);
  });

  it("hides alice's job from bob on every route with 404", async () => {
    const { body: list } = await api<{ jobs: JobView[] }>(
      'GET',
      '/api/jobs',
      tokens.bob
    );
    expect(list.jobs.map(j => j.id)).not.toContain(job.id);
    expect((await api('GET', '/api/jobs?all=1', tokens.bob)).status).toBe(403);

    const routes: Array<[string, string, unknown?]> = [
      ['GET', ''],
      ['GET', '/events'],
      ['GET', '/metrics'],
      ['GET', '/metrics.csv'],
      ['GET', '/log'],
      ['GET', '/result'],
      ['GET', '/files'],
      ['GET', '/files/output?path=out.txt'],
      ['POST', '/cancel'],
      ['POST', '/hold'],
      ['POST', '/release'],
      ['POST', '/rerun', {}],
      ['POST', '/move', { queue: 'gpu-1' }],
      ['POST', '/priority', { priority: 'low' }],
      ['POST', '/reorder', { to: 'front' }]
    ];
    for (const [method, suffix, body] of routes) {
      const res = await api<{ error: { code: string; message: string } }>(
        method,
        `/api/jobs/${job.id}${suffix}`,
        tokens.bob,
        body
      );
      expect([method, suffix, res.status]).toEqual([method, suffix, 404]);
      expect(res.body.error.code).toBe('unknown_job');
      expect(JSON.stringify(res.body)).not.toContain('alice');
    }
    // Still running: bob's cancel did nothing.
    const { body: still } = await api<JobView>(
      'GET',
      `/api/jobs/${job.id}`,
      tokens.alice
    );
    expect(['queued', 'starting', 'running']).toContain(still.state);
  });

  it("refuses bob's socket subscription to alice's job and sends him none of its changes", async () => {
    const bob = connect(tokens.bob);
    expect(await connected(bob)).toBe('connected');
    const seen: string[] = [];
    bob.on('job', (j: JobView) => seen.push(j.id));
    bob.on('events', (m: { job_id: string }) => seen.push(m.job_id));
    const ack = (await bob
      .timeout(10000)
      .emitWithAck('subscribe', { job_id: job.id, after: 0 })) as {
      ok: boolean;
      error?: { code: string };
      job?: unknown;
    };
    expect(ack.ok).toBe(false);
    expect(ack.error?.code).toBe('unknown_job');
    expect(ack.job).toBeUndefined();

    // alice, subscribed at the same time, gets output: bob got nothing of it.
    const alice = connect(tokens.alice);
    expect(await connected(alice)).toBe('connected');
    let aliceEvents = 0;
    alice.on('events', (m: { job_id: string; events: unknown[] }) => {
      if (m.job_id === job.id) aliceEvents += m.events.length;
    });
    const aliceAck = (await alice
      .timeout(10000)
      .emitWithAck('subscribe', { job_id: job.id, after: 0 })) as {
      ok: boolean;
    };
    expect(aliceAck.ok).toBe(true);
    await waitFor(() => aliceEvents > 0, "alice's events", 60000);
    // Changes of alice's jobs go to alice (and admins) only: a new job of hers, to its end.
    const succeeded = new Set<string>();
    alice.on('job', (j: JobView) => {
      if (j.state === 'succeeded') succeeded.add(j.id);
    });
    const second = await submit(tokens.alice, [code('print("second")')]);
    await waitFor(
      () => succeeded.has(second.id),
      "alice's socket to tell her second job ended",
      90000
    );
    expect(seen).not.toContain(second.id);
    expect(seen).not.toContain(job.id);
    alice.close();
    bob.close();
  });

  it("lets the hub admin and the admin group see and act on alice's job", async () => {
    for (const admin of ['admin', 'carol']) {
      const all = await api<{ jobs: JobView[] }>(
        'GET',
        '/api/jobs?all=1',
        tokens[admin]
      );
      expect(all.status).toBe(200);
      expect(all.body.jobs.map(j => j.id)).toContain(job.id);
      const one = await api<JobView>(
        'GET',
        `/api/jobs/${job.id}`,
        tokens[admin]
      );
      expect(one.status).toBe(200);
      expect(one.body.owner).toBe('alice');
      const socket = connect(tokens[admin]);
      expect(await connected(socket)).toBe('connected');
      const ack = (await socket
        .timeout(10000)
        .emitWithAck('subscribe', { job_id: job.id, after: 0 })) as {
        ok: boolean;
      };
      expect(ack.ok).toBe(true);
      socket.close();
    }
    const cancelled = await api<JobView>(
      'POST',
      `/api/jobs/${job.id}/cancel`,
      tokens.admin
    );
    expect(cancelled.status).toBe(200);
    expect((await finished(tokens.alice, job.id)).state).toBe('cancelled');
  });
});

describe("alice's single-user server", () => {
  let full: string;

  const serverReady = async (ready: boolean) =>
    waitFor(
      async () => {
        const { body } = await hub.hubApi<{
          servers: Record<string, { ready: boolean }>;
        }>('GET', '/users/alice', full);
        const server = body.servers?.[''];
        return ready ? server?.ready === true : !server;
      },
      `alice's server to be ${ready ? 'ready' : 'stopped'}`,
      150000,
      500
    );

  beforeAll(async () => {
    // Her own token with all her permissions, to start and stop her server.
    full = await hub.token('alice');
  });

  it('hands JupyterLab the service address in hub mode', async () => {
    expect(
      (await hub.hubApi('POST', '/users/alice/server', full)).status
    ).toBeLessThan(300);
    await serverReady(true);
    const { status, body } = await hub.call<{
      mode: string;
      url: string;
      token: string | null;
    }>('GET', '/user/alice/nbqueue/connection', full);
    expect(status).toBe(200);
    expect(body).toEqual({
      mode: 'hub',
      url: '/services/nbqueue',
      token: null
    });
  });

  it('keeps her job running while her server is stopped and shows it after a restart', async () => {
    await serverReady(true);
    const job = await submit(tokens.alice, [
      code(
        'import time\nfor i in range(6):\n    print("step", i, flush=True)\n    time.sleep(0.5)'
      ),
      code('print("done")')
    ]);
    expect(
      (await hub.hubApi('DELETE', '/users/alice/server', full)).status
    ).toBeLessThan(300);
    await serverReady(false);

    const ended = await finished(tokens.alice, job.id);
    expect(ended.state).toBe('succeeded');

    expect(
      (await hub.hubApi('POST', '/users/alice/server', full)).status
    ).toBeLessThan(300);
    await serverReady(true);
    const { body } = await api<{ jobs: JobView[] }>(
      'GET',
      '/api/jobs',
      tokens.alice
    );
    expect(body.jobs.find(j => j.id === job.id)?.state).toBe('succeeded');
    const result = await api<{
      cells: Array<{ outputs: Array<{ text?: string }> }>;
    }>('GET', `/api/jobs/${job.id}/result`, tokens.alice);
    expect(result.status).toBe(200);
    expect(result.body.cells[1].outputs[0].text).toContain('done');
    await hub.hubApi('DELETE', '/users/alice/server', full);
  });
});
