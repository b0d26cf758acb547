/**
 * Notifications when a job ends, on a real sidecar: mail to a real SMTP server (smtp-server),
 * webhooks to a local HTTP receiver that fails first, hosts refused when the settings are set,
 * each user's settings their own, sent once across a restart. The address checks made when a
 * webhook is sent are tested on postWebhook itself, with the host's addresses given.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { SMTPServer } from 'smtp-server';
import type { JobEvent, JobView } from '../src/jobs/types';
import { parseConfig } from '../src/config/load';
import type { SmtpSettings } from '../src/notifications/config';
import { DeliveryError } from '../src/notifications/delivery';
import { smtpMailer } from '../src/notifications/email';
import {
  hostRules,
  isInternalAddress,
  webhookPattern,
  webhookRefusal
} from '../src/notifications/hosts';
import { postWebhook } from '../src/notifications/webhook';
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

interface Received {
  to: string[];
  raw: string;
}

/** A real SMTP server on a free port, keeping what it receives. */
async function smtpReceiver(): Promise<{
  port: number;
  mails: Received[];
  close(): Promise<void>;
}> {
  const mails: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        mails.push({
          to: session.envelope.rcptTo.map(r => r.address),
          raw
        });
        callback();
      });
    }
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    close: () => new Promise(r => server.close(() => r()))
  };
}

/** An HTTP receiver: answers each POST with the next of `statuses` (then 200). */
async function webhookReceiver(statuses: number[] = []): Promise<{
  port: number;
  posts: { body: unknown; type: string | undefined }[];
  close(): Promise<void>;
}> {
  const posts: { body: unknown; type: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', d => (text += d));
    req.on('end', () => {
      posts.push({
        body: JSON.parse(text),
        type: req.headers['content-type']
      });
      const status = statuses.shift() ?? 200;
      if (status === 0) return; // no answer: the sender times out
      if (status === 302) res.setHeader('Location', 'http://10.0.0.1/');
      res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    posts,
    close: () =>
      new Promise(r => {
        server.closeAllConnections();
        server.close(() => r());
      })
  };
}

/** Quoted-printable, as nodemailer may write a text body. */
const unQuoted = (raw: string) =>
  raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) =>
      String.fromCharCode(parseInt(h, 16))
    );

describe('notifications when a job ends', () => {
  let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let s: TestSidecar;
  const dir = tmpDir();
  const config = () => ({
    auth: { users: [{ token: BOB, user: 'bob' }] },
    profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }],
    notifications: {
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        require_tls: false,
        from: 'nbqueue <nbqueue@example.com>'
      },
      // The receivers are on loopback: listed exactly, with http allowed.
      allowed_webhook_hosts: ['http://127.0.0.1', '*.slack.example.com'],
      link_base_url: 'https://hub.example.com/services/nbqueue',
      retry_seconds: 0.2,
      max_attempts: 3,
      timeout_seconds: 2
    }
  });

  beforeAll(async () => {
    smtp = await smtpReceiver();
    hook = await webhookReceiver([500]); // the first post fails: it is tried again
    s = await startTestSidecar(config(), dir);
  });
  afterAll(async () => {
    await s.close();
    await smtp.close();
    await hook.close();
  });

  /** A job that fails at once: its kernel's Python does not exist. */
  const failing = async (name: string, token = s.token) => {
    const r = await s.api<JobView>(
      'POST',
      '/api/jobs',
      {
        name,
        profile: 'cpu',
        notebook: notebook([code('1')]),
        kernel: { name: 'python3', python: '/nonexistent/python' }
      },
      token
    );
    expect(r.status).toBe(201);
    await waitFor(() => s.store.getJob(r.body.id)?.finished_at, `${name} ends`);
    return r.body.id;
  };
  const logs = (id: string) =>
    s.store
      .listEvents(id, 0, 1000)
      .filter((e: JobEvent) => e.type === 'log')
      .map(e => String(e.message));

  test('a webhook host the operator does not allow is refused when it is set', async () => {
    const refused = await s.api<{ error: { code: string; message: string } }>(
      'PUT',
      '/api/notifications',
      { webhook: 'https://evil.example.net/hook' }
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('webhook_not_allowed');
    expect(refused.body.error.message).toContain('"evil.example.net"');
    expect(refused.body.error.message).toContain(
      'notifications.allowed_webhook_hosts'
    );
    // https only where http is not listed; a user name cannot smuggle another host in.
    for (const url of [
      'http://a.slack.example.com/x',
      'https://127.0.0.1@evil.example.net/',
      'https://slack.example.com/x'
    ]) {
      const r = await s.api('PUT', '/api/notifications', { webhook: url });
      expect([url, r.status]).toEqual([url, 400]);
    }
    const unsent = await s.api<{ webhook: string | null }>(
      'GET',
      '/api/notifications'
    );
    expect(unsent.body.webhook).toBeNull();
  });

  test('each user sees and sets only their own', async () => {
    const mine = await s.api('PUT', '/api/notifications', {
      email: 'alice@example.com',
      webhook: `http://127.0.0.1:${hook.port}/hook`,
      on: ['failed']
    });
    expect(mine.status).toBe(200);
    const bobs = await s.api<{ email: unknown; webhook: unknown }>(
      'GET',
      '/api/notifications',
      undefined,
      BOB
    );
    expect(bobs.body).toMatchObject({ email: null, webhook: null });
    await s.api('PUT', '/api/notifications', { email: 'bob@example.com' }, BOB);
    await s.api('DELETE', '/api/notifications', undefined, BOB);
    const alices = await s.api<{ email: string; on: string[] }>(
      'GET',
      '/api/notifications'
    );
    expect(alices.body).toMatchObject({
      email: 'alice@example.com',
      on: ['failed']
    });
  });

  test('a failed job is mailed and posted once, the webhook tried again after a 500', async () => {
    const id = await failing('train <resnet>');
    await waitFor(() => smtp.mails.length === 1, 'the mail');
    const mail = smtp.mails[0];
    expect(mail.to).toEqual(['alice@example.com']);
    const text = unQuoted(mail.raw);
    expect(text).toMatch(/^Subject: \[nbqueue\] Job train <resnet> failed/m);
    expect(text).toContain(`Job: train <resnet> (${id})`);
    expect(text).toContain('State: failed');
    expect(text).toMatch(/Duration: .*s/);
    expect(text).toContain('Reason: Could not start the runner');
    expect(text).toContain(
      `https://hub.example.com/services/nbqueue/api/jobs/${id}`
    );

    await waitFor(() => hook.posts.length === 2, 'the webhook, twice');
    expect(hook.posts[1].type).toBe('application/json');
    const { text: said } = hook.posts[1].body as { text: string };
    expect(said).toContain('job "train &lt;resnet&gt;" failed');
    expect(said).toContain('Reason: Could not start the runner');
    expect(said).toContain(
      `https://hub.example.com/services/nbqueue/api/jobs/${id}`
    );
    // The job's own events say what happened.
    await waitFor(
      () =>
        logs(id).some(m => m.includes('sent by webhook')) &&
        logs(id).some(m => m.includes('sent by email')),
      'the logs of both'
    );
    expect(logs(id)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Notification by webhook to 127\.0\.0\.1:\d+ failed \(attempt 1 of 3\): the webhook answered 500\. Trying again/
        ),
        'Notification sent by email to …@example.com.'
      ])
    );
    expect(
      s.store.notifications.deliveries(id).map(d => [d.channel, d.state])
    ).toEqual([
      ['email', 'sent'],
      ['webhook', 'sent']
    ]);
  });

  test('nothing is sent again after a restart, nor for jobs that ended before the settings', async () => {
    // Bob's job ends before he asks to be told: it never is.
    const before = await failing('before', BOB);
    await s.api('PUT', '/api/notifications', { email: 'bob@example.com' }, BOB);
    await s.close();
    s = await startTestSidecar(config(), dir);
    const after = await failing('after', BOB);
    await waitFor(
      () => smtp.mails.some(m => m.to.includes('bob@example.com')),
      "bob's mail"
    );
    const subjects = smtp.mails.map(m => /^Subject: (.*)$/m.exec(m.raw)?.[1]);
    expect(subjects).toEqual([
      expect.stringContaining('train'),
      expect.stringContaining('after')
    ]);
    expect(hook.posts).toHaveLength(2);
    expect(s.store.notifications.deliveries(before)).toEqual([]);
    expect(s.store.notifications.deliveries(after)).toHaveLength(1);
  });

  test('the CLI shows, sets and clears your own', async () => {
    const env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: BOB };
    const set = await cli(
      [
        'notify',
        '--webhook',
        'https://x.slack.example.com/T1',
        '--on',
        'failed,succeeded'
      ],
      env
    );
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('Webhook: https://x.slack.example.com/T1');
    expect(set.stdout).toContain('Email:   bob@example.com');
    expect(set.stdout).toContain('On:      failed, succeeded');
    const refused = await cli(
      ['notify', '--webhook', 'https://evil.example.net/'],
      env
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      '"evil.example.net" is not one this sidecar may send to'
    );
    const off = await cli(['notify', '--off'], env);
    expect(off.stdout).toContain('Notifications are off.');
  });
  test('a notification still being sent when the sidecar stops is sent after it starts again', async () => {
    const gate = await webhookReceiver([0]); // the first post gets no answer
    try {
      await s.api('PUT', '/api/notifications', {
        webhook: `http://127.0.0.1:${gate.port}/hook`,
        on: ['failed']
      });
      const id = await failing('interrupted');
      await waitFor(() => gate.posts.length === 1, 'the first post');
      await s.close(); // waits for the attempt, which times out
      s = await startTestSidecar(config(), dir);
      await waitFor(() => gate.posts.length === 2, 'the post again');
      expect((gate.posts[1].body as { text: string }).text).toContain(
        'job "interrupted" failed'
      );
      await waitFor(
        () => s.store.notifications.deliveries(id)[0]?.state === 'sent',
        'sent'
      );
      expect(s.store.notifications.deliveries(id)).toMatchObject([
        { channel: 'webhook', state: 'sent', attempts: 2 }
      ]);
      expect(logs(id)[0]).toMatch(/failed \(attempt 1 of 3\): .*timed out/);
    } finally {
      await gate.close();
    }
  });
});

describe('webhook hosts and addresses', () => {
  const rules = hostRules([
    'hooks.slack.com',
    '*.example.test',
    'http://127.0.0.1'
  ]);

  test('the pattern and the check agree on what is allowed', () => {
    const pattern = new RegExp(webhookPattern(rules) as string);
    const allowed = [
      'https://hooks.slack.com/services/T/B/x',
      'https://a.b.example.test:8443/x?y=1',
      'http://127.0.0.1:9000/hook',
      'https://127.0.0.1/'
    ];
    const refused = [
      'http://hooks.slack.com/services/x',
      'https://example.test/',
      'https://hooks.slack.com.evil.net/',
      'https://hooks.slack.com@evil.net/',
      'https://evil.net#@hooks.slack.com',
      'https://HOOKS.slack.com/x',
      'https://hooks.slack.com:99999/',
      'ftp://hooks.slack.com/'
    ];
    for (const url of allowed) {
      expect([url, pattern.test(url)]).toEqual([url, true]);
      expect(webhookRefusal(rules, url)).toBeNull();
    }
    for (const url of refused) {
      expect([url, pattern.test(url)]).toEqual([url, false]);
      expect(webhookRefusal(rules, url)).toEqual(expect.any(String));
    }
    expect(webhookPattern([])).toBeNull();
  });

  test('internal addresses are known', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe'
    ])
      expect([a, isInternalAddress(a)]).toEqual([a, true]);
    for (const a of ['93.184.216.34', '2606:4700::6810:84e5', '::ffff:8.8.8.8'])
      expect([a, isInternalAddress(a)]).toEqual([a, false]);
  });

  test('a wildcard host resolving to an internal address is refused when sent', async () => {
    const hook = await webhookReceiver();
    try {
      const sent = postWebhook(
        `https://a.example.test:${hook.port}/x`,
        { text: 'hi' },
        {
          rules,
          timeoutMs: 2000,
          resolve: async () => [{ address: '127.0.0.1', family: 4 }]
        }
      );
      await expect(sent).rejects.toThrow(
        /resolves to 127\.0\.0\.1, an internal address/
      );
      await expect(sent).rejects.toMatchObject({ permanent: true });
      expect(hook.posts).toHaveLength(0);
    } finally {
      await hook.close();
    }
  });

  test('a redirect is not followed', async () => {
    const hook = await webhookReceiver([302]);
    try {
      const sent = postWebhook(
        `http://127.0.0.1:${hook.port}/x`,
        { text: 'hi' },
        { rules, timeoutMs: 2000 }
      );
      await expect(sent).rejects.toBeInstanceOf(DeliveryError);
      await expect(sent).rejects.toThrow(/redirect to 10\.0\.0\.1.*not follow/);
      expect(hook.posts).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });
});

describe("the operator's notifications.* settings", () => {
  test('a wrong host entry or a missing password stops the start, naming the field', () => {
    expect(() =>
      parseConfig({ notifications: { allowed_webhook_hosts: ['https://x'] } })
    ).toThrow(
      /notifications\.allowed_webhook_hosts\.0: must be a lowercase host/
    );
    const smtp = {
      host: 'smtp.example.com',
      user: 'nbqueue',
      password_env: 'NBQUEUE_TEST_UNSET_PASSWORD',
      from: 'nbqueue@example.com'
    };
    const config = parseConfig({ notifications: { smtp } });
    expect(() =>
      smtpMailer(config.notifications.smtp as SmtpSettings, 1000, {})
    ).toThrow(
      /notifications\.smtp\.password_env: the environment variable NBQUEUE_TEST_UNSET_PASSWORD is not set/
    );
    expect(() =>
      parseConfig({
        notifications: { smtp: { ...smtp, password_file: '/p' } }
      })
    ).toThrow(
      /notifications\.smtp\.password_file: give password_env or password_file, not both/
    );
  });
});
