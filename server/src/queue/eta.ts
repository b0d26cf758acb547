/**
 * Queue ETA: when will each queued job start? A pure estimate, documented in docs/protocol.md.
 *
 * Per pool (profile): the typical duration is the median of the last recorded durations of
 * succeeded jobs on that profile. A running job is expected to end at
 * max(typical - elapsed, FLOOR) from now; the pool's free slots are free now. Queued jobs, in
 * admission order, each take the slot that frees first and hold it for the typical duration.
 * Without any history the ETA is unknown (null), never a made-up number.
 */

export interface EtaInput {
  capacity: number;
  /** Elapsed seconds of the pool's running jobs. */
  runningElapsed: number[];
  /** Queued job ids in admission order. */
  order: string[];
  /** Durations (seconds) of past succeeded jobs on the pool's profile. */
  history: number[];
}

export interface Eta {
  seconds: number | null;
  basis: string;
}

const FLOOR_SECONDS = 5;

export function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function estimateStarts(
  profile: string,
  input: EtaInput
): Map<string, Eta> {
  const out = new Map<string, Eta>();
  const typical = median(input.history);
  if (typical === undefined) {
    for (const id of input.order)
      out.set(id, {
        seconds: null,
        basis: `unknown: no finished jobs on profile ${profile} yet`
      });
    return out;
  }
  const basis = `median of ${input.history.length} past ${profile} job${input.history.length === 1 ? '' : 's'} (${Math.round(typical)} s) and the running jobs' elapsed time`;
  // When each slot frees, ascending. Slots beyond capacity (over-committed) do not exist.
  const slots = input.runningElapsed.map(e =>
    Math.max(typical - e, FLOOR_SECONDS)
  );
  while (slots.length < input.capacity) slots.push(0);
  slots.sort((a, b) => a - b);
  if (!slots.length) {
    for (const id of input.order)
      out.set(id, {
        seconds: null,
        basis: `unknown: profile ${profile} has no capacity`
      });
    return out;
  }
  for (const id of input.order) {
    const start = slots.shift() as number;
    out.set(id, { seconds: Math.round(start), basis });
    // Insert start + typical keeping the list sorted (capacity is small).
    const end = start + typical;
    let i = 0;
    while (i < slots.length && slots[i] <= end) i++;
    slots.splice(i, 0, end);
  }
  return out;
}

/** The calibrated estimate (ranges, ends, per-user history) that the views carry: estimate/. */
export { estimatePool } from './estimate/pool';
export type { JobEstimate, PoolInput, Range } from './estimate/pool';
export { DurationHistory } from './estimate/history';
