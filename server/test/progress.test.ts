/**
 * Progress by cell and the ETA columns, end to end: a real sidecar, a real runner and kernel
 * running a real .ipynb (written by nbformat.write) whose code cells each wait for a gate file
 * the test creates, so the job moves one code cell at a time. The job's view (socket.io `job`
 * updates, GET, `nbqueue jobs` and `--json`) follows it cell by cell.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { io, Socket } from 'socket.io-client';
import type { JobView } from '../src/jobs/types';
import {
  cli,
  PYTHON,
  startTestSidecar,
  TestSidecar,
  tmpDir,
  waitFor
} from './helpers';

/** Markdown and code cells; code cell k waits for gates/k (the test opens it). */
function writeGated(file: string, gates: string, cells: number): void {
  execFileSync(PYTHON, [
    '-c',
    `import sys, nbformat
gates, n = sys.argv[2], int(sys.argv[3])
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells.append(nbformat.v4.new_markdown_cell("# Gated"))
for k in range(1, n + 1):
    nb.cells.append(nbformat.v4.new_markdown_cell(f"Step {k}"))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import os, time\\n"
        f"while not os.path.exists({gates + '/' + str(k)!r}):\\n"
        "    time.sleep(0.02)\\n"
        f"print('step {k}')"))
nbformat.write(nb, sys.argv[1])`,
    file,
    gates,
    String(cells)
  ]);
}

const BOB = 'bob-token-0123456789abcdef';

describe('progress by cell (real sidecar, runner and kernel)', () => {
  let s: TestSidecar;
  let socket: Socket;
  let bobSocket: Socket;
  const bobViews: JobView[] = [];
  let env: Record<string, string>;
  const views: JobView[] = [];
  let dir: string;

  beforeAll(async () => {
    s = await startTestSidecar({
      auth: { users: [{ token: BOB, user: 'bob' }] },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 1 }]
    });
    bobSocket = io(s.url, { auth: { token: BOB }, transports: ['websocket'] });
    bobSocket.on('job', (job: JobView) => bobViews.push(job));
    await waitFor(() => bobSocket.connected, "bob's socket to connect");
    env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    socket = io(s.url, { auth: { token: s.token }, transports: ['websocket'] });
    socket.on('job', (job: JobView) => views.push(job));
    await waitFor(() => socket.connected, 'the socket to connect');
    dir = tmpDir();
  });
  afterAll(async () => {
    socket.close();
    bobSocket.close();
    await s.close();
  });

  const submit = async (name: string, cells: number) => {
    const gates = path.join(dir, `${name}-gates`);
    fs.mkdirSync(gates);
    const file = path.join(dir, `${name}.ipynb`);
    writeGated(file, gates, cells);
    const r = await cli(['submit', file, '--json'], env);
    expect(r.code).toBe(0);
    return { job: JSON.parse(r.stdout) as JobView, gates };
  };
  const open = (gates: string, k: number) =>
    fs.writeFileSync(path.join(gates, String(k)), '');
  const jobsTable = async () => {
    const r = await cli(['jobs'], env);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    const at = (name: string) => header.indexOf(name);
    return { header, rows, at };
  };

  test('advances cell by cell, live, in GET, nbqueue jobs and --json', async () => {
    const { job, gates } = await submit('a', 3);
    let startedAt = '';
    for (let k = 1; k <= 3; k++) {
      // The live update (socket.io `job`) says which code cell runs: markdown cells not counted.
      const live = await waitFor(
        () => views.find(v => v.id === job.id && v.progress?.cell === k),
        `a job update at code cell ${k}`
      );
      expect(live.progress?.cells).toBe(3);
      expect(live.state).toBe('running');
      const at = live.progress?.cell_started_at as string;
      expect(Date.parse(at)).toBeGreaterThanOrEqual(
        Date.parse(startedAt || at)
      );
      startedAt = at;
      const got = await s.api<JobView>('GET', `/api/jobs/${job.id}`);
      expect(got.body.progress).toEqual(live.progress);
      if (k === 2) {
        const table = await jobsTable();
        expect(table.header).toMatch(/ETA\s+PROGRESS/);
        const row = table.rows.find(r => r.startsWith(job.id)) as string;
        expect(row.slice(table.at('PROGRESS'))).toMatch(/^2\/3, \d+ s/);
        // No job has finished on the profile yet: the end is unknown, never made up.
        expect(row.slice(table.at('ETA'))).toMatch(/^unknown/);
        const json = await cli(['jobs', '--json'], env);
        const listed = (JSON.parse(json.stdout) as JobView[]).find(
          j => j.id === job.id
        ) as JobView;
        expect(listed.progress).toMatchObject({ cell: 2, cells: 3 });
        expect(listed.eta).toEqual({
          start: null,
          end: null,
          basis: 'unknown: no finished jobs on profile cpu yet'
        });
        // Another user gets neither the job nor its progress.
        const other = await s.api('GET', `/api/jobs/${job.id}`, undefined, BOB);
        expect(other.status).toBe(404);
      }
      open(gates, k);
    }
    const done = await waitFor(
      () => views.find(v => v.id === job.id && v.state === 'succeeded'),
      'the job to succeed'
    );
    expect(done.progress).toBeNull();
    expect(done.eta).toBeNull();
    expect(bobViews.filter(v => v.id === job.id)).toEqual([]);
  });

  test('with history, a queued job shows a start range and a running one an end range', async () => {
    const running = await submit('b', 1);
    await waitFor(
      () => views.find(v => v.id === running.job.id && v.progress?.cell === 1),
      'the second job to run'
    );
    const { job: waiting } = await submit('c', 1);
    const table = await jobsTable();
    const eta = (id: string) =>
      (table.rows.find(r => r.startsWith(id)) as string).slice(table.at('ETA'));
    expect(eta(running.job.id)).toMatch(/^ends \d+ s \(\d+-\d+ s\)/);
    expect(eta(waiting.id)).toMatch(/^\d+ s \(\d+-\d+ s\)/);
    const got = await s.api<JobView>('GET', `/api/jobs/${waiting.id}`);
    const start = got.body.eta?.start;
    expect(start).toBeTruthy();
    expect(start?.low).toBeLessThanOrEqual(start?.seconds as number);
    expect(start?.seconds).toBeLessThanOrEqual(start?.high as number);
    expect(got.body.eta_seconds).toBe(start?.seconds);
    open(running.gates, 1);
    open(path.join(dir, 'c-gates'), 1);
    await waitFor(
      () => views.find(v => v.id === waiting.id && v.state === 'succeeded'),
      'the queued job to run and succeed'
    );
  });
});
