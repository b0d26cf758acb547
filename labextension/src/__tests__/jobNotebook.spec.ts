import type * as nbformat from '@jupyterlab/nbformat';
import { NotebookModel } from '@jupyterlab/notebook';

import { jobNotebook } from '../submit/jobNotebook';

const PLOT = 'iVBORw0KGgo'.repeat(1000);

/** A notebook as an afternoon's work leaves it on disk: nbformat 4.4, no ids. */
function worked(): nbformat.INotebookContent {
  return {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3' },
      language_info: { name: 'python' },
      papermill: { parameters: { lr: 0.1 } }
    },
    cells: [
      {
        cell_type: 'markdown',
        metadata: { tags: ['title'] },
        source: ['# Loss\n', '![chart](attachment:chart.png)'],
        attachments: { 'chart.png': { 'image/png': PLOT } }
      },
      {
        cell_type: 'code',
        metadata: { tags: ['parameters'], scrolled: true },
        execution_count: 7,
        source: ['lr = 0.1\n', 'steps = 20'],
        outputs: [
          {
            output_type: 'display_data',
            data: { 'image/png': PLOT, 'text/plain': ['<Figure>'] },
            metadata: {}
          },
          { output_type: 'stream', name: 'stdout', text: ['step 1\n'] }
        ]
      },
      {
        cell_type: 'raw',
        metadata: { format: 'text/x-rst' },
        source: 'raw text'
      }
    ]
  };
}

describe('jobNotebook', () => {
  it('sends code cells without outputs or execution counts', () => {
    const sent = jobNotebook(worked(), ['a', 'b', 'c']);
    const code = sent.cells[1] as nbformat.ICodeCell;
    expect(code.outputs).toEqual([]);
    expect(code.execution_count).toBeNull();
    expect(JSON.stringify(sent)).not.toContain('step 1');
  });

  it('keeps sources, attachments, cell and notebook metadata', () => {
    const input = worked();
    const sent = jobNotebook(input, ['a', 'b', 'c']);
    expect(sent.metadata).toEqual(input.metadata);
    expect(sent.cells.map(cell => cell.source)).toEqual(
      input.cells.map(cell => cell.source)
    );
    expect(sent.cells.map(cell => cell.metadata)).toEqual(
      input.cells.map(cell => cell.metadata)
    );
    expect((sent.cells[0] as nbformat.IMarkdownCell).attachments).toEqual(
      (input.cells[0] as nbformat.IMarkdownCell).attachments
    );
    expect(sent.cells.map(cell => cell.cell_type)).toEqual([
      'markdown',
      'code',
      'raw'
    ]);
  });

  it('gives every cell its model id and says nbformat 4.5', () => {
    const sent = jobNotebook(worked(), ['a', 'b', 'c']);
    expect(sent.cells.map(cell => cell.id)).toEqual(['a', 'b', 'c']);
    expect([sent.nbformat, sent.nbformat_minor]).toEqual([4, 5]);
  });

  it('keeps ids the content already has where the model has none', () => {
    const input = worked();
    input.nbformat_minor = 5;
    input.cells.forEach((cell, index) => (cell.id = `disk-${index}`));
    const sent = jobNotebook(input, []);
    expect(sent.cells.map(cell => cell.id)).toEqual([
      'disk-0',
      'disk-1',
      'disk-2'
    ]);
  });

  it('leaves the content it was given as it was', () => {
    const input = worked();
    const before = JSON.parse(JSON.stringify(input));
    jobNotebook(input, ['a', 'b', 'c']);
    expect(input).toEqual(before);
  });

  it('takes the ids and unsaved edits of a model loaded from an old notebook, whose own outputs stay', () => {
    const model = new NotebookModel();
    model.fromJSON(worked());
    model.sharedModel.cells[1].setSource('lr = 0.5\nsteps = 3');
    const content = model.toJSON() as nbformat.INotebookContent;
    const ids = model.sharedModel.cells.map(cell => cell.id);
    expect(ids.every(id => typeof id === 'string' && id.length > 0)).toBe(true);

    const sent = jobNotebook(content, ids);
    expect(sent.cells.map(cell => cell.id)).toEqual(ids);
    expect(sent.cells[1].source).toBe('lr = 0.5\nsteps = 3');
    expect((sent.cells[1] as nbformat.ICodeCell).outputs).toEqual([]);
    // What the person sees is the live writer's business, not the submit's.
    const shown = model.toJSON() as nbformat.INotebookContent;
    expect((shown.cells[1] as nbformat.ICodeCell).outputs).toHaveLength(2);
    expect((shown.cells[1] as nbformat.ICodeCell).execution_count).toBe(7);
    model.dispose();
  });
});
