import type * as nbformat from '@jupyterlab/nbformat';
import type { KernelMessage } from '@jupyterlab/services';

import {
  parametersFromNotebook,
  parametersFromRows,
  parseParameters,
  parseValue,
  pythonLiteralToJson
} from '../submit/parameters';
import { parseUserExpression, unrepr } from '../submit/environment';
import { profileLabel } from '../submit/format';
import { resultPath } from '../jobs/result';

describe('parameters', () => {
  it('reads simple name = literal lines of the parameters cell', () => {
    const source = [
      '# Parameters',
      'epochs = 3',
      'lr: float = 1e-3  # learning rate',
      "optimizer = 'adam'",
      'tag = "a#b"',
      'debug = False',
      'seed = None',
      'layers = [64, 32,]',
      "shape = (3, 'x')",
      "config = {'a': 1, 'b': True}",
      'count = "3"',
      'path = np.pi',
      'x == 1',
      'if True:',
      '    nested = 1',
      'epochs = 5'
    ].join('\n');
    expect(parseParameters(source)).toEqual([
      { name: 'epochs', text: '5' },
      { name: 'lr', text: '0.001' },
      { name: 'optimizer', text: 'adam' },
      { name: 'tag', text: 'a#b' },
      { name: 'debug', text: 'false' },
      { name: 'seed', text: 'null' },
      { name: 'layers', text: '[64,32]' },
      { name: 'shape', text: '[3,"x"]' },
      { name: 'config', text: '{"a":1,"b":true}' },
      { name: 'count', text: '"3"' }
    ]);
  });

  it('finds the cell tagged parameters', () => {
    const cells = [
      { cell_type: 'code', source: 'a = 1', metadata: {} },
      {
        cell_type: 'code',
        source: ['b = 2\n', 'c = "x"'],
        metadata: { tags: ['parameters'] }
      }
    ] as nbformat.ICell[];
    expect(parametersFromNotebook(cells)).toEqual([
      { name: 'b', text: '2' },
      { name: 'c', text: 'x' }
    ]);
    expect(parametersFromNotebook([])).toEqual([]);
  });

  it('sends values as JSON when they parse as JSON, else as strings', () => {
    expect(parseValue('3')).toBe(3);
    expect(parseValue('"3"')).toBe('3');
    expect(parseValue('adam')).toBe('adam');
    expect(parseValue('[1, 2]')).toEqual([1, 2]);
    expect(
      parametersFromRows([
        { name: 'epochs', text: '3' },
        { name: ' ', text: 'ignored' },
        { name: 'opt', text: 'adam' }
      ])
    ).toEqual({ epochs: 3, opt: 'adam' });
  });

  it('rejects what is not a literal', () => {
    expect(pythonLiteralToJson('foo(1)')).toBeUndefined();
    expect(pythonLiteralToJson("f'x'")).toBeUndefined();
    expect(pythonLiteralToJson("'unterminated")).toBeUndefined();
    expect(pythonLiteralToJson("'it\\'s'")).toBe("it's");
  });
});

describe('kernel environment', () => {
  it('reads the repr of the json.dumps user expression', () => {
    const repr = String.raw`'{"python": "C:\\\\Python\\\\python.exe", "cwd": "/home/o\'brien"}'`;
    expect(JSON.parse(unrepr(repr))).toEqual({
      python: 'C:\\Python\\python.exe',
      cwd: "/home/o'brien"
    });
    expect(
      parseUserExpression(
        {
          status: 'ok',
          execution_count: 1,
          user_expressions: {
            nbqueue_env: {
              status: 'ok',
              data: {
                'text/plain': `'{"python": {"version": "3.11.4", "executable": "/usr/bin/python3"}, "packages": [], "cwd": "/tmp", "git": null}'`
              },
              metadata: {}
            }
          }
        } as KernelMessage.IExecuteReplyMsg['content'],
        'python3'
      )
    ).toEqual({
      kernel: 'python3',
      python: { version: '3.11.4', executable: '/usr/bin/python3' },
      packages: [],
      conda_env: null,
      cwd: '/tmp',
      git: null
    });
  });

  it('explains a kernel that cannot evaluate it', () => {
    expect(() =>
      parseUserExpression(
        {
          status: 'ok',
          execution_count: 1,
          user_expressions: { nbqueue_env: { status: 'error', evalue: 'nope' } }
        } as KernelMessage.IExecuteReplyMsg['content'],
        'python3'
      )
    ).toThrow(/could not report its environment: nope/);
  });
});

describe('texts', () => {
  it('labels a profile with its resources and load', () => {
    expect(
      profileLabel({
        name: 'gpu-1',
        description: '',
        cpus: 8,
        gpus: 1,
        memory: '32Gi',
        capacity: 2,
        running: 2,
        queued: 3,
        free: 0,
        gpu_type: null,
        gpu_resource: 'nvidia.com/gpu',
        gpu_free: null
      })
    ).toBe('gpu-1 — 8 CPU · 1 GPU · 32Gi — 0 of 2 free · 3 queued');
  });

  it('saves the result next to the original', () => {
    expect(
      resultPath({ id: 'j-1', notebook_path: 'examples/train.ipynb' })
    ).toBe('examples/train-j-1.ipynb');
    expect(resultPath({ id: 'j-1', notebook_path: 'train.ipynb' })).toBe(
      'train-j-1.ipynb'
    );
    expect(resultPath({ id: 'j-1', notebook_path: null })).toBe(
      'nbqueue-j-1.ipynb'
    );
  });
});
