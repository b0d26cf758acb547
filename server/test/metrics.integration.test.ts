import { io, Socket } from 'socket.io-client';
import type { JobEvent, JobView } from '../src/jobs/types';
import type { MetricRow } from '../src/metrics/store';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  waitFor
} from './helpers';

/** Real sidecar + real runner + real ipykernel: nbqueue.log_metric to REST, CSV and socket. */

const FINAL = ['succeeded', 'failed', 'cancelled'];
const ODD_NAME = 'val,"odd" name';

/** Metric events of one job from a socket.io subscription that starts after `after`. */
class MetricListener {
  readonly events: JobEvent[] = [];
  last: number;
  readonly socket: Socket;

  constructor(url: string, token: string, jobId: string, after = 0) {
    this.last = after;
    this.socket = io(url, { auth: { token }, transports: ['websocket'] });
    this.socket.on('connect', () =>
      this.socket.emit('subscribe', { job_id: jobId, after: this.last })
    );
    this.socket.on('events', (msg: { job_id: string; events: JobEvent[] }) => {
      if (msg.job_id !== jobId) return;
      for (const ev of msg.events) {
        if (ev.seq <= this.last) continue;
        this.last = ev.seq;
        if (ev.type === 'metric') this.events.push(ev);
      }
    });
  }

  close(): void {
    this.socket.close();
  }
}

const asRow = (ev: JobEvent): MetricRow => ({
  seq: ev.seq,
  name: ev.name as string,
  step: ev.step as number,
  value: ev.value as number | null,
  time: ev.time,
  kind: (ev.kind as 'user' | 'system') ?? 'user'
});

/** Minimal RFC 4180 reader for the test: quoted fields may hold commas and quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe('metrics end to end: kernel, runner, sidecar, REST, CSV, socket.io', () => {
  let s: TestSidecar;
  const previous = process.env.NBQUEUE_SYSTEM_METRICS_SECONDS;
  beforeAll(async () => {
    process.env.NBQUEUE_SYSTEM_METRICS_SECONDS = '0.3';
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
  });
  afterAll(async () => {
    await s.close();
    if (previous === undefined)
      delete process.env.NBQUEUE_SYSTEM_METRICS_SECONDS;
    else process.env.NBQUEUE_SYSTEM_METRICS_SECONDS = previous;
  });

  test('200 logged points: REST JSON, CSV and socket events agree, also across a reconnect', async () => {
    const cells = [
      code(
        'import nbqueue, time\n' +
          'for i in range(200):\n' +
          "    nbqueue.log_metric('loss', float('nan') if i == 100 else 1 / (i + 1))\n" +
          '    if i % 50 == 0:\n' +
          `        nbqueue.log_metric(${JSON.stringify(ODD_NAME)}, i)\n` +
          '    time.sleep(0.01)'
      )
    ];
    const submitted = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook(cells)
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;

    const whole = new MetricListener(s.url, s.token, id);
    // A second client drops out after some points and resumes from its last seq.
    const first = new MetricListener(s.url, s.token, id);
    await waitFor(() => first.events.length >= 40, 'first metric points live');
    first.close();
    const job0 = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
    expect(FINAL).not.toContain(job0.state); // the points arrived while the job ran
    const resumed = new MetricListener(s.url, s.token, id, first.last);

    const job = await waitFor(
      async () => {
        const j = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
        return FINAL.includes(j.state) ? j : undefined;
      },
      'the job to end',
      60000
    );
    expect(job.state).toBe('succeeded');
    await waitFor(
      () => whole.last >= job.last_seq && resumed.last >= job.last_seq,
      'every event on both sockets'
    );
    whole.close();
    resumed.close();

    const rest = await s.api<{ metrics: MetricRow[]; cursor: number }>(
      'GET',
      `/api/jobs/${id}/metrics`
    );
    expect(rest.status).toBe(200);
    const rows = rest.body.metrics;
    const user = rows.filter(r => r.kind === 'user');
    const loss = user.filter(r => r.name === 'loss');
    expect(loss.map(r => r.step)).toEqual(
      Array.from({ length: 200 }, (_, i) => i)
    );
    expect(loss[100].value).toBeNull();
    expect(loss[199].value).toBeCloseTo(1 / 200);
    expect(user.filter(r => r.name === ODD_NAME).map(r => r.value)).toEqual([
      0, 50, 100, 150
    ]);
    expect(rows.some(r => r.name === 'system/memory_bytes')).toBe(true);
    expect(rest.body.cursor).toBe(rows[rows.length - 1].seq);

    // the socket, with and without a reconnect, delivered exactly the stored points
    expect(whole.events.map(asRow)).toEqual(rows);
    const rejoined = [...first.events, ...resumed.events];
    expect(rejoined.map(e => e.seq)).toEqual(rows.map(r => r.seq));

    // since / kind
    const mid = rows[150].seq;
    const after = await s.api<{ metrics: MetricRow[]; cursor: number }>(
      'GET',
      `/api/jobs/${id}/metrics?since=${mid}&kind=user`
    );
    expect(after.body.metrics).toEqual(
      rows.filter(r => r.seq > mid && r.kind === 'user')
    );
    const system = await s.api<{ metrics: MetricRow[] }>(
      'GET',
      `/api/jobs/${id}/metrics?kind=system`
    );
    expect(system.body.metrics.length).toBeGreaterThan(0);
    expect(system.body.metrics.every(r => r.name.startsWith('system/'))).toBe(
      true
    );

    // CSV: the same rows, the odd name quoted
    const res = await fetch(`${s.url}/api/jobs/${id}/metrics.csv`, {
      headers: { Authorization: `Bearer ${s.token}` }
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text();
    expect(text).toContain(`,"val,""odd"" name",`);
    const [header, ...lines] = parseCsv(text);
    expect(header).toEqual([
      'job',
      'seq',
      'name',
      'step',
      'value',
      'time',
      'kind'
    ]);
    expect(lines).toEqual(
      rows.map(r => [
        id,
        String(r.seq),
        r.name,
        String(r.step),
        r.value === null ? '' : String(r.value),
        String(r.time),
        r.kind
      ])
    );
    const tail = await fetch(
      `${s.url}/api/jobs/${id}/metrics.csv?since=${mid}`,
      {
        headers: { Authorization: `Bearer ${s.token}` }
      }
    );
    expect(parseCsv(await tail.text()).length - 1).toBe(
      rows.filter(r => r.seq > mid).length
    );

    // the notebook's result shows the chart; the private points never reach it
    const result = await s.api<string>('GET', `/api/jobs/${id}/result`);
    const saved = JSON.stringify(result.body);
    expect(saved).toContain('application/vnd.nbqueue.metrics+json');
    expect(saved).not.toContain('metric-points');
  }, 90000);

  test('unknown job and bad query answer like other job routes', async () => {
    const missing = await s.api<{ error: { code: string } }>(
      'GET',
      '/api/jobs/j-nope/metrics'
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('unknown_job');
    const csv = await s.api<{ error: { code: string } }>(
      'GET',
      '/api/jobs/j-nope/metrics.csv'
    );
    expect(csv.status).toBe(404);
    const submitted = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook([code('1')])
    });
    const bad = await s.api<{ error: { code: string } }>(
      'GET',
      `/api/jobs/${submitted.body.id}/metrics?kind=gpu`
    );
    expect(bad.status).toBe(400);
    const noToken = await s.api(
      'GET',
      `/api/jobs/${submitted.body.id}/metrics`,
      undefined,
      null
    );
    expect(noToken.status).toBe(401);
  });
});
