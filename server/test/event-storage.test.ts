import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { io } from 'socket.io-client';
import { hashToken } from '../src/auth/token';
import { MAX_EVENT_BYTES } from '../src/jobs/runnerIntake';
import type { JobEvent, JobRecord, JobView } from '../src/jobs/types';
import {
  cli,
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

/**
 * How a job's events are stored, with the real sidecar, runner, kernel and SQLite file: each
 * metric point once, per-job caps that cut the live stream with one marker and leave the job
 * and its result alone, and an event over the limit on one event cut with a note.
 */

const FINAL = ['succeeded', 'failed', 'cancelled'];

async function finished(s: TestSidecar, id: string): Promise<JobView> {
  return waitFor(
    async () => {
      const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
      return FINAL.includes(job.state) ? job : undefined;
    },
    `job ${id} to end`,
    90000
  );
}

/** Every event of a job through REST, paged as a client pages. */
async function allEvents(s: TestSidecar, id: string): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  for (;;) {
    const page = await s.api<{ events: JobEvent[] }>(
      'GET',
      `/api/jobs/${id}/events?after=${out.length ? out[out.length - 1].seq : 0}&limit=700`
    );
    if (!page.body.events.length) return out;
    out.push(...page.body.events);
  }
}

/** Every event of a job as a socket.io subscriber gets them (replay, then live). */
async function socketEvents(s: TestSidecar, id: string, last: number) {
  const socket = io(s.url, {
    auth: { token: s.token },
    transports: ['websocket']
  });
  const events: JobEvent[] = [];
  socket.on('connect', () =>
    socket.emit('subscribe', { job_id: id, after: 0 })
  );
  socket.on('events', (msg: { job_id: string; events: JobEvent[] }) => {
    for (const ev of msg.events)
      if (msg.job_id === id && ev.seq > (events.at(-1)?.seq ?? 0))
        events.push(ev);
  });
  try {
    await waitFor(() => events.at(-1)?.seq === last, 'the socket replay');
  } finally {
    socket.close();
  }
  return events;
}

const submit = async (s: TestSidecar, cells: Record<string, unknown>[]) => {
  const sub = await s.api<JobView>('POST', '/api/jobs', {
    notebook: notebook(cells),
    profile: 'cpu'
  });
  expect(sub.status).toBe(201);
  return sub.body.id;
};

describe('each metric point is stored once', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar();
  });
  afterAll(async () => {
    await s.close();
  });

  test('one metrics row per point, none in the events table; replay complete and ordered', async () => {
    const id = await submit(s, [
      code(
        "import nbqueue\nfor i in range(1500):\n    nbqueue.log_metric('loss', 1 / (i + 1))\n    if i % 500 == 0:\n        print(i, flush=True)"
      ),
      code("nbqueue.log_metric('acc', float('nan'))\nprint('done')")
    ]);
    const job = await finished(s, id);
    expect(job.state).toBe('succeeded');

    const db = new Database(s.dbPath, { readonly: true });
    try {
      const count = (sql: string) =>
        (db.prepare(sql).get(id) as { n: number }).n;
      expect(
        count(
          "SELECT COUNT(*) AS n FROM metrics WHERE job_id = ? AND kind = 'user'"
        )
      ).toBe(1501);
      expect(
        count(
          "SELECT COUNT(*) AS n FROM events WHERE job_id = ? AND json_extract(body, '$.type') = 'metric'"
        )
      ).toBe(0);
      const stored =
        count('SELECT COUNT(*) AS n FROM events WHERE job_id = ?') +
        count('SELECT COUNT(*) AS n FROM metrics WHERE job_id = ?');
      expect(stored).toBe(job.last_seq); // every seq stored exactly once, in one table
    } finally {
      db.close();
    }

    for (const events of [
      await allEvents(s, id),
      await socketEvents(s, id, job.last_seq)
    ]) {
      expect(events.map(e => e.seq)).toEqual(
        Array.from({ length: job.last_seq }, (_, i) => i + 1)
      );
      const loss = events.filter(e => e.type === 'metric' && e.name === 'loss');
      expect(loss.map(e => e.step)).toEqual(
        Array.from({ length: 1500 }, (_, i) => i)
      );
      expect(loss[3]).toMatchObject({
        type: 'metric',
        kind: 'user',
        value: 0.25,
        cell_index: 0
      });
      expect(typeof loss[3].cell_id).toBe('string');
      expect(events.find(e => e.name === 'acc')?.value).toBeNull();
    }
    const metrics = await s.api<{ metrics: unknown[] }>(
      'GET',
      `/api/jobs/${id}/metrics?kind=user`
    );
    expect(metrics.body.metrics).toHaveLength(1501);
  }, 120000);
});

describe('per-job caps', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({ limits: { events_per_job: 60 } });
  });
  afterAll(async () => {
    await s.close();
  });

  test('past limits.events_per_job: one marker, the runner goes on, the result is whole', async () => {
    const id = await submit(s, [
      code('for i in range(300):\n    display(i)'),
      code(
        "import nbqueue\nfor i in range(100):\n    nbqueue.log_metric('x', i)"
      ),
      code("print('last cell')")
    ]);
    const job = await finished(s, id);
    expect(job.state).toBe('succeeded');
    expect(job.reason).toBeNull();

    const events = await allEvents(s, id);
    expect(events).toHaveLength(61); // 60 events and the marker
    expect(events.map(e => e.seq)).toEqual(
      Array.from({ length: 61 }, (_, i) => i + 1)
    );
    const isMarker = (e: JobEvent) =>
      JSON.stringify(e).includes('Output truncated: this job passed 60 events');
    const markers = events.filter(isMarker);
    expect(markers).toHaveLength(1);
    expect(markers[0]).toMatchObject({
      type: 'output',
      output: { output_type: 'stream', name: 'stderr' }
    });
    expect(String((markers[0].output as { text: string }).text)).toContain(
      '(limits.events_per_job); the rest is in the result notebook'
    );
    // The live stream shows it once too, and the mark passed every event the runner sent.
    // Clients see the marker as the job's last event; the runner's mark passed all it sent.
    expect(job.last_seq).toBe(61);
    const live = await socketEvents(s, id, job.last_seq);
    expect(live.filter(isMarker)).toHaveLength(1);
    const db = new Database(s.dbPath, { readonly: true });
    try {
      const mark = db
        .prepare('SELECT last_seq, event_count FROM jobs WHERE id = ?')
        .get(id) as { last_seq: number; event_count: number };
      expect(mark.last_seq).toBeGreaterThan(400);
      expect(mark.event_count).toBe(61);
    } finally {
      db.close();
    }

    const result = await s.api<{
      cells: { outputs: { data?: Record<string, string>; text?: string }[] }[];
    }>('GET', `/api/jobs/${id}/result`);
    expect(result.body.cells[0].outputs).toHaveLength(300);
    expect(result.body.cells[0].outputs[299].data?.['text/plain']).toBe('299');
    expect(result.body.cells[2].outputs[0].text).toBe('last cell\n');
  }, 120000);
});

describe('per-job caps, followed with the CLI', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({ limits: { event_bytes_per_job: 20000 } });
  });
  afterAll(async () => {
    await s.close();
  });

  test('nbqueue submit --follow prints the marker once and ends with the job', async () => {
    const file = path.join(tmpDir(), 'chatty.ipynb');
    fs.writeFileSync(
      file,
      JSON.stringify(
        notebook([
          code(
            "import sys\nfor i in range(400):\n    print('line', i, 'x' * 100, flush=True)"
          ),
          code("print('done')")
        ])
      )
    );
    const r = await cli(['submit', file, '--profile', 'cpu', '--follow'], {
      NBQUEUE_URL: s.url,
      NBQUEUE_TOKEN: s.token
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/succeeded/);
    const marker =
      'Output truncated: this job passed 20000 bytes of events (limits.event_bytes_per_job); the rest is in the result notebook.';
    expect(r.stderr.split(marker)).toHaveLength(2);
    expect(r.stdout).toMatch(/^line 0 x{100}\n/);
    expect(r.stdout).not.toContain('done');
  }, 120000);
});

describe('an event over the limit on one event', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar();
  });
  afterAll(async () => {
    await s.close();
  });

  /** A job in the store with a runner token of the test's, as a runner holds one. */
  function runnerJob(id: string, token: string): void {
    const record: JobRecord = {
      id,
      owner: 'alice',
      name: id,
      profile: 'cpu',
      queue: 'cpu',
      priority: 'normal',
      state: 'running',
      reason: null,
      created_at: new Date().toISOString(),
      started_at: new Date().toISOString(),
      finished_at: null,
      position_key: s.store.nextPositionKey(),
      spec: { parameters: {}, notebook_path: null, cwd: null, kernel: {} },
      cancel_requested: false,
      held: false,
      backend_ref: null,
      last_seq: 0,
      has_result: false,
      attempt: 1,
      restarts: []
    };
    s.store.insertJob(record, notebook([]) as never);
    s.store.updateJob(id, { token_hash: hashToken(token) });
  }

  test('is cut with a note on intake, not refused', async () => {
    const token = 'runner-token-0123456789abcdef';
    runnerJob('j-oversized', token);
    const route = '/api/runner/jobs/j-oversized/events';
    const big = 'x'.repeat(MAX_EVENT_BYTES + 2000);
    const stream: JobEvent = {
      seq: 1,
      time: Date.now(),
      type: 'output',
      cell_id: 'c1',
      cell_index: 0,
      output: { output_type: 'stream', name: 'stdout', text: big }
    };
    const image: JobEvent = {
      seq: 2,
      time: Date.now(),
      type: 'output',
      cell_id: 'c1',
      cell_index: 0,
      output: {
        output_type: 'display_data',
        data: { 'image/png': big.slice(10), 'text/plain': '<Figure>' },
        metadata: {}
      }
    };
    const log: JobEvent = {
      seq: 3,
      time: Date.now(),
      type: 'log',
      level: 'info',
      message: big
    };
    for (const ev of [stream, image, log]) {
      const answer = await s.api<{ last_seq: number }>(
        'POST',
        route,
        { events: [ev] },
        token
      );
      expect(answer.status).toBe(200);
      expect(answer.body.last_seq).toBe(ev.seq);
    }
    const events = await allEvents(s, 'j-oversized');
    expect(events.map(e => e.seq)).toEqual([1, 2, 3]);
    for (const ev of events)
      expect(Buffer.byteLength(JSON.stringify(ev))).toBeLessThanOrEqual(
        MAX_EVENT_BYTES
      );
    const text = (events[0].output as { text: string }).text;
    const cutAt = /… \[truncated (\d+) bytes\]\n$/.exec(text);
    expect(cutAt).not.toBeNull();
    const kept = text.length - cutAt![0].length;
    expect(text.slice(0, kept)).toBe(big.slice(0, kept));
    expect(kept + Number(cutAt![1])).toBe(big.length);
    expect(events[1].output).toEqual({
      output_type: 'display_data',
      data: {
        'text/plain': expect.stringMatching(
          /^\[nbqueue: this output is 1\.0 MB, too large to show live; open the result to see it\]$/
        )
      },
      metadata: {}
    });
    expect(String(events[2].message)).toMatch(/… \[truncated \d+ bytes\]\n$/);
  });
});
