import { io } from 'socket.io-client';
import { parseConfig } from '../src/config/load';
import { submitSchema } from '../src/api/contract/submit';
import { parse } from '../src/api/validate';
import { code, notebook, startTestSidecar, TestSidecar } from './helpers';

type ErrorBody = { error: { code: string; message: string } };

describe('REST API: bad input gets a clear 4xx and stores nothing', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({
      limits: { max_notebook_bytes: 200_000 },
      profiles: [
        { name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 },
        { name: 'gpu-1', cpus: 8, gpus: 1, memory: '32Gi', capacity: 1 }
      ],
      queues: [
        { name: 'cpu', profile: 'cpu' },
        { name: 'gpu-1', profile: 'gpu-1' }
      ]
    });
  });
  afterAll(() => s.close());

  const nb = notebook([code('print(1)')]);

  const cases: Array<[string, unknown, number, string, RegExp]> = [
    ['malformed JSON', '{"notebook": ', 400, 'invalid_json', /not valid JSON/],
    [
      'a body that is not an object',
      '[1,2]',
      400,
      'invalid_request',
      /JSON object/
    ],
    ...[
      '/home/bob/x.ipynb',
      '../bob/x.ipynb',
      'a/../../x.ipynb',
      'C:\\x.ipynb'
    ].map((p): [string, unknown, number, string, RegExp] => [
      `a notebook_path outside the root: ${p}`,
      { profile: 'cpu', notebook: nb, notebook_path: p },
      400,
      'invalid_request',
      /"notebook_path" must be a path inside the Jupyter root, relative to it and without "\.\."/
    ]),
    [
      'no notebook',
      { profile: 'cpu' },
      400,
      'invalid_notebook',
      /no "notebook"/
    ],
    [
      'nbformat 3',
      { profile: 'cpu', notebook: { ...nb, nbformat: 3 } },
      400,
      'invalid_notebook',
      /nbformat: is 3; nbqueue takes nbformat 4 notebooks \(4\.0 to 4\.5\)/
    ],
    [
      'cells not a list',
      { profile: 'cpu', notebook: { ...nb, cells: 'x' } },
      400,
      'invalid_notebook',
      /cells: must be a list, not a string/
    ],
    [
      'a cell of unknown type',
      {
        profile: 'cpu',
        notebook: notebook([{ cell_type: 'widget', source: '' }])
      },
      400,
      'invalid_notebook',
      /cells\[0\]\.cell_type: "widget" is not a cell type/
    ],
    [
      'duplicate cell ids',
      {
        profile: 'cpu',
        notebook: notebook([code('1', { id: 'a' }), code('2', { id: 'a' })])
      },
      400,
      'invalid_notebook',
      /cells\[1\]\.id: 'a' is also the id of cells\[0\]; cell ids must be unique/
    ],
    [
      'unknown profile',
      { profile: 'gpu-3', notebook: nb },
      400,
      'unknown_profile',
      /Profile 'gpu-3' does not exist; choose one of cpu, gpu-1\./
    ],
    [
      'unknown queue',
      { profile: 'cpu', queue: 'fast', notebook: nb },
      400,
      'unknown_queue',
      /Queue 'fast' does not exist/
    ],
    [
      'queue of another profile',
      { profile: 'cpu', queue: 'gpu-1', notebook: nb },
      400,
      'unknown_queue',
      /runs profile 'gpu-1', not 'cpu'/
    ],
    [
      'invalid priority',
      { profile: 'cpu', priority: 'asap', notebook: nb },
      400,
      'invalid_priority',
      /choose one of low, normal, high, urgent/
    ],
    [
      'parameter name not an identifier',
      { profile: 'cpu', parameters: { 'learning rate': 1 }, notebook: nb },
      400,
      'invalid_parameter',
      /"learning rate" is not a valid Python variable name/
    ],
    [
      'parameter name a keyword',
      { profile: 'cpu', parameters: { class: 1 }, notebook: nb },
      400,
      'invalid_parameter',
      /"class"/
    ],
    [
      'parameters not an object',
      { profile: 'cpu', parameters: [1], notebook: nb },
      400,
      'invalid_parameter',
      /must be an object/
    ],
    [
      'deadline not a whole number of seconds',
      { profile: 'cpu', deadline_seconds: 1.5, notebook: nb },
      400,
      'invalid_request',
      /"deadline_seconds" must be a whole number of seconds from 1 to 604800/
    ],
    [
      'deadline over the limit',
      { profile: 'cpu', deadline_seconds: 604801, notebook: nb },
      400,
      'invalid_request',
      /limits.max_deadline_seconds/
    ]
  ];

  test.each(cases)('%s', async (_what, body, status, codeName, message) => {
    const res = await s.api<ErrorBody>('POST', '/api/jobs', body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(codeName);
    expect(res.body.error.message).toMatch(message);
  });

  test('a notebook over the size limit without its outputs gets 413 with what to do', async () => {
    const big = notebook([
      {
        cell_type: 'markdown',
        id: 'm',
        metadata: {},
        source: '![x](attachment:x.png)',
        attachments: { 'x.png': { 'image/png': 'A'.repeat(1_500_000) } }
      }
    ]);
    const res = await s.api<ErrorBody>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: big
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('notebook_too_large');
    expect(res.body.error.message).toMatch(
      /^The notebook is 1\.4 MB without its outputs, over the 0\.2 MB limit \(limits\.max_notebook_bytes\); most of it is cell attachments/
    );
  });

  test('after all the bad input nothing was stored and the server still serves', async () => {
    const res = await s.api<{ jobs: unknown[] }>('GET', '/api/jobs');
    expect(res.status).toBe(200);
    expect(res.body.jobs).toEqual([]);
    expect((await s.api('GET', '/api/health', undefined, null)).status).toBe(
      200
    );
  });

  test('a deadline of its own is kept in the job spec', () => {
    const sub = parse(submitSchema(parseConfig({})), {
      profile: 'cpu',
      deadline_seconds: 600,
      notebook: nb
    });
    expect(sub.spec.deadline_seconds).toBe(600);
    expect(
      parse(submitSchema(parseConfig({})), { profile: 'cpu', notebook: nb })
        .spec.deadline_seconds
    ).toBeUndefined();
  });

  test('unknown job id answers 404 unknown_job on every job route', async () => {
    for (const [method, route] of [
      ['GET', '/api/jobs/j-nope'],
      ['POST', '/api/jobs/j-nope/cancel'],
      ['GET', '/api/jobs/j-nope/events'],
      ['GET', '/api/jobs/j-nope/result']
    ]) {
      const res = await s.api<ErrorBody>(method, route);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('unknown_job');
    }
  });

  test('every endpoint but health needs the token; a forged one gets 401', async () => {
    for (const route of [
      '/api/info',
      '/api/profiles',
      '/api/queues',
      '/api/jobs',
      '/api/openapi.json'
    ]) {
      expect((await s.api('GET', route, undefined, null)).status).toBe(401);
      const forged = await s.api<ErrorBody>(
        'GET',
        route,
        undefined,
        'forged-token-forged-token'
      );
      expect(forged.status).toBe(401);
      expect(forged.body.error.code).toBe('unauthorized');
    }
    const runner = await s.api<ErrorBody>(
      'GET',
      '/api/runner/jobs/j-nope',
      undefined,
      s.token
    );
    expect(runner.status).toBe(401);
  });

  test('a socket with a wrong token is refused', async () => {
    const socket = io(s.url, {
      auth: { token: 'wrong' },
      transports: ['websocket'],
      reconnection: false
    });
    const message = await new Promise<string>(resolve =>
      socket.on('connect_error', e => resolve(e.message))
    );
    socket.close();
    expect(message).toBe('unauthorized');
  });

  test('profiles show capacity, free slots and queue length', async () => {
    const res = await s.api<{ profiles: Array<Record<string, unknown>> }>(
      'GET',
      '/api/profiles'
    );
    expect(
      res.body.profiles.map(p => [p.name, p.capacity, p.free, p.queued])
    ).toEqual([
      ['cpu', 1, 1, 0],
      ['gpu-1', 1, 1, 0]
    ]);
  });

  test('unknown endpoints answer a JSON 404', async () => {
    const res = await s.api<ErrorBody>('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
