import type { ICodeCellModel } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import { NotebookModel } from '@jupyterlab/notebook';
import type { IOutputAreaModel } from '@jupyterlab/outputarea';

import type { INotebookAdapter } from '../live/adapter';
import { LiveWriter } from '../live/writer';
import type { IAttemptEvent, IUpdateDisplayDataEvent } from '../service/events';
import { EventLog } from './fixtures';

/** The writer's adapter over a real NotebookModel, as in a NotebookPanel. */
class ModelAdapter implements INotebookAdapter {
  marks = new Map<string, boolean>();
  restarted?: (event: IAttemptEvent) => void;

  constructor(readonly model: NotebookModel) {}

  outputs(cellId: string): IOutputAreaModel | null {
    return this.cell(cellId)?.outputs ?? null;
  }

  setExecutionCount(cellId: string, count: number | null): boolean {
    const cell = this.cell(cellId);
    if (!cell) {
      return false;
    }
    cell.executionCount = count;
    return true;
  }

  mark(cellId: string, running: boolean): void {
    this.marks.set(cellId, running);
  }

  cell(cellId: string): ICodeCellModel | null {
    for (let i = 0; i < this.model.cells.length; i++) {
      const cell = this.model.cells.get(i);
      if (cell.id === cellId) {
        return cell as ICodeCellModel;
      }
    }
    return null;
  }

  json(cellId: string): nbformat.IOutput[] {
    return this.outputs(cellId)!.toJSON();
  }
}

function notebook(...ids: string[]): ModelAdapter {
  const model = new NotebookModel();
  model.sharedModel.insertCells(
    0,
    ids.map(id => ({
      cell_type: 'code' as const,
      id,
      source: `# cell ${id}`,
      metadata: { tags: ['keep'] }
    }))
  );
  return new ModelAdapter(model);
}

describe('LiveWriter', () => {
  let log: EventLog;

  beforeEach(() => {
    log = new EventLog();
  });

  it('clears a cell when it starts and marks it until it finishes', () => {
    const nb = notebook('a');
    nb.outputs('a')!.add({
      output_type: 'stream',
      name: 'stdout',
      text: 'old\n'
    });
    nb.setExecutionCount('a', 7);
    const writer = new LiveWriter(nb);

    writer.apply([log.runStarted(1), log.cellStarted('a')]);
    expect(nb.json('a')).toEqual([]);
    expect(nb.cell('a')!.executionCount).toBeNull();
    expect(nb.marks.get('a')).toBe(true);
    expect([...writer.runningCells]).toEqual(['a']);

    writer.apply([log.cellFinished('a')]);
    expect(nb.marks.get('a')).toBe(false);
    expect(writer.runningCells.size).toBe(0);
  });

  it('merges consecutive stream outputs of the same name', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.stream('a', 'epoch 1\n'),
      log.stream('a', 'epoch 2\n'),
      log.stream('a', 'warn\n', 'stderr'),
      log.stream('a', 'epoch 3\n')
    ]);
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'epoch 1\nepoch 2\n' },
      { output_type: 'stream', name: 'stderr', text: 'warn\n' },
      { output_type: 'stream', name: 'stdout', text: 'epoch 3\n' }
    ]);
  });

  it('applies carriage returns the way a live kernel output would', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.stream('a', '10%\r'),
      log.stream('a', '100%\n')
    ]);
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: '100%\n' }
    ]);
  });

  it('clears at once on clear_output without wait', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.stream('a', 'one\n'),
      log.clear('a', false)
    ]);
    expect(nb.json('a')).toEqual([]);
  });

  it('clears just before the next output on clear_output with wait', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.stream('a', 'frame 1\n'),
      log.clear('a', true)
    ]);
    // OutputAreaModel.clear(true) keeps the old output until the next one.
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'frame 1\n' }
    ]);
    writer.apply([log.stream('a', 'frame 2\n')]);
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'frame 2\n' }
    ]);
  });

  it('updates every output of a display id, across cells', () => {
    const nb = notebook('a', 'b');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.stream('a', 'before\n'),
      log.display('a', 'progress 0%', 'bar'),
      log.display('a', 'unrelated'),
      log.cellFinished('a'),
      log.cellStarted('b', 1),
      log.display('b', 'progress 0% again', 'bar'),
      log.updateDisplay('bar', 'progress 50%')
    ]);
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'before\n' },
      {
        output_type: 'display_data',
        data: { 'text/plain': 'progress 50%' },
        metadata: {}
      },
      {
        output_type: 'display_data',
        data: { 'text/plain': 'unrelated' },
        metadata: {}
      }
    ]);
    expect(nb.json('b')).toEqual([
      {
        output_type: 'display_data',
        data: { 'text/plain': 'progress 50%' },
        metadata: {}
      }
    ]);
  });

  it('shows a widget as its text fallback, its view kept out of the live cell', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    const view = {
      'text/plain': 'IntSlider(value=3)',
      'application/vnd.jupyter.widget-view+json': {
        model_id: 'f00d',
        version_major: 2,
        version_minor: 0
      }
    };
    const plot = { 'text/plain': 'Figure', 'image/png': 'iVBORw0KGgo=' };
    writer.apply([
      log.cellStarted('a'),
      log.output('a', {
        output_type: 'display_data',
        data: view,
        metadata: {}
      }),
      log.output('a', { output_type: 'display_data', data: plot, metadata: {} })
    ]);
    expect(nb.json('a')).toEqual([
      {
        output_type: 'display_data',
        data: { 'text/plain': 'IntSlider(value=3)' },
        metadata: {}
      },
      { output_type: 'display_data', data: plot, metadata: {} }
    ]);
  });

  it('skips an update the sidecar marked superseded by a later one', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    const stale = log.updateDisplay(
      'chart',
      'never shown'
    ) as IUpdateDisplayDataEvent;
    writer.apply([
      log.cellStarted('a'),
      log.display('a', 'chart, 1 point', 'chart'),
      { ...stale, output: undefined, superseded_by: stale.seq + 1 },
      log.updateDisplay('chart', 'chart, 3 points')
    ]);
    expect(nb.json('a')).toEqual([
      {
        output_type: 'display_data',
        data: { 'text/plain': 'chart, 3 points' },
        metadata: {}
      }
    ]);
  });

  it('showing a display id again updates its earlier outputs', () => {
    const nb = notebook('a', 'b');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.display('a', 'v1', 'same'),
      log.cellFinished('a'),
      log.cellStarted('b', 1),
      log.display('b', 'v2', 'same')
    ]);
    const v2 = {
      output_type: 'display_data',
      data: { 'text/plain': 'v2' },
      metadata: {}
    };
    expect(nb.json('a')).toEqual([v2]);
    expect(nb.json('b')).toEqual([v2]);
  });

  it('forgets the displays of a cleared cell', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.display('a', 'old', 'd'),
      log.clear('a', true),
      log.stream('a', 'new\n'),
      log.updateDisplay('d', 'must not land on the stream')
    ]);
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'new\n' }
    ]);
  });

  it('sets the execution count', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    writer.apply([
      log.cellStarted('a'),
      log.executionCount('a', 3),
      log.error('a')
    ]);
    expect(nb.cell('a')!.executionCount).toBe(3);
    expect(nb.json('a')[0].output_type).toBe('error');
  });

  it('skips cells deleted meanwhile and touches nothing else', () => {
    const nb = notebook('a', 'b');
    const writer = new LiveWriter(nb);
    writer.apply([log.cellStarted('a'), log.stream('a', 'a\n')]);
    nb.model.sharedModel.deleteCell(0);
    const result = writer.apply([
      log.stream('a', 'lost\n'),
      log.executionCount('a', 1),
      log.cellFinished('a'),
      log.cellStarted('b', 1),
      log.stream('b', 'b\n'),
      log.metric('loss', 0.5, 1),
      log.log('hello')
    ]);
    expect(result.applied.map(e => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(writer.lastSeq).toBe(9);
    expect(nb.model.cells.length).toBe(1);
    expect(nb.json('b')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'b\n' }
    ]);
    const b = nb.cell('b')!;
    expect(b.sharedModel.getSource()).toBe('# cell b');
    expect(b.sharedModel.getMetadata()).toEqual({ tags: ['keep'] });
  });

  it('drops duplicate and already applied events', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    const started = log.cellStarted('a');
    const hello = log.stream('a', 'hello\n');
    writer.apply([started, hello]);
    // A reconnect that re-sends what was applied, and a duplicate in a batch.
    const result = writer.apply([started, hello, hello]);
    expect(result).toEqual({ applied: [], missingAfter: null });
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'hello\n' }
    ]);
  });

  it('holds events after a gap until the gap is filled, in seq order', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb);
    const events = [
      log.cellStarted('a'),
      log.stream('a', '1\n'),
      log.stream('a', '2\n'),
      log.stream('a', '3\n'),
      log.stream('a', '4\n')
    ];
    writer.apply([events[0], events[1]]);

    const ahead = writer.apply([events[4], events[3]]);
    expect(ahead).toEqual({ applied: [], missingAfter: 2 });
    expect(writer.lastSeq).toBe(2);

    // What GET /api/jobs/:id/events?after=2 returns: overlaps what is held.
    const filled = writer.apply(events.slice(2));
    expect(filled.applied.map(e => e.seq)).toEqual([3, 4, 5]);
    expect(filled.missingAfter).toBeNull();
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: '1\n2\n3\n4\n' }
    ]);
  });

  it('re-applied from seq 0 on a fresh view, gives the same outputs', () => {
    const nb = notebook('a');
    const events = [
      log.cellStarted('a'),
      log.executionCount('a', 1),
      log.stream('a', 'x\n'),
      log.display('a', 'd0', 'd'),
      log.updateDisplay('d', 'd1'),
      log.cellFinished('a')
    ];
    new LiveWriter(nb).apply(events);
    const first = nb.json('a');
    new LiveWriter(nb).apply(events);
    expect(nb.json('a')).toEqual(first);
    expect(nb.cell('a')!.executionCount).toBe(1);
  });

  it('resumes after the seq it is given', () => {
    const nb = notebook('a');
    const writer = new LiveWriter(nb, 5);
    log.cellStarted('a');
    log.stream('a', 'seen\n');
    log.stream('a', 'seen\n');
    log.stream('a', 'seen\n');
    log.stream('a', 'seen\n');
    expect(writer.apply([log.stream('a', 'new\n')]).applied).toHaveLength(1);
    expect(writer.lastSeq).toBe(6);
  });

  it('removes every mark with unmarkAll', () => {
    const nb = notebook('a', 'b');
    const writer = new LiveWriter(nb);
    writer.apply([log.cellStarted('a'), log.cellStarted('b', 1)]);
    writer.unmarkAll();
    expect(nb.marks.get('a')).toBe(false);
    expect(nb.marks.get('b')).toBe(false);
  });

  it('on a restart, unmarks the stopped attempt and says so; the next one starts over', () => {
    const nb = notebook('a');
    const restarts: IAttemptEvent[] = [];
    nb.restarted = (event: IAttemptEvent) => restarts.push(event);
    const writer = new LiveWriter(nb);
    writer.apply([log.cellStarted('a'), log.stream('a', 'attempt 1\n')]);
    expect(nb.marks.get('a')).toBe(true);

    writer.apply([log.attempt(2, 3)]);
    expect(nb.marks.get('a')).toBe(false);
    expect(writer.runningCells.size).toBe(0);
    expect(restarts.map(e => [e.attempt, e.max_attempts, e.cause])).toEqual([
      [2, 3, 'preemption']
    ]);
    // Attempt 2's events follow the marker's seq and replace attempt 1's outputs.
    writer.apply([log.cellStarted('a'), log.stream('a', 'attempt 2\n')]);
    expect(nb.json('a')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'attempt 2\n' }
    ]);
    expect(writer.lastSeq).toBe(5);
  });
});
