import * as fs from 'fs';
import * as net from 'net';
import { io, Socket } from 'socket.io-client';
import type { JobEvent, JobView } from '../src/jobs/types';
import {
  code,
  notebook,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';
import { coalesce, replay } from './replay';

/** Real sidecar + real runner (python -m nbqueue.runner) + real ipykernel, on loopback. */

const FINAL = ['succeeded', 'failed', 'cancelled'];

class Collector {
  readonly events: JobEvent[] = [];
  readonly socket: Socket;
  readonly jobs: JobView[] = [];

  constructor(
    url: string,
    token: string,
    readonly jobId: string,
    after = 0
  ) {
    this.socket = io(url, { auth: { token }, transports: ['websocket'] });
    this.socket.on('connect', () =>
      this.socket.emit('subscribe', {
        job_id: jobId,
        after: this.last || after
      })
    );
    this.socket.on('events', (msg: { job_id: string; events: JobEvent[] }) => {
      for (const ev of msg.events)
        if (msg.job_id === jobId && ev.seq > this.last) this.events.push(ev);
    });
    this.socket.on(
      'job',
      (job: JobView) => job.id === jobId && this.jobs.push(job)
    );
  }

  get last(): number {
    return this.events.length ? this.events[this.events.length - 1].seq : 0;
  }

  close(): void {
    this.socket.close();
  }
}

async function finished(
  s: TestSidecar,
  id: string,
  timeoutMs = 60000
): Promise<JobView> {
  return waitFor(
    async () => {
      const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
      return FINAL.includes(job.state) ? job : undefined;
    },
    `job ${id} to end`,
    timeoutMs
  );
}

const streamText = (outputs: Array<Record<string, unknown>>): string =>
  coalesce(outputs as never)
    .filter(o => o.output_type === 'stream')
    .map(o => String(o.text))
    .join('');

describe('a job end to end: sidecar, runner, kernel', () => {
  let s: TestSidecar;
  beforeAll(async () => {
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
  });
  afterAll(() => s.close());

  test('prints, displays, updates a display, clears output and raises: streamed in order, complete, equal to the result', async () => {
    const cells = [
      code('n = 2', { metadata: { tags: ['parameters'] } }),
      code('print("hello", n)\nimport sys; print("warn", file=sys.stderr)'),
      code(
        'from IPython.display import display, HTML\nh = display(HTML("<b>v1</b>"), display_id=True)\n42'
      ),
      code('h.update(HTML("<b>v2</b>"))\nprint("updated")'),
      code(
        'from IPython.display import clear_output\nfor i in range(3):\n    clear_output(wait=True)\n    print(f"progress {i}", flush=True)'
      ),
      code('1/0'),
      code('print("never runs")')
    ];
    const submitted = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook(cells),
      parameters: { n: 5 }
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    const c = new Collector(s.url, s.token, id);
    const job = await finished(s, id);
    await waitFor(() => c.last >= job.last_seq, 'all events on the socket');
    c.close();

    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/ZeroDivisionError: division by zero/);

    // Complete and in order: 1..N with no gap or repeat, equal to what the store has.
    expect(c.events.map(e => e.seq)).toEqual(
      Array.from({ length: job.last_seq }, (_, i) => i + 1)
    );
    const stored = (
      await s.api<{ events: JobEvent[] }>('GET', `/api/jobs/${id}/events`)
    ).body.events;
    expect(stored).toEqual(c.events);

    const types = new Set(c.events.map(e => e.type));
    for (const t of [
      'run_started',
      'cell_started',
      'output',
      'clear_output',
      'update_display_data',
      'execution_count',
      'cell_finished'
    ]) {
      expect(types).toContain(t);
    }
    const started = c.events
      .filter(e => e.type === 'cell_started')
      .map(e => e.cell_id);
    expect(started).not.toContain(cells[6].id);
    expect(
      c.events.find(
        e => e.type === 'cell_finished' && e.cell_id === cells[5].id
      )?.status
    ).toBe('error');

    const result = (
      await s.api<{ cells: Array<Record<string, unknown>> }>(
        'GET',
        `/api/jobs/${id}/result`
      )
    ).body;
    const live = replay(result.cells as never, c.events);
    for (const cell of result.cells) {
      const streamed = live.get(String(cell.id));
      expect(streamed).toBeDefined();
      expect(coalesce((streamed?.outputs ?? []) as never)).toEqual(
        coalesce((cell.outputs ?? []) as never)
      );
      expect(streamed?.execution_count ?? null).toEqual(
        cell.execution_count ?? null
      );
    }
    const byId = (cid: unknown) => live.get(String(cid))?.outputs ?? [];
    expect(streamText(byId(cells[1].id))).toContain('hello 5');
    expect(JSON.stringify(byId(cells[2].id))).toContain('<b>v2</b>');
    expect(streamText(byId(cells[4].id))).toBe('progress 2\n');
    expect(byId(cells[5].id)[0]).toMatchObject({
      output_type: 'error',
      ename: 'ZeroDivisionError'
    });
    // The parameters were injected after the tagged cell, papermill style.
    const injected = result.cells[1] as {
      metadata: { tags: string[] };
      source: string | string[];
    };
    expect(injected.metadata.tags).toContain('injected-parameters');
    expect([injected.source].flat().join('')).toContain('n = 5');
  });

  test('outputs stream while the job runs, not after', async () => {
    const cells = [
      code('print("first", flush=True)'),
      code('import time; time.sleep(1.5)'),
      code('print("last")')
    ];
    const { body } = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook(cells)
    });
    const c = new Collector(s.url, s.token, body.id);
    await waitFor(
      () => c.events.find(e => e.type === 'output'),
      'the first output'
    );
    const atFirstOutput = (await s.api<JobView>('GET', `/api/jobs/${body.id}`))
      .body;
    expect(atFirstOutput.state).toBe('running');
    expect(
      c.events.some(e => e.type === 'cell_started' && e.cell_id === cells[2].id)
    ).toBe(false);
    const job = await finished(s, body.id);
    c.close();
    expect(job.state).toBe('succeeded');
  });

  test('cancel interrupts the running cell and keeps the partial notebook', async () => {
    const cells = [
      code('print("before", flush=True)'),
      code('import time\nfor _ in range(600): time.sleep(0.1)'),
      code('print("after")')
    ];
    const { body } = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook(cells)
    });
    await waitFor(async () => {
      const { events } = (
        await s.api<{ events: JobEvent[] }>(
          'GET',
          `/api/jobs/${body.id}/events`
        )
      ).body;
      return events.some(
        e => e.type === 'cell_started' && e.cell_id === cells[1].id
      );
    }, 'the long cell to start');
    const cancel = await s.api<JobView>('POST', `/api/jobs/${body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.cancel_requested).toBe(true);
    const job = await finished(s, body.id, 30000);
    expect(job.state).toBe('cancelled');
    const result = (
      await s.api<{ cells: Array<{ outputs?: unknown[] }> }>(
        'GET',
        `/api/jobs/${body.id}/result`
      )
    ).body;
    expect(JSON.stringify(result.cells[0].outputs)).toContain('before');
    expect(result.cells[2].outputs ?? []).toEqual([]);
    const again = await s.api<{ error: { code: string } }>(
      'POST',
      `/api/jobs/${body.id}/cancel`
    );
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');
  });

  test('a kernel Python that does not exist fails the job with what to do', async () => {
    const { body } = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook([code('1')]),
      kernel: { name: 'python3', python: '/nonexistent/python' }
    });
    const job = await finished(s, body.id);
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(
      /Could not start the runner with \/nonexistent\/python/
    );
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('a sidecar restart in the middle of a job', () => {
  test('loses no event and no job: the runner retries, the new sidecar re-adopts it', async () => {
    const dir = tmpDir();
    const port = await freePort();
    const config = {
      server: { port },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }]
    };
    let s = await startTestSidecar(config, dir);
    const cells = [
      code(
        'import time\nfor i in range(30):\n    print(f"line {i}", flush=True)\n    time.sleep(0.1)'
      ),
      code('print("done")')
    ];
    const { body } = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook: notebook(cells)
    });
    const before = new Collector(s.url, s.token, body.id);
    await waitFor(
      () => before.events.filter(e => e.type === 'output').length >= 5,
      'some output before the restart'
    );
    before.close();
    await s.close();
    // Down for a while: the runner keeps producing and retrying meanwhile.
    await new Promise(r => setTimeout(r, 1000));
    s = await startTestSidecar(config, dir);
    try {
      const job = await finished(s, body.id);
      expect(job.state).toBe('succeeded');
      const after = new Collector(s.url, s.token, body.id);
      await waitFor(
        () => after.last >= job.last_seq,
        'the backlog after the restart'
      );
      after.close();
      expect(after.events.map(e => e.seq)).toEqual(
        Array.from({ length: job.last_seq }, (_, i) => i + 1)
      );
      const text = streamText(
        after.events
          .filter(e => e.type === 'output')
          .map(e => e.output as Record<string, unknown>)
      );
      expect(text).toBe(
        Array.from({ length: 30 }, (_, i) => `line ${i}\n`).join('') + 'done\n'
      );
      const jobs = (await s.api<{ jobs: JobView[] }>('GET', '/api/jobs')).body
        .jobs;
      expect(jobs.map(j => j.id)).toEqual([body.id]);
      expect(fs.existsSync(s.dbPath)).toBe(true);
    } finally {
      await s.close();
    }
  });
});
