import type { JobEvent } from '../jobs/types';

/** UTF-8 bytes of a value's JSON. */
export const jsonBytes = (value: unknown): number =>
  Buffer.byteLength(JSON.stringify(value));

/** Room kept for the note that says how much was cut. */
const NOTE_ROOM = 96;

/**
 * The longest start of `text` whose JSON string fits `budget` bytes, and how many UTF-8 bytes
 * of `text` are left out.
 */
function cut(text: string, budget: number): { kept: string; left: number } {
  let n = Math.min(text.length, Math.max(0, budget));
  for (;;) {
    if (n > 0 && /[\ud800-\udbff]/.test(text[n - 1])) n -= 1; // never half a surrogate pair
    const bytes = jsonBytes(text.slice(0, n));
    if (bytes <= budget || n === 0) break;
    n = Math.floor((n * budget) / bytes) - 1;
  }
  const kept = text.slice(0, Math.max(0, n));
  return { kept, left: Buffer.byteLength(text) - Buffer.byteLength(kept) };
}

/** `text` cut to fit `budget` bytes of JSON, ending "… [truncated N bytes]". */
function cutWithNote(text: string, budget: number): string {
  const { kept, left } = cut(text, budget - NOTE_ROOM);
  return `${kept}… [truncated ${left} bytes]\n`;
}

/** What a viewer shows instead of a rich output (an image, HTML, …) too large to go live. */
function richNote(bytes: number): string {
  return `[nbqueue: this output is ${(bytes / 1_000_000).toFixed(1)} MB, too large to show live; open the result to see it]`;
}

type Output = Record<string, unknown> & { output_type?: unknown };

function fitOutput(output: Output, bytes: number, budget: number): Output {
  if (output.output_type === 'stream' && typeof output.text === 'string') {
    const rest = jsonBytes({ ...output, text: '' });
    return { ...output, text: cutWithNote(output.text, budget - rest) };
  }
  const note = richNote(bytes);
  if (output.output_type === 'error')
    return {
      output_type: 'error',
      ename: String(output.ename ?? '').slice(0, 200),
      evalue: note,
      traceback: [note]
    };
  const shown: Output = {
    output_type:
      output.output_type === 'execute_result'
        ? 'execute_result'
        : 'display_data',
    data: { 'text/plain': note },
    metadata: {}
  };
  if (shown.output_type === 'execute_result')
    shown.execution_count = output.execution_count ?? null;
  return shown;
}

/**
 * An event that fits `maxBytes` of JSON: the event itself when it does, else a cut copy with the
 * same seq (replay stays gap-free). A stream's or a log's text keeps its start and ends
 * "… [truncated N bytes]"; a rich output becomes a text note; anything else a `log` warning
 * saying what was left out. The result notebook keeps every output whole.
 */
export function fitEvent(event: JobEvent, maxBytes: number): JobEvent {
  const bytes = jsonBytes(event);
  if (bytes <= maxBytes) return event;
  let fitted: JobEvent | undefined;
  const output = (event as { output?: unknown }).output;
  if (
    (event.type === 'output' || event.type === 'update_display_data') &&
    output &&
    typeof output === 'object'
  ) {
    const rest = jsonBytes({ ...event, output: {} });
    fitted = {
      ...event,
      output: fitOutput(output as Output, bytes, maxBytes - rest)
    };
    if (event.type === 'update_display_data')
      fitted = {
        ...fitted,
        output: { ...(fitted.output as Output), output_type: 'display_data' }
      };
  } else if (event.type === 'log' && typeof event.message === 'string') {
    const rest = jsonBytes({ ...event, message: '' });
    fitted = { ...event, message: cutWithNote(event.message, maxBytes - rest) };
  }
  if (fitted && jsonBytes(fitted) <= maxBytes) return fitted;
  const cell =
    typeof event.cell_id === 'string' && event.cell_id.length <= 256
      ? { cell_id: event.cell_id, cell_index: event.cell_index }
      : {};
  return {
    seq: event.seq,
    time: event.time,
    type: 'log',
    level: 'warning',
    message: `Event ${event.seq} (${String(event.type).slice(0, 40)}) was ${bytes} bytes, over the limit of ${maxBytes} bytes on one event, and is not shown live; the result notebook has its output.`,
    ...cell
  } as JobEvent;
}
