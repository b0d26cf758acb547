import * as fs from 'fs';
import * as path from 'path';
import type { JobView } from '../src/jobs/types';
import {
  makeNotebooks,
  startTestSidecar,
  TestSidecar,
  VARIANTS,
  waitFor
} from './helpers';

/**
 * Notebooks as Jupyter saves them (nbformat.write: sources as lists of lines, 4.0 to 4.5, no
 * ids, no kernelspec) through the real sidecar and the real runner.
 */

type ErrorBody = { error: { code: string; message: string } };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MB = 1024 * 1024;

describe('notebooks in: on-disk notebooks over REST', () => {
  let s: TestSidecar;
  let dir: string;
  const read = (name: string): Json =>
    JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  const submit = (notebook: unknown) =>
    s.api<JobView & ErrorBody>('POST', '/api/jobs', {
      profile: 'cpu',
      notebook
    });
  const done = (id: string) =>
    waitFor(
      async () => {
        const job = (await s.api<JobView>('GET', `/api/jobs/${id}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(job.state)
          ? job
          : null;
      },
      `job ${id} to end`,
      120000,
      200
    );

  beforeAll(async () => {
    dir = makeNotebooks('--big', 'outputs-30mb.ipynb', '30');
    s = await startTestSidecar({
      limits: { max_notebook_bytes: 10 * MB, max_request_bytes: 40 * MB },
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
  }, 120000);
  afterAll(() => s.close());

  const ids: Record<string, string> = {};

  test('every variant runs to succeeded with the right outputs', async () => {
    for (const name of VARIANTS) {
      const res = await submit(read(name));
      expect(res.status).toBe(201);
      ids[name] = res.body.id;
    }
    for (const name of VARIANTS) {
      const job = await done(ids[name]);
      expect([name, job.state, job.reason]).toEqual([name, 'succeeded', null]);
      // Stored as nbformat 4.5: strings, ids, no outputs, python3 when it named no kernel.
      const stored = s.store.getNotebook(ids[name]) as Json;
      expect(stored.nbformat_minor).toBe(5);
      expect(stored.cells[1].source).toBe(
        "x = 6\ny = 7\nprint('product', x * y)\nprint('second line')"
      );
      expect(stored.cells[1].outputs).toEqual([]);
      expect(stored.cells.every((c: Json) => typeof c.id === 'string')).toBe(
        true
      );
      expect(stored.metadata.kernelspec.name).toBe('python3');
      const result = (await s.api<Json>('GET', `/api/jobs/${ids[name]}/result`))
        .body;
      const [, first, second] = result.cells;
      expect(first.outputs).toEqual([
        expect.objectContaining({
          output_type: 'stream',
          name: 'stdout',
          text: 'product 42\nsecond line\n'
        })
      ]);
      expect(second.outputs).toEqual([
        expect.objectContaining({ name: 'stderr', text: 'to stderr\n' }),
        expect.objectContaining({
          output_type: 'execute_result',
          data: { 'text/plain': '42' }
        })
      ]);
      expect(result.cells[0].attachments['dot.png']['image/png']).toMatch(
        /^iVBOR/
      );
    }
  }, 240000);

  test('a re-run of a job submitted from disk runs the same notebook', async () => {
    const res = await s.api<JobView>(
      'POST',
      `/api/jobs/${ids['v4.0.ipynb']}/rerun`,
      {}
    );
    expect(res.status).toBe(201);
    expect((await done(res.body.id)).state).toBe('succeeded');
    expect(s.store.getNotebook(res.body.id)).toEqual(
      s.store.getNotebook(ids['v4.0.ipynb'])
    );
  }, 120000);

  test('30 MB of outputs over REST: left out before the 10 MB check, and the job runs', async () => {
    const text = fs.readFileSync(path.join(dir, 'outputs-30mb.ipynb'), 'utf8');
    expect(text.length).toBeGreaterThan(30 * MB);
    const res = await submit(JSON.parse(text));
    expect(res.status).toBe(201);
    expect((s.store.getNotebook(res.body.id) as Json).cells[0].outputs).toEqual(
      []
    );
    expect((await done(res.body.id)).state).toBe('succeeded');
  }, 120000);

  test('a job whose outputs pass the notebook limit still delivers its executed notebook', async () => {
    const nb = read('v4.4.ipynb');
    nb.cells = [nb.cells[1]];
    nb.cells[0].source = ["print('y' * (12 * 1024 * 1024))\n"];
    const res = await submit(nb);
    expect(res.status).toBe(201);
    const ended = await done(res.body.id);
    expect([ended.state, ended.reason]).toEqual(['succeeded', null]);
    // Uploaded as a file of its own (server/src/results) and served from it.
    expect(s.store.results.get(res.body.id)?.bytes).toBeGreaterThan(12 * MB);
    const result = await s.api<Json>('GET', `/api/jobs/${res.body.id}/result`);
    expect(result.status).toBe(200);
    const printed = result.body.cells[0].outputs[0];
    expect(printed.text.length).toBe(12 * MB + 1);
  }, 120000);

  test('a request over limits.max_request_bytes gets 413 saying how to send less', async () => {
    const nb = read('v4.4.ipynb');
    nb.cells[1].outputs[0].text = 'x'.repeat(41 * MB);
    const res = await submit(nb);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('notebook_too_large');
    expect(res.body.error.message).toMatch(
      /^The request is larger than the 40 MB a submit may send \(limits.max_request_bytes\)\..*nbqueue submit/
    );
  });

  test('control routes take a few KB', async () => {
    const res = await s.api<ErrorBody>(
      'POST',
      `/api/jobs/${ids['v4.0.ipynb']}/rerun`,
      { pad: 'x'.repeat(12 * MB) }
    );
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('request_too_large');
    expect(res.body.error.message).toMatch(/4 KB this route takes/);
  });

  const bad: Array<[string, (nb: Json) => unknown, string, RegExp]> = [
    [
      'an output without output_type',
      nb => {
        delete nb.cells[2].outputs[0].output_type;
        return nb;
      },
      'invalid_notebook',
      /^The notebook is not a valid nbformat v4\.4 notebook: cells\[2\]\.outputs\[0\]: 'output_type' is required\. /
    ],
    [
      'nbformat 3',
      nb => ({ ...nb, nbformat: 3 }),
      'invalid_notebook',
      /nbformat: is 3; .*Open it in JupyterLab and save it/
    ],
    [
      'a cell without source',
      nb => {
        delete nb.cells[1].source;
        return nb;
      },
      'invalid_notebook',
      /cells\[1\]: 'source' is required/
    ],
    [
      'duplicate ids',
      nb => {
        nb.nbformat_minor = 5;
        nb.cells.forEach((c: Json) => (c.id = 'same'));
        return nb;
      },
      'invalid_notebook',
      /cells\[1\]\.id: 'same' is also the id of cells\[0\]/
    ],
    [
      'a list',
      nb => nb.cells,
      'invalid_notebook',
      /the notebook must be a JSON object, not a list/
    ],
    [
      'an R notebook',
      () => read('ir.ipynb'),
      'unsupported_kernel',
      /^This notebook uses the 'ir' kernel \(R\); nbqueue runs Python notebooks only\./
    ],
    [
      'a Julia notebook',
      () => read('julia.ipynb'),
      'unsupported_kernel',
      /'julia-1.10' kernel \(Julia\)/
    ]
  ];

  test.each(bad)(
    '%s: 400 naming it, nothing stored',
    async (_what, make, code, message) => {
      const before = s.store.listJobs({}).length;
      const res = await submit(make(read('v4.4.ipynb')));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toMatch(message);
      expect(s.store.listJobs({}).length).toBe(before);
    }
  );
});
