/**
 * A subset of the notebook corpus (runner-image/tests/corpus, as written on disk: sources as
 * lists of lines, nbformat 4.5) through the Kubernetes backend: each job a pod of the runner
 * image, its sidecar from the sidecar image. Each ends as the corpus table of docs/protocol.md
 * says, with the outputs its cells give.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO } from '../helpers';
import {
  Cluster,
  Obj,
  RunnerHarness,
  SidecarProcess,
  freePort,
  runNotebookFile
} from './harness';

const CORPUS = path.join(REPO, 'runner-image/tests/corpus');
const cluster = new Cluster();

/** The corpus table of docs/protocol.md: notebook -> nbqueue's end state. */
function table(): Map<string, string> {
  const doc = fs.readFileSync(path.join(REPO, 'docs/protocol.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(
    /^\| `([^`]+\.ipynb)`\s*\|[^|]*\|\s*\w+\s*\|\s*(\w+)\s*\|/gm
  ))
    rows.set(m[1], m[2]);
  return rows;
}

function corpusEntry(name: string): Obj {
  const entries = JSON.parse(
    fs.readFileSync(path.join(CORPUS, 'corpus.json'), 'utf8')
  ).notebooks as Obj[];
  return entries.find(e => e.name === name);
}

/** Each code cell's outputs as text: streams, text/plain and text/markdown, error names. */
function outputs(nb: Obj): string[] {
  const text = (v: unknown) => (Array.isArray(v) ? v.join('') : String(v));
  return nb.cells
    .filter((c: Obj) => c.cell_type === 'code')
    .map((c: Obj) =>
      (c.outputs as Obj[])
        .map(o =>
          o.output_type === 'stream'
            ? text(o.text)
            : o.output_type === 'error'
              ? `${o.ename}: ${o.evalue}`
              : [o.data?.['text/plain'], o.data?.['text/markdown']]
                  .filter(x => x !== undefined)
                  .map(text)
                  .join(' ')
        )
        .join('\n')
    );
}

describe('the notebook corpus on Kubernetes', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;
  const expected = table();

  beforeAll(async () => {
    await cluster.clean();
    sidecar = new SidecarProcess(await freePort());
    await sidecar.start();
    harness = new RunnerHarness(cluster);
    harness.start();
  });

  afterAll(async () => {
    await harness?.stop();
    await sidecar?.stop();
    await cluster.clean();
  });

  async function run(name: string): Promise<{ job: Obj; out: string[] }> {
    const file = path.join(CORPUS, name);
    // As written on disk: every source a list of lines.
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(onDisk.cells.every((c: Obj) => Array.isArray(c.source))).toBe(true);
    const job = await runNotebookFile(
      sidecar,
      'cpu',
      file,
      180000,
      corpusEntry(name)?.parameters ?? undefined
    );
    expect(job.state).toBe(expected.get(name));
    const result = await sidecar.api('GET', `/api/jobs/${job.id}/result`);
    expect(result.status).toBe(200);
    const nb =
      typeof result.body === 'string' ? JSON.parse(result.body) : result.body;
    return { job, out: outputs(nb) };
  }

  test('the corpus table has the notebooks run here', () => {
    for (const name of [
      'display_update.ipynb',
      'exit_zero.ipynb',
      'unicode_rtl.ipynb',
      'parameters_all_types.ipynb',
      'error_middle_cell.ipynb'
    ])
      expect(expected.get(name)).toMatch(/^(succeeded|failed)$/);
  });

  test('display_update.ipynb: displays updated by id from later cells', async () => {
    const { out } = await run('display_update.ipynb');
    // Every display with id "progress" shows its last value, in the cells that made them.
    expect(out[0]).toContain("'third value'");
    expect(out[0]).toContain('other, updated');
    expect(out[0]).not.toContain("'first value'");
    expect(out[1]).toContain('updated from the next cell');
    expect(out[2]).toContain("'third value'");
    expect(out[3]).toBe('');
  });

  test('exit_zero.ipynb: sys.exit(0) stops the run early and the job succeeds', async () => {
    const { job, out } = await run('exit_zero.ipynb');
    expect(job.reason).toMatch(/stopped at cell 2 \(SystemExit\)/);
    expect(out[0]).toBe('before\n');
    expect(out.join('')).not.toContain('never printed');
  });

  test('unicode_rtl.ipynb: unicode, emoji and right-to-left text come back intact', async () => {
    const { out } = await run('unicode_rtl.ipynb');
    expect(out[0]).toContain('Grüße, naïve café — ∑ ∞ ≠');
    expect(out[0]).toContain('emoji: 🎉🐍👩‍💻🇫🇷');
    expect(out[0]).toContain('עברית: שלום עולם');
    expect(out[0]).toContain('العربية: مرحبا بالعالم');
    expect(out[1]).toContain('mixed: abc שלום 123 مرحبا');
  });

  test('parameters_all_types.ipynb: parameters of every JSON type are injected', async () => {
    const { out } = await run('parameters_all_types.ipynb');
    const printed = out.find(o => o.includes('count int')) as string;
    expect(printed).toContain('count int 3');
    expect(printed).toContain('ratio float 0.25');
    expect(printed).toContain('whole float 1.0');
    expect(printed).toContain('flag bool True');
    expect(printed).toContain('nothing NoneType None');
    expect(printed).toContain("name str 'héllo wörld ✓ שלום 🎉'");
    expect(printed).toContain("items list [1, 'two', None, [3.5, False]]");
    expect(out[out.length - 1]).toContain(
      "(True, 7.0, '🎉 םולש ✓ dlröw olléh')"
    );
  });

  test('error_middle_cell.ipynb: the error fails the job, later cells do not run', async () => {
    const { job, out } = await run('error_middle_cell.ipynb');
    expect(job.reason).toMatch(/Cell 2 raised KeyError/);
    expect(out[0]).toBe('one\n');
    expect(out[1]).toContain("KeyError: 'missing'");
    expect(out.join('')).not.toContain('never printed');
  });
});
