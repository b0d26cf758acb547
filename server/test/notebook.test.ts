import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ApiError } from '../src/errors';
import type { Notebook } from '../src/jobs/types';
import {
  checkNotebook,
  findProblem,
  jobNotebook,
  notebookKernel,
  resultNotebook,
  stripOutputs
} from '../src/notebook';
import { NBFORMAT_SCHEMA_DIR, schemaFile } from '../src/notebook/schema';
import { makeNotebooks, PYTHON, VARIANTS } from './helpers';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('notebooks in: the official nbformat schemas, normalisation, kernels', () => {
  let dir: string;
  const read = (name: string): Json =>
    JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  beforeAll(() => {
    dir = makeNotebooks();
  });

  test('the vendored schemas are byte for byte the installed nbformat package', () => {
    const installed = execFileSync(PYTHON, [
      '-c',
      'import nbformat, os; print(os.path.join(os.path.dirname(nbformat.__file__), "v4"))'
    ])
      .toString()
      .trim();
    const vendored = fs.readdirSync(NBFORMAT_SCHEMA_DIR).sort();
    expect(vendored).toEqual(
      [0, 1, 2, 3, 4, 5].map(m => `nbformat.v4.${m}.schema.json`)
    );
    for (const m of [0, 1, 2, 3, 4, 5]) {
      const name = `nbformat.v4.${m}.schema.json`;
      expect(fs.readFileSync(schemaFile(m))).toEqual(
        fs.readFileSync(path.join(installed, name))
      );
    }
  });

  test.each(VARIANTS)(
    '%s as nbformat wrote it is valid and normalised to 4.5',
    name => {
      const disk = read(name);
      expect(Array.isArray(disk.cells[1].source)).toBe(true);
      expect(findProblem(disk)).toBeNull();
      const checked = checkNotebook(disk);
      if (!checked.ok) throw new Error(checked.problem.problem);
      const nb = checked.notebook as Json;
      expect(nb.nbformat_minor).toBe(5);
      expect(nb.cells[1].source).toBe(
        "x = 6\ny = 7\nprint('product', x * y)\nprint('second line')"
      );
      expect(nb.cells[1].outputs[0].text).toBe('stale\nlines\n');
      expect(nb.cells[2].outputs[0].data['text/plain']).toBe('stale\nresult');
      const ids = nb.cells.map((c: Json) => c.id);
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
      // The normalised notebook is valid 4.5, and the input was left as it was.
      expect(findProblem(nb)).toBeNull();
      expect(disk).toEqual(read(name));
    }
  );

  test('a job notebook has no outputs and keeps attachments and metadata; no kernelspec means python3', () => {
    const disk = read('v4.5-no-kernelspec.ipynb');
    disk.cells[1].metadata = { tags: ['parameters'] };
    const nb = jobNotebook(disk, 1024 * 1024) as Json;
    expect(nb.cells[1].outputs).toEqual([]);
    expect(nb.cells[1].execution_count).toBeNull();
    expect(nb.cells[1].metadata).toEqual({ tags: ['parameters'] });
    expect(nb.cells[0].attachments['dot.png']['image/png']).toMatch(/^iVBOR/);
    expect(nb.cells.map((c: Json) => c.id)).toEqual(
      disk.cells.map((c: Json) => c.id)
    );
    expect(nb.metadata.kernelspec).toMatchObject({
      name: 'python3',
      language: 'python'
    });
  });

  test('the result keeps its outputs; JSON mime values are left as they are', () => {
    const disk = read('v4.4.ipynb');
    disk.cells[2].outputs.push({
      output_type: 'display_data',
      metadata: {},
      data: {
        'application/json': ['a', 'b'],
        'application/vnd.nbqueue.metrics+json': { version: 1, series: [] },
        'text/html': ['<b>', 'x</b>']
      }
    });
    const nb = resultNotebook(disk) as Json;
    const data = nb.cells[2].outputs[1].data;
    expect(data['application/json']).toEqual(['a', 'b']);
    expect(data['application/vnd.nbqueue.metrics+json']).toEqual({
      version: 1,
      series: []
    });
    expect(data['text/html']).toBe('<b>x</b>');
    expect(nb.cells[1].outputs[0].text).toBe('stale\nlines\n');
  });

  const problem = (nb: unknown): string => {
    const p = findProblem(nb);
    return p ? `${p.path}: ${p.problem}` : 'valid';
  };

  test('the first problem is named by its JSON path', () => {
    const nb = read('v4.4.ipynb');
    nb.cells[1].outputs[0] = { name: 'stdout', text: 'x' };
    expect(problem(nb)).toBe("cells[1].outputs[0]: 'output_type' is required");

    const noSource = read('v4.5-no-kernelspec.ipynb');
    delete noSource.cells[2].source;
    expect(problem(noSource)).toBe("cells[2]: 'source' is required");

    const badSource = read('v4.2.ipynb');
    badSource.cells[1].source = ['a', 3];
    expect(problem(badSource)).toBe(
      'cells[1].source: must be a string or a list of strings, not a list'
    );

    const dup = read('v4.5-no-kernelspec.ipynb');
    dup.cells[2].id = dup.cells[0].id;
    expect(problem(dup)).toBe(
      `cells[2].id: '${dup.cells[0].id}' is also the id of cells[0]; cell ids must be unique`
    );

    const badId = read('v4.5-no-kernelspec.ipynb');
    badId.cells[0].id = 'has space';
    expect(problem(badId)).toMatch(
      /^cells\[0\]\.id: "has space" does not match/
    );

    const idIn44 = read('v4.4.ipynb');
    idIn44.cells[0].id = 'abc';
    expect(problem(idIn44)).toBe(
      "cells[0]: 'id' is not allowed here (cell ids came with nbformat 4.5; this notebook says 4.4)"
    );

    const badMime = read('v4.4.ipynb');
    badMime.cells[2].outputs[0].data['text/plain'] = 5;
    expect(problem(badMime)).toBe(
      `cells[2].outputs[0].data["text/plain"]: must be a string or a list of strings, not a number`
    );

    const stream = read('v4.4.ipynb');
    stream.cells[1].outputs[0].name = 42;
    expect(problem(stream)).toBe(
      'cells[1].outputs[0].name: must be a string, not a number'
    );

    const widget = read('v4.4.ipynb');
    widget.cells[0].cell_type = 'widget';
    expect(problem(widget)).toBe(
      'cells[0].cell_type: "widget" is not a cell type; use "code", "markdown" or "raw"'
    );

    expect(problem({ ...read('v4.4.ipynb'), nbformat: 3 })).toMatch(
      /^nbformat: is 3; nbqueue takes nbformat 4 notebooks/
    );
    expect(problem({ ...read('v4.4.ipynb'), cells: 'x' })).toBe(
      'cells: must be a list, not a string'
    );
    expect(problem({ ...read('v4.4.ipynb'), metadata: [] })).toBe(
      'metadata: must be an object, not a list'
    );
    expect(problem({ ...read('v4.4.ipynb'), extra: 1 })).toBe(
      ": 'extra' is not allowed here"
    );
    expect(problem([1, 2])).toBe(': must be a JSON object, not a list');
    const kernelspec = read('v4.4.ipynb');
    delete kernelspec.metadata.kernelspec.display_name;
    expect(problem(kernelspec)).toBe(
      "metadata.kernelspec: 'display_name' is required"
    );
  });

  test('a newer minor version is checked against 4.5, as nbformat does', () => {
    const nb = read('v4.5-no-kernelspec.ipynb');
    nb.nbformat_minor = 7;
    expect(findProblem(nb)).toBeNull();
    expect(findProblem({ ...nb, cells: [{}] })?.version).toBe('4.5');
  });

  test('invalid notebooks answer invalid_notebook with the path and a fix', () => {
    const nb = read('v4.4.ipynb');
    delete nb.cells[1].outputs[0].output_type;
    let err: ApiError | undefined;
    try {
      jobNotebook(nb, 1e9);
    } catch (e) {
      err = e as ApiError;
    }
    expect(err?.status).toBe(400);
    expect(err?.code).toBe('invalid_notebook');
    expect(err?.message).toBe(
      "The notebook is not a valid nbformat v4.4 notebook: cells[1].outputs[0]: 'output_type' is required. Fix that cell or field (or the program that wrote the file), or open the notebook in JupyterLab, save it and submit again."
    );
  });

  test.each([
    [
      'ir.ipynb',
      /^This notebook uses the 'ir' kernel \(R\); nbqueue runs Python notebooks only\./
    ],
    ['julia.ipynb', /^This notebook uses the 'julia-1.10' kernel \(Julia\)/]
  ])('%s is refused: nbqueue runs Python', (name, message) => {
    expect(() => jobNotebook(read(name), 1e9)).toThrow(message);
    try {
      jobNotebook(read(name), 1e9);
    } catch (e) {
      expect((e as ApiError).code).toBe('unsupported_kernel');
    }
  });

  test('the kernel: language first, then language_info, then the name', () => {
    const kernel = (metadata: Json) =>
      notebookKernel({
        nbformat: 4,
        nbformat_minor: 5,
        metadata,
        cells: []
      } as Notebook);
    expect(kernel({})).toEqual({
      name: 'python3',
      language: null,
      python: true
    });
    expect(
      kernel({
        kernelspec: { name: 'myenv', display_name: 'x', language: 'python' }
      }).python
    ).toBe(true);
    expect(
      kernel({ kernelspec: { name: 'conda-env-ml-py', display_name: 'x' } })
        .python
    ).toBe(true);
    expect(
      kernel({ kernelspec: { name: 'ir', display_name: 'R' } }).python
    ).toBe(false);
    expect(
      kernel({
        language_info: { name: 'python' },
        kernelspec: { name: 'weird', display_name: 'x' }
      }).python
    ).toBe(true);
    expect(
      kernel({
        kernelspec: { name: 'python3', display_name: 'x', language: 'R' }
      }).python
    ).toBe(false);
  });

  test('too large without outputs: 413 naming the large part', () => {
    const nb = read('v4.5-no-kernelspec.ipynb');
    nb.cells[0].attachments['big.png'] = {
      'image/png': 'A'.repeat(3 * 1024 * 1024)
    };
    nb.cells[1].outputs[0].text = 'x'.repeat(5 * 1024 * 1024);
    expect(() => jobNotebook(nb, 4 * 1024 * 1024)).not.toThrow();
    expect(() => jobNotebook(nb, 2 * 1024 * 1024)).toThrow(
      /^The notebook is 3.0 MB without its outputs, over the 2.0 MB limit \(limits.max_notebook_bytes\); most of it is cell attachments \(pasted images\) \(3.0 MB, the largest 3.0 MB in cells\[0\]\)\. Remove large pasted images/
    );
  });

  test('stripOutputs leaves anything that is not a notebook as it is', () => {
    expect(stripOutputs(5)).toBe(5);
    expect(stripOutputs({ cells: 'x' })).toEqual({ cells: 'x' });
    expect(
      stripOutputs({
        cells: [
          {
            cell_type: 'code',
            outputs: [1],
            execution_count: 2,
            attachments: {}
          },
          3
        ]
      })
    ).toEqual({
      cells: [
        {
          cell_type: 'code',
          outputs: [],
          execution_count: null,
          attachments: {}
        },
        3
      ]
    });
  });
});
