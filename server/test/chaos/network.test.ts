/**
 * The runner's link to the sidecar cut for 30 s (a proxy between them holds every byte), and a
 * job's kernel killed in the middle of a cell: the first job ends with all its events, the
 * second fails saying the kernel died, with what it printed before.
 */
import type { JobView } from '../../src/jobs/types';
import { waitFor } from '../helpers';
import {
  ended,
  events,
  printed,
  printingCells,
  problems,
  writeNotebooks
} from './checks';
import { RunnerWatch, kernelOf, killRunners } from './processes';
import { CutProxy } from './proxy';
import { ChaosSidecar, freePort } from './sidecar';

const CUT_MS = 30000;

describe('the runner cut off from the sidecar, a kernel killed', () => {
  let s: ChaosSidecar;
  let proxy: CutProxy;
  let watch: RunnerWatch;
  const ids: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    proxy = new CutProxy(port);
    await proxy.listen();
    s = new ChaosSidecar(port, { publicUrl: proxy.url });
    watch = new RunnerWatch([proxy.url]);
    await s.start();
  });

  afterAll(async () => {
    watch.stop();
    await s.kill();
    await proxy.close();
    killRunners(ids);
  });

  async function submit(name: string, notebook: unknown): Promise<string> {
    const res = await s.api<JobView>('POST', '/api/jobs', {
      profile: 'cpu',
      name,
      notebook
    });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
    return res.body.id;
  }

  test('a 30 s cut while cells run: the job finishes with every event', async () => {
    const nb = writeNotebooks([
      { name: 'cut', cells: printingCells('cut', 3, 20) }
    ]).get('cut');
    const id = await submit('cut', nb);
    await waitFor(
      async () => (await events(s, id)).some(e => e.type === 'output'),
      'the first output'
    );
    proxy.blackhole();
    // The fault itself: 30 s during which nothing reaches the sidecar (after a batch that was
    // already through the proxy when it began, stored within its first seconds).
    const wait = (ms: number) => new Promise(r => setTimeout(r, ms));
    await wait(3000);
    const during = (await events(s, id)).length;
    await wait(CUT_MS - 3000);
    expect((await events(s, id)).length).toBe(during);
    expect((await s.api<JobView>('GET', `/api/jobs/${id}`)).body.state).toBe(
      'running'
    );
    proxy.heal();
    const job = await ended(s, id, 120000);
    expect([job.state, job.reason]).toEqual(['succeeded', null]);
    expect(await problems(s, job, printed('cut', 3, 20))).toEqual([]);
    expect(watch.doubled()).toEqual({});
  }, 180000);

  test('the kernel killed mid-cell: failed, saying the kernel died, partial outputs kept', async () => {
    const nb = writeNotebooks([
      {
        name: 'kernel',
        cells: [
          'print("before", flush=True)',
          'import time\nprint("in the cell", flush=True)\nwhile True:\n    time.sleep(0.1)',
          'print("never")'
        ]
      }
    ]).get('kernel');
    const id = await submit('kernel', nb);
    await waitFor(
      async () => JSON.stringify(await events(s, id)).includes('in the cell'),
      'the long cell to print'
    );
    const kernel = await waitFor(() => kernelOf(id), 'the kernel process');
    process.kill(kernel, 'SIGKILL');
    const job = await ended(s, id);
    expect(job.id).toBe(id);
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/The kernel died .*\(exit code -9\)/);
    expect(await problems(s, job, 'before\nin the cell\n')).toEqual([]);
    const result = (
      await s.api<{ cells: Array<{ outputs: unknown[] }> }>(
        'GET',
        `/api/jobs/${id}/result`
      )
    ).body;
    expect(JSON.stringify(result.cells[1].outputs)).toContain('in the cell');
    expect(result.cells[2].outputs).toEqual([]);
    expect(watch.doubled()).toEqual({});
  });
});
