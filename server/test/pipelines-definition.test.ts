/**
 * A pipeline's definition, as POST /api/pipelines checks it: unique names, `after` defaulted,
 * unknown names and cycles refused naming the steps (through the contract's body schema, as
 * the route and startPipeline parse it).
 */
import { pipelineBodySchema } from '../src/api/contract/pipelines';
import { parse } from '../src/api/validate';
import { parseConfig } from '../src/config/load';
import { ApiError } from '../src/errors';
import { findCycle, descendants } from '../src/pipelines/definition';
import { code, notebook } from './helpers';

const config = parseConfig({
  profiles: [{ name: 'cpu', cpus: 1, gpus: 0, memory: '1Gi', capacity: 2 }]
});
const schema = pipelineBodySchema(
  config,
  () => new Date('2026-01-02T03:04:05Z')
);
const nb = notebook([code('x = 1')]);
const step = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  notebook: nb,
  profile: 'cpu',
  ...extra
});

function refusal(body: unknown): {
  status: number;
  code: string;
  message: string;
} {
  try {
    parse(schema, body);
  } catch (err) {
    if (err instanceof ApiError)
      return { status: err.status, code: err.code, message: err.message };
    throw err;
  }
  throw new Error('the body was taken');
}

describe('pipeline definitions', () => {
  test('"after" absent waits for the previous step; [] for none; the name defaults to the steps', () => {
    const body = parse(schema, {
      steps: [
        step('prepare', { parameters: { rows: 3 } }),
        step('train'),
        step('lint', { after: [] }),
        step('evaluate', { after: ['train', 'lint'] })
      ]
    });
    expect(body.steps.map(s => [s.name, s.after])).toEqual([
      ['prepare', []],
      ['train', ['prepare']],
      ['lint', []],
      ['evaluate', ['train', 'lint']]
    ]);
    expect(body.name).toBe('prepare → train → lint → evaluate');
    expect(body.steps[0].submission.spec.parameters).toEqual({ rows: 3 });
    expect(body.steps[0].submission.queue).toBe('cpu');
  });

  test('a cycle is refused naming the steps along it', () => {
    const r = refusal({
      name: 'loop',
      steps: [
        step('a', { after: ['c'] }),
        step('b', { after: ['a'] }),
        step('c', { after: ['b'] }),
        step('d')
      ]
    });
    expect(r.status).toBe(400);
    expect(r.code).toBe('invalid_pipeline');
    expect(r.message).toContain("'a' -> 'b' -> 'c' -> 'a'");
  });

  test('a step waiting for itself, an unknown step, a duplicate name are refused by name', () => {
    expect(refusal({ steps: [step('a', { after: ['a'] })] })).toMatchObject({
      code: 'invalid_pipeline',
      message: "Step 'a' waits for itself."
    });
    const unknown = refusal({
      steps: [step('prepare'), step('train', { after: ['prepar'] })]
    });
    expect(unknown.code).toBe('invalid_pipeline');
    expect(unknown.message).toBe(
      "Step 'train' waits for 'prepar', which is not a step of this pipeline; the steps are 'prepare', 'train'."
    );
    const twice = refusal({ steps: [step('a'), step('b'), step('a')] });
    expect(twice).toMatchObject({
      code: 'invalid_pipeline',
      message:
        "Two steps are named 'a'; step names must be unique in a pipeline."
    });
  });

  test("bad step names, no steps, and a step's job fields are refused naming the step", () => {
    expect(refusal({ steps: [step('has space')] })).toMatchObject({
      code: 'invalid_pipeline',
      message: expect.stringContaining('"has space" is not valid')
    });
    expect(refusal({ steps: [] })).toMatchObject({
      code: 'invalid_pipeline',
      message: 'A pipeline needs at least one step.'
    });
    expect(
      refusal({ steps: [step('a'), step('b', { profile: 'gpu' })] })
    ).toEqual({
      status: 400,
      code: 'unknown_profile',
      message: "Step 'b': Profile 'gpu' does not exist; choose one of cpu."
    });
    expect(
      refusal({ steps: [step('a', { parameters: { 'not ok': 1 } })] })
    ).toMatchObject({ code: 'invalid_parameter' });
    expect(
      refusal({ steps: [step('a', { notebook: { cells: 'no' } })] })
    ).toMatchObject({ code: 'invalid_notebook' });
  });

  test('findCycle and descendants', () => {
    expect(
      findCycle([
        { name: 'a', after: [] },
        { name: 'b', after: ['a'] }
      ])
    ).toBeNull();
    const steps = [
      { name: 'a', after: [] },
      { name: 'b', after: ['a'] },
      { name: 'c', after: ['b'] },
      { name: 'd', after: [] },
      { name: 'e', after: ['d', 'c'] }
    ];
    expect([...descendants(steps, 'b')].sort()).toEqual(['c', 'e']);
    expect([...descendants(steps, 'd')]).toEqual(['e']);
  });
});
