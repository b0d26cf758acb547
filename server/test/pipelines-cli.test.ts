/**
 * `nbqueue pipeline ...` against a real sidecar with local runners: a YAML file naming
 * notebooks relative to it (written by nbformat, fixtures/pipelines/make.py).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { PipelineView } from '../src/api/contract/pipelines';
import { cli, PYTHON, startTestSidecar, TestSidecar, tmpDir } from './helpers';

describe('nbqueue pipeline', () => {
  let s: TestSidecar;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    expect(
      fs.existsSync(path.join(__dirname, '..', 'dist', 'cli', 'main.js'))
    ).toBe(true);
    s = await startTestSidecar({
      profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
    });
    env = { NBQUEUE_URL: s.url, NBQUEUE_TOKEN: s.token };
    dir = tmpDir('nbq-pipeline-cli-');
    execFileSync(PYTHON, [
      path.join(__dirname, 'fixtures', 'pipelines', 'make.py'),
      path.join(dir, 'notebooks')
    ]);
  }, 60000);
  afterAll(() => s.close());

  test('run --follow on a YAML file: the steps run in order and pass their outputs on', async () => {
    const file = path.join(dir, 'pipeline.yaml');
    fs.writeFileSync(
      file,
      [
        'name: from-yaml',
        'steps:',
        '  - name: prepare',
        '    notebook: notebooks/prepare.ipynb',
        '    profile: cpu',
        '    parameters: {rows: 2}',
        '  - name: train',
        '    notebook: notebooks/train.ipynb',
        '    profile: cpu',
        '  - name: evaluate',
        '    notebook: ./notebooks/evaluate.ipynb',
        '    profile: cpu',
        '    after: [train]',
        ''
      ].join('\n')
    );
    const r = await cli(['pipeline', 'run', file, '--follow', '--json'], env);
    expect(r.stderr).toMatch(/prepare: succeeded/);
    expect(r.code).toBe(0);
    const end = JSON.parse(r.stdout) as PipelineView;
    expect(end).toMatchObject({ name: 'from-yaml', state: 'succeeded' });
    expect(end.steps.map(st => st.outputs)).toEqual([
      { rows: 20, dataset: 'set-A' },
      { model: 'set-A:20:0.5' },
      { score: { model: 'set-A:20:0.5', length: 12 } }
    ]);
    const job = (
      await s.api<{ notebook_path: string }>(
        'GET',
        `/api/jobs/${end.steps[2].job_id}`
      )
    ).body;
    expect(job.notebook_path).toBe('notebooks/evaluate.ipynb');

    const show = await cli(['pipeline', 'show', end.id], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(
      `${end.id}  from-yaml  succeeded (attempt 1)`
    );
    expect(show.stdout).toMatch(
      /train\s+succeeded\s+j-\w+\s+prepare\s+\{"model":"set-A:20:0.5"\}/
    );
    const list = await cli(['pipeline', 'list'], env);
    expect(list.stdout).toMatch(
      new RegExp(`${end.id}\\s+from-yaml\\s+alice\\s+succeeded\\s+3/3`)
    );
    const cancel = await cli(['pipeline', 'cancel', end.id], env);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('already ended succeeded');
  }, 120000);

  test('a JSON file with a cycle is refused naming the steps; a missing notebook names its step', async () => {
    const file = path.join(dir, 'cycle.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        steps: [
          {
            name: 'a',
            notebook: 'notebooks/prepare.ipynb',
            profile: 'cpu',
            after: ['b']
          },
          { name: 'b', notebook: 'notebooks/train.ipynb', profile: 'cpu' }
        ]
      })
    );
    const r = await cli(['pipeline', 'run', file], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'a' -> 'b' -> 'a'");
    const missing = path.join(dir, 'missing.yaml');
    fs.writeFileSync(
      missing,
      'steps:\n  - name: only\n    notebook: nowhere.ipynb\n    profile: cpu\n'
    );
    const m = await cli(['pipeline', 'run', missing], env);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(
      'Step only: cannot read nowhere.ipynb as a notebook'
    );
  });
});
