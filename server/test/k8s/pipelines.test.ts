/**
 * A pipeline on the Kubernetes backend: three steps, each a Job's pod running the runner image,
 * a value passed from step to step through nbqueue.output and the next step's parameters.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PYTHON, tmpDir, waitFor } from '../helpers';
import { Obj, RunnerHarness, SidecarProcess } from './harness';
import { backendSuite, cluster } from './jobs';

describe('pipelines on kubernetes', () => {
  let sidecar: SidecarProcess;
  let harness: RunnerHarness;

  beforeAll(async () => {
    ({ sidecar, harness } = await backendSuite());
  });
  afterAll(async () => {
    await cluster.clean();
    await harness?.stop();
    await sidecar?.stop();
  });

  test('prepare -> train -> evaluate pass their outputs on as parameters', async () => {
    const dir = tmpDir('nbq-k8s-pipeline-');
    execFileSync(PYTHON, [
      path.join(__dirname, '..', 'fixtures', 'pipelines', 'make.py'),
      dir
    ]);
    const read = (name: string) =>
      JSON.parse(fs.readFileSync(path.join(dir, `${name}.ipynb`), 'utf8'));
    const res = await sidecar.api('POST', '/api/pipelines', {
      name: 'k8s',
      steps: [
        {
          name: 'prepare',
          notebook: read('prepare'),
          profile: 'cpu',
          parameters: { rows: 3 }
        },
        { name: 'train', notebook: read('train'), profile: 'cpu' },
        { name: 'evaluate', notebook: read('evaluate'), profile: 'cpu' }
      ]
    });
    expect(res.status).toBe(201);
    const done = await waitFor(
      async () => {
        const p = (await sidecar.api('GET', `/api/pipelines/${res.body.id}`))
          .body;
        return p.state !== 'running' ? p : null;
      },
      'the pipeline to end',
      200000,
      500
    );
    expect([done.state, done.reason]).toEqual(['succeeded', null]);
    expect(done.steps.map((s: Obj) => s.outputs)).toEqual([
      { rows: 30, dataset: 'set-A' },
      { model: 'set-A:30:0.5' },
      { score: { model: 'set-A:30:0.5', length: 12 } }
    ]);
    const train = await sidecar.job(done.steps[1].job_id);
    expect(train).toMatchObject({
      parameters: { rows: 30, dataset: 'set-A' },
      pipeline_id: done.id,
      pipeline_step: 'train'
    });
  }, 240000);
});
