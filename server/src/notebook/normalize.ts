import { randomBytes } from 'crypto';
import type { Notebook } from '../jobs/types';
import { isObject } from './problem';

type Json = Record<string, unknown>;

/** JSON mime types keep their value as it is (an object, a list), as nbformat's rejoin_lines does. */
const isJsonMime = (mime: string): boolean =>
  mime === 'application/json' ||
  (mime.startsWith('application/') && mime.endsWith('+json'));

const joined = (v: unknown): unknown =>
  Array.isArray(v) && v.every(s => typeof s === 'string') ? v.join('') : v;

function rejoinMimebundle(data: unknown): unknown {
  if (!isObject(data)) return data;
  const out: Json = {};
  for (const [mime, value] of Object.entries(data))
    out[mime] = isJsonMime(mime) ? value : joined(value);
  return out;
}

function rejoinOutput(output: unknown): unknown {
  if (!isObject(output)) return output;
  if (
    output.output_type === 'execute_result' ||
    output.output_type === 'display_data'
  )
    return { ...output, data: rejoinMimebundle(output.data) };
  if (output.output_type === 'stream')
    return { ...output, text: joined(output.text) };
  return output;
}

/** nbformat's own: 8 hex digits (valid for the 4.5 schema's `^[a-zA-Z0-9-_]+$`, 1-64 chars). */
function newCellId(taken: Set<string>): string {
  for (;;) {
    const id = randomBytes(4).toString('hex');
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

/** Code cells without outputs or execution counts; everything else (attachments, metadata) kept. */
export function stripOutputs<T>(nb: T): T {
  if (!isObject(nb) || !Array.isArray(nb.cells)) return nb;
  return {
    ...nb,
    cells: nb.cells.map((cell: unknown) =>
      isObject(cell) && cell.cell_type === 'code'
        ? { ...cell, outputs: [], execution_count: null }
        : cell
    )
  } as T;
}

/**
 * A valid nbformat 4.x notebook as nbformat 4.5 in memory: multiline strings (sources, stream
 * texts, non-JSON mime values, attachments) joined into strings as nbformat's `rejoin_lines`
 * does, a unique id for every cell that has none, and `nbformat_minor` 5. A new object: the
 * input is left as it was.
 */
export function normalizeNotebook(nb: Notebook): Notebook {
  const taken = new Set<string>(
    nb.cells.map(c => c.id).filter((id): id is string => typeof id === 'string')
  );
  const cells = nb.cells.map(cell => {
    const out: Json = { ...cell, source: joined(cell.source) };
    if (typeof out.id !== 'string') out.id = newCellId(taken);
    if (isObject(cell.attachments)) {
      const attachments: Json = {};
      for (const [name, bundle] of Object.entries(cell.attachments))
        attachments[name] = rejoinMimebundle(bundle);
      out.attachments = attachments;
    }
    if (cell.cell_type === 'code' && Array.isArray(cell.outputs))
      out.outputs = cell.outputs.map(rejoinOutput);
    return out;
  });
  return { ...nb, nbformat: 4, nbformat_minor: 5, cells };
}
