import type { JobEvent } from '../src/jobs/types';

type Output = Record<string, unknown> & { output_type: string };
type Cell = Record<string, unknown> & { id?: string; outputs?: Output[] };

const text = (t: unknown): string =>
  Array.isArray(t) ? t.join('') : String(t ?? '');

/** Consecutive stream outputs of one name read as one (as JupyterLab shows them). */
export function coalesce(outputs: Output[]): Output[] {
  const out: Output[] = [];
  for (const o of outputs) {
    const prev = out[out.length - 1];
    if (
      o.output_type === 'stream' &&
      prev?.output_type === 'stream' &&
      prev.name === o.name
    ) {
      out[out.length - 1] = { ...prev, text: text(prev.text) + text(o.text) };
    } else {
      out.push(o.output_type === 'stream' ? { ...o, text: text(o.text) } : o);
    }
  }
  return out;
}

/**
 * Applies a job's events to its notebook the way a viewer does, independently of the
 * labextension's code, to check what was streamed against the stored result.
 */
export function replay(
  cells: Cell[],
  events: JobEvent[]
): Map<string, { outputs: Output[]; execution_count: unknown }> {
  const state = new Map<
    string,
    { outputs: Output[]; execution_count: unknown; clearNext: boolean }
  >();
  const displays = new Map<string, Array<[string, number]>>();
  for (const c of cells)
    if (c.id)
      state.set(c.id, { outputs: [], execution_count: null, clearNext: false });
  for (const ev of events) {
    const cell = ev.cell_id ? state.get(String(ev.cell_id)) : undefined;
    switch (ev.type) {
      case 'cell_started':
        if (cell) cell.outputs = [];
        break;
      case 'output':
        if (!cell) break;
        if (cell.clearNext) {
          cell.outputs = [];
          cell.clearNext = false;
        }
        cell.outputs.push(ev.output as Output);
        if (ev.display_id) {
          const list = displays.get(String(ev.display_id)) ?? [];
          list.push([String(ev.cell_id), cell.outputs.length - 1]);
          displays.set(String(ev.display_id), list);
        }
        break;
      case 'clear_output':
        if (!cell) break;
        if (ev.wait) cell.clearNext = true;
        else cell.outputs = [];
        break;
      case 'update_display_data':
        for (const [cellId, index] of displays.get(String(ev.display_id)) ??
          []) {
          const target = state.get(cellId);
          const old = target?.outputs[index];
          if (target && old)
            target.outputs[index] = {
              ...old,
              data: (ev.output as Output).data,
              metadata: (ev.output as Output).metadata
            };
        }
        break;
      case 'execution_count':
        if (cell) cell.execution_count = ev.execution_count;
        break;
    }
  }
  return new Map(
    [...state].map(([id, c]) => [
      id,
      { outputs: c.outputs, execution_count: c.execution_count }
    ])
  );
}
